"""资料共享人 (R-SCOPE-2): the owner or the division head lets colleagues of the division
see a customer, read-only or read-write, maybe until a date.

What a share grants is decided in portal/scope.py (the customer, its contacts,
opportunities, orders, follow-ups and service requests); this module only says who may
grant it to whom, and records every grant and revocation in the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from portal.clock import now
from portal.models import Customer, CustomerShare, User
from portal.services import BusinessRuleError
from portal.services.audit import record_event

# Heads and admins already see the whole division (R-SCOPE-3): only clerks need a share.
SHAREABLE_ROLES = ("clerk",)


@dataclass(frozen=True)
class ShareLine:
    """A share as the customer's page lists it."""

    share: CustomerShare
    expired: bool


def may_share(customer: Customer, by: User) -> bool:
    """The owner of a customer, or the head of its division; never a pool customer."""
    if customer.owner_id is None or by.division_id != customer.division_id:
        return False
    return by.id == customer.owner_id or by.role_code == "division_head"


def _check_may_share(customer: Customer, by: User) -> None:
    if customer.owner_id is None:
        raise BusinessRuleError(_l("公海客户本版块的业务人员都能看到，无需共享"))
    if not may_share(customer, by):
        raise BusinessRuleError(_l("只有客户负责人或本版块负责人可以设置共享"))


def _check_colleague(customer: Customer, colleague: User, by: User) -> None:
    if colleague.id == by.id:
        raise BusinessRuleError(_l("不能与自己共享客户"))
    if colleague.division_id != customer.division_id:
        raise BusinessRuleError(_l("只能与本版块的同事共享客户"))
    if colleague.id == customer.owner_id:
        raise BusinessRuleError(_l("%(name)s 是该客户的负责人，无需共享", name=colleague))
    if colleague.role_code not in SHAREABLE_ROLES:
        raise BusinessRuleError(_l("%(name)s 已能看到本版块的全部客户，无需共享", name=colleague))
    if colleague.state != "active":
        raise BusinessRuleError(_l("%(name)s 的账号已冻结或停用，不能共享", name=colleague))


def _terms(share: CustomerShare) -> dict:
    return {
        "can_edit": share.can_edit,
        "until": share.until.isoformat() if share.until else None,
    }


def share_customer(
    session: Session,
    customer: Customer,
    colleague: User,
    *,
    by: User,
    can_edit: bool = False,
    until: date | None = None,
    ip: str | None = None,
) -> CustomerShare:
    """Share the customer with a colleague of its division; sharing again changes the terms."""
    _check_may_share(customer, by)
    _check_colleague(customer, colleague, by)
    if until is not None and until < now().date():
        raise BusinessRuleError(_l("共享截止日期不能早于今天"))
    share = session.scalar(
        select(CustomerShare).where(
            CustomerShare.customer_id == customer.id, CustomerShare.user_id == colleague.id
        )
    )
    before = _terms(share) if share is not None else {"can_edit": None, "until": None}
    if share is None:
        share = CustomerShare(customer_id=customer.id, user_id=colleague.id)
        session.add(share)
    share.can_edit = bool(can_edit)
    share.until = until
    after = _terms(share)
    changes = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    changes["shared_with"] = [None, colleague.username]
    record_event(
        session,
        "share",
        customer,
        user=by,
        ip=ip,
        summary=f"{customer} → {colleague.display_name}（{colleague.username}）",
        changes=changes,
    )
    session.flush()
    return share


def revoke_share(
    session: Session, share: CustomerShare, *, by: User, ip: str | None = None
) -> None:
    """End a share at once; the colleague's next request answers 404 (R-SCOPE-4)."""
    customer = share.customer
    _check_may_share(customer, by)
    colleague = session.get(User, share.user_id)
    record_event(
        session,
        "unshare",
        customer,
        user=by,
        ip=ip,
        summary=f"{customer} ✕ {colleague.display_name}（{colleague.username}）",
        changes={"shared_with": [colleague.username, None]},
    )
    session.delete(share)
    session.flush()


def end_shares(session: Session, customer_ids: Sequence[int] | Select) -> int:
    """Drop every share of these customers (a list or a SELECT of ids): a new owner grants
    his own (ownership change)."""
    if isinstance(customer_ids, Sequence) and not customer_ids:
        return 0
    result = session.execute(
        delete(CustomerShare).where(CustomerShare.customer_id.in_(customer_ids))
    )
    return result.rowcount or 0


def share_lines(session: Session, customer: Customer) -> list[ShareLine]:
    """The customer's shares, current ones first, for its page."""
    today = now().date()
    shares = session.scalars(
        select(CustomerShare)
        .join(User, User.id == CustomerShare.user_id)
        .where(CustomerShare.customer_id == customer.id)
        .order_by(User.username)
    ).all()
    lines = [ShareLine(s, s.until is not None and s.until < today) for s in shares]
    return sorted(lines, key=lambda line: line.expired)


def share_candidates(session: Session, customer: Customer, *, by: User) -> list[User]:
    """Colleagues the customer may be shared with: active clerks of its division."""
    return list(
        session.scalars(
            select(User)
            .where(
                User.division_id == customer.division_id,
                User.role_code.in_(SHAREABLE_ROLES),
                User.state == "active",
                User.id != by.id,
                User.id != customer.owner_id,
            )
            .order_by(User.username)
        )
    )
