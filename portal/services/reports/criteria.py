"""What every report query shares: the viewer's scope, division, clerk and period."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, case, func
from sqlalchemy.orm import Session

from portal import scope
from portal.clock import now


def last_month(today: date) -> tuple[date, date]:
    """First and last day of the month before `today` (the reports' default period)."""
    first_this = today.replace(day=1)
    last = first_this - timedelta(days=1)
    return last.replace(day=1), last


@dataclass(frozen=True)
class ReportFilter:
    """Who looks (scope), at which division and clerk, over which days (end inclusive)."""

    user: object
    start: date
    end: date
    division_id: int | None = None  # None: every division the viewer sees
    clerk_id: int | None = None
    today: date = field(default_factory=lambda: now().date())

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min)

    @property
    def end_before(self) -> datetime:
        """The first moment after the period (periods are whole days)."""
        return datetime.combine(self.end + timedelta(days=1), time.min)

    @property
    def today_start(self) -> datetime:
        return datetime.combine(self.today, time.min)

    def in_period(self, column) -> ColumnElement[bool]:
        """A timestamp within the period's days."""
        return (column >= self.start_at) & (column < self.end_before)

    def on_days(self, column) -> ColumnElement[bool]:
        """A date column within the period."""
        return (column >= self.start) & (column <= self.end)

    def where(
        self, model, *, clerk_column=None, by_clerk: bool = True
    ) -> list[ColumnElement[bool]]:
        """Scope, division and (unless by_clerk is False) clerk criteria for `model`;
        the clerk is matched on `clerk_column`, by default the owner."""
        criteria = [scope.visible(model, self.user)]
        if self.division_id is not None:
            criteria.append(model.division_id == self.division_id)
        if by_clerk and self.clerk_id is not None:
            column = clerk_column if clerk_column is not None else model.owner_id
            criteria.append(column == self.clerk_id)
        return criteria


def count_if(condition) -> ColumnElement[int]:
    """COUNT of the group's rows meeting `condition` (0, never NULL)."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def hours_between(session: Session, start, end) -> ColumnElement[float]:
    """end − start in hours, computed by the database (NULL if either is NULL)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start) / 3600.0
    return (func.julianday(end) - func.julianday(start)) * 24.0


def ratio(part, whole) -> float | None:
    """part / whole, None when there is nothing to divide by."""
    return None if not whole else float(part) / float(whole)


def money(value) -> Decimal:
    """A sum from the database as Decimal with cents (SQLite returns floats)."""
    if value is None:
        return Decimal("0.00")
    return Decimal(str(value)).quantize(Decimal("0.01"))


def as_float(value) -> float | None:
    return None if value is None else float(value)
