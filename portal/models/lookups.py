"""Lookup data (基础数据): small code tables seeded from seeds/*.csv, edited by sysadmin."""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base


class Lookup(Base):
    """A coded, named, ordered entry; the natural `code` makes seed loading an upsert."""

    __abstract__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(50), nullable=False)
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default="1")

    def __str__(self) -> str:
        return self.name


class Industry(Lookup):
    __tablename__ = "industries"


class Source(Lookup):
    """Where a lead or customer came from; some need a referrer (R-ENTRY, Lead)."""

    __tablename__ = "sources"
    needs_referrer: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    needs_introducer: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class CompanyNature(Lookup):
    __tablename__ = "company_natures"


class RevenueBand(Lookup):
    __tablename__ = "revenue_bands"


class EmployeeBand(Lookup):
    __tablename__ = "employee_bands"


class Grade(Lookup):
    """Customer grade and its minimum follow-up interval in days (R-GRADE-1)."""

    __tablename__ = "grades"
    __table_args__ = (CheckConstraint("follow_up_days > 0", name="follow_up_days_positive"),)
    description: Mapped[str] = mapped_column(String(100), default="", server_default="")
    follow_up_days: Mapped[int] = mapped_column(Integer, nullable=False)
    # R-CHURN-1: months without an order before a churn warning, per grade.
    churn_months: Mapped[int] = mapped_column(
        Integer, nullable=False, default=6, server_default="6"
    )


class FollowupTemplate(Lookup):
    """A care plan created when an event happens (R-FOLLOW-3): e.g. 48h after an order.

    `rule` says how the due date is computed: `after_hours` / `after_days` use
    `offset`; `satisfaction_mid_month` is the 20th-or-5th rule of R-FOLLOW-3.
    """

    __tablename__ = "followup_templates"
    __table_args__ = (
        CheckConstraint("trigger IN ('order', 'new_record')", name="trigger_enum"),
        CheckConstraint(
            "rule IN ('after_hours', 'after_days', 'satisfaction_mid_month')", name="rule_enum"
        ),
    )
    trigger: Mapped[str] = mapped_column(String(20), nullable=False)
    rule: Mapped[str] = mapped_column(String(30), nullable=False)
    offset: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    subject: Mapped[str] = mapped_column(String(100), nullable=False)


class Stage(Lookup):
    """Opportunity pipeline stage with its default probability (R-REPORT-4)."""

    __tablename__ = "stages"
    __table_args__ = (
        CheckConstraint("probability BETWEEN 0 AND 100", name="probability_range"),
        CheckConstraint("outcome IN ('open', 'won', 'lost')", name="outcome_enum"),
    )
    probability: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    outcome: Mapped[str] = mapped_column(String(10), nullable=False, default="open")


class LostReason(Lookup):
    __tablename__ = "lost_reasons"


class ServiceType(Lookup):
    __tablename__ = "service_types"


class FeedbackReason(Lookup):
    """Customer feedback recorded when a follow-up is completed (客户反馈)."""

    __tablename__ = "feedback_reasons"


class ServicePriority(Lookup):
    """Service-request priority with its response SLA in hours."""

    __tablename__ = "service_priorities"
    response_hours: Mapped[int] = mapped_column(Integer, nullable=False, default=24)
    resolve_hours: Mapped[int] = mapped_column(Integer, nullable=False, default=72)


class Region(Base):
    """GB/T 2260 administrative division: province (1) → city (2) → county (3)."""

    __tablename__ = "regions"
    __table_args__ = (CheckConstraint("level IN (1, 2, 3)", name="level_enum"),)
    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(50), nullable=False)
    level: Mapped[int] = mapped_column(Integer, nullable=False)
    parent_code: Mapped[str | None] = mapped_column(
        ForeignKey("regions.code"), nullable=True, index=True
    )
    parent: Mapped[Region | None] = relationship(remote_side=[code])

    def __str__(self) -> str:
        return self.name

    @property
    def full_name(self) -> str:
        parts, node = [], self
        while node is not None:
            parts.append(node.name)
            node = node.parent
        return " / ".join(reversed(parts))


LOOKUP_MODELS = [
    Grade,
    Industry,
    Source,
    CompanyNature,
    RevenueBand,
    EmployeeBand,
    Stage,
    LostReason,
    ServiceType,
    ServicePriority,
    FeedbackReason,
    FollowupTemplate,
]
