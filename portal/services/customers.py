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
    """Contacts follow their customer's division and owner; exactly one is primary."""
    contacts = customer.contacts
    for contact in contacts:
        contact.division_id = customer.division_id
        contact.owner_id = customer.owner_id
        if contact.created_by_id is None and by is not None:
            contact.created_by_id = by.id
    primaries = [c for c in contacts if c.is_primary]
    if contacts and not primaries:
        contacts[0].is_primary = True
    for extra in primaries[1:]:
        extra.is_primary = False
