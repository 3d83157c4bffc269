"""Where a customer stands, as the nightly sweep computes it: value class (R-VALUE-1) and
churn state (R-CHURN-1), one row per customer in `customer_standings`.

Why a table of its own: the sweep rewrites these figures for up to every customer in one
night (a first run gives each of a million customers its first class). In `customers`,
each such write was a new row version in all of the table's list, search and report
indexes (PostgreSQL: 90 s for one UPDATE of every class); here it touches three.

The row carries copies of the customer's division, owner and creation time, so the
value and churn reports are one index pass with the scope and the clerk filter. The
database keeps them (schema/versions/0007): a trigger inserts the row with the customer
and copies division and owner whenever they change, whoever writes them — ORM objects,
the pool's and hand-over's set-based UPDATEs, COPY in the bulk loader. Only the sweep
and the churn decisions write the other columns; nothing creates rows in Python.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, one_of

CHURN_STATES = ("none", "warning", "retained", "lost")


class CustomerStanding(Base):
    """Value class, 12-month amount and churn state of one customer."""

    __tablename__ = "customer_standings"
    __table_args__ = (
        one_of("churn_state", CHURN_STATES),
        CheckConstraint("value_class IN ('A', 'B', 'C')", name="value_class_enum"),
        # Composition by value class (R-REPORT-2) and the list filter on it.
        Index(
            "ix_customer_standings_value", "division_id", "value_class", "owner_id", "created_at"
        ),
        # Churn report (R-REPORT-5): states and the period's movements; the churn presets.
        Index(
            "ix_customer_standings_churn",
            "division_id",
            "churn_state",
            "owner_id",
            "churn_warned_at",
            "churn_changed_at",
        ),
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    # Copies kept by the database triggers (see the module docstring); customers' foreign
    # keys check the values, so none here (their checks doubled the cost of a pool return).
    division_id: Mapped[int] = mapped_column(Integer, nullable=False)
    owner_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)

    # A new customer has no orders in the last 12 months: amount 0, so class C by the rule
    # (R-VALUE-1); the sweep then writes only the customers whose orders move them.
    value_class: Mapped[str] = mapped_column(String(1), nullable=False, server_default="C")
    value_amount_12m: Mapped[Decimal] = mapped_column(
        Numeric(14, 2), nullable=False, server_default="0"
    )
    # Churn (R-CHURN-1): warning raised by the sweep, then retained or lost by the owner.
    churn_state: Mapped[str] = mapped_column(
        String(10), nullable=False, default="none", server_default="none"
    )
    churn_warned_at: Mapped[datetime | None] = mapped_column(DateTime)
    churn_measure: Mapped[str | None] = mapped_column(String(500))
    churn_measure_on: Mapped[date | None] = mapped_column(Date)
    churn_lost_reason: Mapped[str | None] = mapped_column(String(500))
    churn_changed_at: Mapped[datetime | None] = mapped_column(DateTime)


# The standing a customer has before its row is read or written (e.g. not yet flushed).
UNRATED = {
    "value_class": "C",
    "value_amount_12m": Decimal(0),
    "churn_state": "none",
    "churn_warned_at": None,
    "churn_measure": None,
    "churn_measure_on": None,
    "churn_lost_reason": None,
    "churn_changed_at": None,
}
