"""Divisions, roles, accounts, approval requests and the logs (R-ACCOUNT, R-AUDIT)."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import now
from portal.models.base import Base, Timestamps, max_len, one_of

ROLE_CODES = ("clerk", "division_head", "division_admin", "group_manager", "sysadmin")
# Roles that belong to one division; the other two see every division (R-SCOPE-1).
DIVISION_ROLES = ("clerk", "division_head", "division_admin")
USER_STATES = ("active", "frozen", "deactivated")
LOCALES = ("zh_Hans_CN", "en")
REQUEST_STATES = ("draft", "submitted", "approved", "rejected", "executed")
ACCOUNT_CHANGES = ("create", "role_change", "freeze", "unfreeze", "deactivate")


class Division(Base):
    """版块: a walled garden of customers and staff (R-SCOPE-1)."""

    __tablename__ = "divisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(50), nullable=False)

    def __str__(self) -> str:
        return self.name


class Role(Base):
    """The five roles of REQUIREMENTS §1, as data; what each may do is portal/permissions.py."""

    __tablename__ = "roles"
    __table_args__ = (one_of("code", ROLE_CODES),)
    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(50), nullable=False)
    sort_order: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    def __str__(self) -> str:
        return self.name


def _new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(Timestamps, Base):
    __tablename__ = "users"
    __table_args__ = (
        one_of("state", USER_STATES),
        one_of("locale", LOCALES),
        max_len("username", 50),
        max_len("display_name", 50),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(String(50), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(256), nullable=False)
    role_code: Mapped[str] = mapped_column(ForeignKey("roles.code"), nullable=False)
    division_id: Mapped[int | None] = mapped_column(ForeignKey("divisions.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), nullable=False, default="active")
    locale: Mapped[str] = mapped_column(String(10), nullable=False, default="zh_Hans_CN")
    mobile: Mapped[str | None] = mapped_column(String(11))
    # Flask-Login's get_id(): rotating it ends every session and remember cookie.
    session_token: Mapped[str] = mapped_column(
        String(64), unique=True, nullable=False, default=_new_session_token
    )
    failed_logins: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Set when the account starts with a temporary password: sign-in leads to /password.
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )

    role: Mapped[Role] = relationship(lazy="joined")
    division: Mapped[Division | None] = relationship(lazy="joined")

    # Flask-Login protocol, written out so the id is the revocable token.
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.state == "active"

    def get_id(self) -> str:
        return self.session_token

    def rotate_session_token(self) -> None:
        self.session_token = _new_session_token()

    def __str__(self) -> str:
        return self.display_name


class LoginLog(Base):
    """Every sign-in attempt, successful or not (R-AUDIT-1)."""

    __tablename__ = "login_logs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=now, index=True)
    username: Mapped[str] = mapped_column(String(50), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    ip: Mapped[str | None] = mapped_column(String(45))
    success: Mapped[bool] = mapped_column(Boolean, nullable=False)
    reason: Mapped[str] = mapped_column(String(30), nullable=False, default="")
    user: Mapped[User | None] = relationship()


class AuditLog(Base):
    """Who did what to which record, with the changed fields (R-AUDIT-1)."""

    __tablename__ = "audit_logs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=now, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    division_id: Mapped[int | None] = mapped_column(ForeignKey("divisions.id"), index=True)
    ip: Mapped[str | None] = mapped_column(String(45))
    action: Mapped[str] = mapped_column(String(30), nullable=False, index=True)
    model: Mapped[str] = mapped_column(String(50), nullable=False, default="")
    record_id: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    # JSON text {field: [old, new]}; mobiles already masked (R-AUDIT-2).
    changes: Mapped[str | None] = mapped_column(Text)
    user: Mapped[User | None] = relationship()
    division: Mapped[Division | None] = relationship()


class AccountRequest(Timestamps, Base):
    """信息系统用户管理及权限变更审批表 (R-ACCOUNT-1)."""

    __tablename__ = "account_requests"
    __table_args__ = (
        one_of("state", REQUEST_STATES),
        one_of("change_type", ACCOUNT_CHANGES),
        max_len("reason", 500),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True, nullable=False)
    division_id: Mapped[int] = mapped_column(ForeignKey("divisions.id"), nullable=False, index=True)
    change_type: Mapped[str] = mapped_column(String(20), nullable=False)
    target_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    person_name: Mapped[str] = mapped_column(String(50), nullable=False)
    username: Mapped[str | None] = mapped_column(String(50))
    requested_role_code: Mapped[str | None] = mapped_column(ForeignKey("roles.code"))
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    handover_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(20), nullable=False, default="draft", index=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision_note: Mapped[str | None] = mapped_column(String(500))
    executed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    executed_at: Mapped[datetime | None] = mapped_column(DateTime)

    division: Mapped[Division] = relationship()
    target_user: Mapped[User | None] = relationship(foreign_keys=[target_user_id])
    requested_role: Mapped[Role | None] = relationship()
    handover_to: Mapped[User | None] = relationship(foreign_keys=[handover_to_id])
    applicant: Mapped[User] = relationship(foreign_keys=[applicant_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    executed_by: Mapped[User | None] = relationship(foreign_keys=[executed_by_id])

    def __str__(self) -> str:
        return self.number


transfer_request_customers = Table(
    "transfer_request_customers",
    Base.metadata,
    Column("request_id", ForeignKey("transfer_requests.id", ondelete="CASCADE"), primary_key=True),
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True),
)


class TransferRequest(Timestamps, Base):
    """跨版块分配申请: customers move across divisions after group approval (R-ACCOUNT-5)."""

    __tablename__ = "transfer_requests"
    __table_args__ = (one_of("state", REQUEST_STATES), max_len("reason", 500))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True, nullable=False)
    from_division_id: Mapped[int] = mapped_column(ForeignKey("divisions.id"), nullable=False)
    to_division_id: Mapped[int] = mapped_column(ForeignKey("divisions.id"), nullable=False)
    new_owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    state: Mapped[str] = mapped_column(String(20), nullable=False, default="draft", index=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision_note: Mapped[str | None] = mapped_column(String(500))
    executed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    executed_at: Mapped[datetime | None] = mapped_column(DateTime)

    from_division: Mapped[Division] = relationship(foreign_keys=[from_division_id])
    to_division: Mapped[Division] = relationship(foreign_keys=[to_division_id])
    new_owner: Mapped[User | None] = relationship(foreign_keys=[new_owner_id])
    applicant: Mapped[User] = relationship(foreign_keys=[applicant_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    customers = relationship("Customer", secondary=transfer_request_customers)

    @property
    def division_id(self) -> int:
        return self.from_division_id

    def __str__(self) -> str:
        return self.number
