"""Customer profile sheets (R-REPORT-6): the 360° view of customers, for printing.

The sections are services/customer360.py's `customer_profile`, the same as the customer's
page; this module loads the customers to print within scope, in the order asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from portal import scope
from portal.models import Customer, Region
from portal.services.customer360 import Profile, customer_profile

SHEET_ROWS = 8  # per section: the sheet fits on one or two A4 pages


@dataclass
class ProfileSheet:
    customer: Customer
    profile: Profile

    def shown(self, section: str) -> list:
        """The newest records of a section that the sheet prints."""
        return getattr(self.profile, section)[:SHEET_ROWS]

    def total(self, section: str) -> str:
        """How many there are ("50+" when the profile's own cap was reached)."""
        n = len(getattr(self.profile, section))
        return f"{n}+" if n >= self.profile.limit else str(n)

    def more(self, section: str) -> bool:
        return len(getattr(self.profile, section)) > SHEET_ROWS


def customer_profiles(session: Session, user, ids) -> list[ProfileSheet]:
    """Sheets of the customers with these ids that `user` may see, in the given order;
    the others are silently absent (the caller answers 404 when none is left)."""
    ids = list(dict.fromkeys(int(i) for i in ids))
    customers = (
        session.execute(
            select(Customer)
            .where(scope.visible(Customer, user), Customer.id.in_(ids))
            .options(
                joinedload(Customer.grade),
                joinedload(Customer.industry),
                joinedload(Customer.source),
                joinedload(Customer.nature),
                joinedload(Customer.revenue_band),
                joinedload(Customer.employee_band),
                joinedload(Customer.owner),
                joinedload(Customer.division),
                joinedload(Customer.region).joinedload(Region.parent).joinedload(Region.parent),
            )
        )
        .unique()
        .scalars()
        .all()
    )
    position = {customer_id: n for n, customer_id in enumerate(ids)}
    customers = sorted(customers, key=lambda c: position[c.id])
    return [ProfileSheet(c, customer_profile(session, user, c)) for c in customers]
