"""Hand-over (交接) and cross-division moves of customers with everything hanging off them.

R-ACCOUNT-3 (deactivation hands records to a colleague or the pool), R-ACCOUNT-5
(transfers), R-POOL-7 (every ownership change is logged; records move intact).

Set-based UPDATE and INSERT … SELECT statements, so a clerk with thousands of
customers is handed over in a dozen statements rather than one per row. Each UPDATE
bumps `version` so a form opened before the move cannot silently overwrite it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ColumnElement,
    and_,
    delete,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from portal.clock import now
from portal.models import (
    Activity,
    Contact,
    Customer,
    CustomerShare,
    Lead,
    Opportunity,
    Order,
    ServiceRequest,
    User,
)
from portal.services import BusinessRuleError
from portal.services.pool import log_ownership
from portal.services.sharing import end_shares

# Roles that can hold customers (a division admin only reads them).
RECEIVING_ROLES = ("clerk", "division_head")
CLOSED_SERVICE = "archived"


def check_receiver(receiver: User | None, division_id: int, *, giver: User | None = None) -> None:
    """The colleague who receives records: active, same division, able to own customers."""
    if receiver is None:
        return
    if giver is not None and receiver.id == giver.id:
        raise BusinessRuleError(_l("接手人不能是被交接人本人"))
    if receiver.division_id != division_id:
        raise BusinessRuleError(_l("接手人必须是本版块的同事（R-SCOPE-1）"))
    if receiver.state != "active":
        raise BusinessRuleError(
            _l("接手人 %(name)s 的账号不是正常状态，不能接收客户", name=receiver.display_name)
        )
    if receiver.role_code not in RECEIVING_ROLES:
        raise BusinessRuleError(
            _l(
                "接手人须为业务人员或版块负责人（%(name)s 不能持有客户）",
                name=receiver.display_name,
            )
        )


def _bump(model) -> dict:
    return {"version": model.version + 1, "updated_at": now()}


def _update(session: Session, model, where: ColumnElement[bool], **values) -> int:
    stmt = update(model).where(where).values(**values, **_bump(model))
    result = session.execute(stmt, execution_options={"synchronize_session": "fetch"})
    return result.rowcount


def hand_over(
    session: Session,
    from_user: User,
    to_user: User | None,
    *,
    by: User | None,
    reason: str,
    kind: str = "handover",
) -> int:
    """Move all of from_user's customers and records to a colleague, or to the pool (None).

    Customers keep their contacts (owner follows the customer); leads, opportunities,
    pending activities, service requests (and open ones he handles) and orders he owns
    go with them. Returns the number of customers moved.
    """
    if from_user.division_id is None:
        raise BusinessRuleError(_l("只有版块内的账号才有可交接的客户"))
    check_receiver(to_user, from_user.division_id, giver=from_user)
    session.flush()
    at = now()
    to_id = to_user.id if to_user is not None else None
    giver = from_user.id
    owned = Customer.owner_id == giver

    # A new owner grants his own shares (R-SCOPE-2); the old ones end with the hand-over.
    end_shares(session, list(session.scalars(select(Customer.id).where(owned))))
    # Order matters: children are found through the customers' current owner.
    log_ownership(
        session,
        owned,
        kind=kind,
        division_id=Customer.division_id,
        to_owner_id=to_id,
        by=by,
        at=at,
        reason=reason,
    )
    for model in (Lead, Opportunity, Order, ServiceRequest):
        _update(session, model, model.owner_id == giver, owner_id=to_id)
    _update(
        session,
        ServiceRequest,
        and_(ServiceRequest.handler_id == giver, ServiceRequest.status != CLOSED_SERVICE),
        handler_id=to_id,
    )
    _update(
        session,
        Activity,
        and_(Activity.owner_id == giver, Activity.state == "pending"),
        owner_id=to_id,
    )
    if to_id is None:
        # Into the pool: the previous owner's cooldown starts now (R-POOL-2); a lock
        # is a clerk's privilege and does not survive him.
        moved = _update(
            session,
            Customer,
            owned,
            owner_id=None,
            previous_owner_id=giver,
            in_pool_since=at,
            locked=False,
        )
    else:
        moved = _update(session, Customer, owned, owner_id=to_id)
    session.flush()
    return moved


def move_customers(
    session: Session,
    customer_ids: Sequence[int],
    *,
    to_division_id: int,
    to_owner: User | None,
    by: User | None,
    reason: str,
    at: datetime | None = None,
    kind: str = "transfer",
) -> int:
    """Move customers to another division and owner (None → that division's pool).

    Contacts, opportunities, activities (pending ones change assignee), service requests,
    orders and converted leads move with them, so no record is left in the old division
    pointing at a customer it can no longer see (R-SCOPE-1). Shares with the old
    division's staff end. Returns the number of customers moved.
    """
    ids = list(customer_ids)
    if not ids:
        return 0
    check_receiver(to_owner, to_division_id)
    session.flush()
    at = at or now()
    to_id = to_owner.id if to_owner is not None else None
    chosen = Customer.id.in_(ids)

    log_ownership(
        session,
        chosen,
        kind=kind,
        division_id=to_division_id,
        to_owner_id=to_id,
        by=by,
        at=at,
        reason=reason,
    )
    leads = select(Lead.id).where(Lead.customer_id.in_(ids))
    opportunities = select(Opportunity.id).where(Opportunity.customer_id.in_(ids))
    subjects = or_(
        Activity.customer_id.in_(ids),
        Activity.opportunity_id.in_(opportunities),
        Activity.lead_id.in_(leads),
    )
    _update(
        session,
        Activity,
        and_(subjects, Activity.state == "pending"),
        division_id=to_division_id,
        owner_id=to_id,
    )
    # Done activities are history: they follow the customer, their author stays.
    _update(session, Activity, subjects, division_id=to_division_id)
    _update(
        session,
        ServiceRequest,
        and_(ServiceRequest.customer_id.in_(ids), ServiceRequest.status != CLOSED_SERVICE),
        handler_id=to_id,
    )
    # Contacts have no owner of their own: the customer's is theirs.
    _update(session, Contact, Contact.customer_id.in_(ids), division_id=to_division_id)
    for model in (Opportunity, Order, ServiceRequest, Lead):
        _update(
            session, model, model.customer_id.in_(ids), division_id=to_division_id, owner_id=to_id
        )
    session.execute(delete(CustomerShare).where(CustomerShare.customer_id.in_(ids)))
    # previous_owner is cleared: the new division must not see the old one's staff.
    moved = _update(
        session,
        Customer,
        chosen,
        division_id=to_division_id,
        owner_id=to_id,
        previous_owner_id=None,
        in_pool_since=at if to_id is None else None,
        locked=False,
    )
    session.flush()
    return moved
