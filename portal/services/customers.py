"""Customer rules that forms, imports and conversions share (R-ENTRY-3)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import Customer


def name_taken(
    session: Session, division_id: int, name: str, *, exclude_id: int | None = None
) -> bool:
    """Is there already a customer of this name in the division? (scope-blind on purpose)"""
    stmt = (
        select(func.count())
        .select_from(Customer)
        .where(Customer.division_id == division_id, Customer.name == name.strip())
    )
    if exclude_id is not None:
        stmt = stmt.where(Customer.id != exclude_id)
    return session.execute(stmt).scalar_one() > 0


def sync_contacts(customer: Customer, *, by=None) -> None:
    """Contacts follow their customer's division (their owner is the customer's); exactly
    one is primary."""
    contacts = customer.contacts
    for contact in contacts:
        contact.division_id = customer.division_id
        if contact.created_by_id is None and by is not None:
            contact.created_by_id = by.id
    primaries = [c for c in contacts if c.is_primary]
    if contacts and not primaries:
        contacts[0].is_primary = True
    for extra in primaries[1:]:
        extra.is_primary = False


def prepare_delete(session: Session, customer: Customer) -> None:
    """Deleting a customer takes its contacts and plans with it; one with business history
    (opportunities, orders, service requests) is refused rather than orphaning it."""
    from flask_babel import lazy_gettext as _l
    from sqlalchemy import delete, exists, or_, update

    from portal.models import Activity, Lead, Opportunity, Order, ServiceRequest
    from portal.services import BusinessRuleError

    history = or_(
        *(
            exists().where(model.customer_id == customer.id)
            for model in (Opportunity, Order, ServiceRequest)
        )
    )
    if session.scalar(select(history)):
        raise BusinessRuleError(_l("该客户已有商机、订单或服务记录，不能删除；可放入公海或合并"))
    session.execute(
        delete(Activity)
        .where(Activity.customer_id == customer.id)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Lead)
        .where(Lead.customer_id == customer.id)
        .values(customer_id=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Lead)
        .where(Lead.referrer_customer_id == customer.id)
        .values(referrer_customer_id=None)
        .execution_options(synchronize_session=False)
    )
