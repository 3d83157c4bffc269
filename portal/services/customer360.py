"""The customer 360° profile (R-REPORT-6, issue #6 item 6): everything about one customer
on one page — contacts, follow-ups with feedback and leader instructions, opportunities,
orders, service history, churn and value class with its history, ownership history.

Every section is its own query bounded by scope.visible() for the viewer (R-SCOPE-4), so a
record that the viewer may not see never appears even when it hangs off a customer he
may see. One query per section, related names joined in, newest first, capped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from portal import scope
from portal.models import (
    Activity,
    Contact,
    Customer,
    Lead,
    Opportunity,
    Order,
    OwnershipChange,
    ServiceRequest,
    User,
    ValueClassChange,
)

SECTION_LIMIT = 50


@dataclass
class Profile:
    contacts: list[Contact] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)
    opportunities: list[Opportunity] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    order_count: int = 0  # valid orders, all of them (the list is capped)
    order_total: Decimal = Decimal("0")
    service_requests: list[ServiceRequest] = field(default_factory=list)
    value_history: list[ValueClassChange] = field(default_factory=list)
    ownership: list[OwnershipChange] = field(default_factory=list)
    user_names: dict[int, str] = field(default_factory=dict)
    limit: int = SECTION_LIMIT

    def name(self, user_id: int | None) -> str:
        return self.user_names.get(user_id, "") if user_id is not None else ""


def _section(session: Session, user, model, *criteria, order_by, options=()):
    stmt = (
        select(model)
        .where(scope.visible(model, user), *criteria)
        .options(*options)
        .order_by(*order_by)
        .limit(SECTION_LIMIT)
    )
    return list(session.scalars(stmt).unique())


def customer_profile(session: Session, user, customer: Customer) -> Profile:
    """The sections of the customer's page as the user may see them."""
    if (
        session.scalar(
            select(Customer.id).where(scope.visible(Customer, user), Customer.id == customer.id)
        )
        is None
    ):
        return Profile()
    cid = customer.id
    # Activities about the customer, its opportunities, or the lead it was converted
    # from (R-CONVERT-2: the lead's history stays visible from the customer).
    # Their ids are looked up branch by branch, each a plain lookup on its own index;
    # combined in one OR, or with the scope's division test, the planners scanned a
    # division's activities (SQLite counts the NULLs of opportunity_id as one value of
    # two million rows): 1.5 s at a million customers instead of a millisecond.
    opportunity_ids = select(Opportunity.id).where(Opportunity.customer_id == cid)
    lead_ids = select(Lead.id).where(Lead.customer_id == cid)
    about_ids: set[int] = set(
        session.scalars(select(Activity.id).where(Activity.customer_id == cid))
    )
    for column, parents in (
        (Activity.opportunity_id, opportunity_ids),
        (Activity.lead_id, lead_ids),
    ):
        parent_ids = list(session.scalars(parents))
        if parent_ids:
            about_ids.update(session.scalars(select(Activity.id).where(column.in_(parent_ids))))
    about = Activity.id.in_(sorted(about_ids))
    profile = Profile(
        contacts=_section(
            session,
            user,
            Contact,
            Contact.customer_id == cid,
            order_by=(Contact.is_primary.desc(), Contact.id),
        ),
        activities=_section(
            session,
            user,
            Activity,
            about,
            order_by=(func.coalesce(Activity.done_at, Activity.planned_at).desc(), Activity.id),
            options=(
                joinedload(Activity.owner),
                joinedload(Activity.feedback_reason),
                joinedload(Activity.instruction_by),
            ),
        ),
        opportunities=_section(
            session,
            user,
            Opportunity,
            Opportunity.customer_id == cid,
            order_by=(Opportunity.updated_at.desc(), Opportunity.id),
            options=(joinedload(Opportunity.stage), joinedload(Opportunity.owner)),
        ),
        orders=_section(
            session,
            user,
            Order,
            Order.customer_id == cid,
            order_by=(Order.signed_on.desc(), Order.id.desc()),
            options=(joinedload(Order.owner),),
        ),
        service_requests=_section(
            session,
            user,
            ServiceRequest,
            ServiceRequest.customer_id == cid,
            order_by=(ServiceRequest.created_at.desc(), ServiceRequest.id.desc()),
            options=(
                joinedload(ServiceRequest.type),
                joinedload(ServiceRequest.priority),
                joinedload(ServiceRequest.handler),
            ),
        ),
        ownership=_section(
            session,
            user,
            OwnershipChange,
            OwnershipChange.customer_id == cid,
            order_by=(OwnershipChange.at.desc(), OwnershipChange.id.desc()),
        ),
    )
    count, total = session.execute(
        select(func.count(Order.id), func.coalesce(func.sum(Order.amount), 0)).where(
            scope.visible(Order, user), Order.customer_id == cid, Order.state == "valid"
        )
    ).one()
    profile.order_count, profile.order_total = count, Decimal(str(total))
    # The value history has no scope rule of its own: it is the customer's, seen above.
    profile.value_history = list(
        session.scalars(
            select(ValueClassChange)
            .where(ValueClassChange.customer_id == cid)
            .order_by(ValueClassChange.at.desc(), ValueClassChange.id.desc())
            .limit(SECTION_LIMIT)
        )
    )
    ids = {
        i
        for change in profile.ownership
        for i in (change.from_owner_id, change.to_owner_id, change.by_id)
        if i is not None
    }
    if ids:
        profile.user_names = dict(
            session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all()
        )
    return profile
