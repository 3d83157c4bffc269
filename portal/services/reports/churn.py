"""Churn analysis (R-REPORT-5, R-CHURN-1): warnings, retained, lost."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import Customer
from portal.models.crm import CHURN_STATES
from portal.services.reports.criteria import ReportFilter, count_if


@dataclass
class ChurnLine:
    state: str
    customers: int  # in this state now
    in_period: int  # warned (warning) or moved to this state (retained / lost) in the period


@dataclass
class ChurnAnalysis:
    states: list[ChurnLine]
    lost_reasons: list[tuple[str | None, int]]  # confirmed losses of the period


def churn_analysis(session: Session, f: ReportFilter, *, reasons: int = 10) -> ChurnAnalysis:
    """Customers in scope per churn state now, and the period's movements: warnings raised
    (churn_warned_at), retentions and confirmed losses (churn_changed_at)."""
    criteria = f.where(Customer)
    moved = {
        "warning": f.in_period(Customer.churn_warned_at),
        "retained": (Customer.churn_state == "retained") & f.in_period(Customer.churn_changed_at),
        "lost": (Customer.churn_state == "lost") & f.in_period(Customer.churn_changed_at),
    }
    now_counts = dict(
        session.execute(
            select(Customer.churn_state, func.count())
            .where(*criteria)
            .group_by(Customer.churn_state)
        ).all()
    )
    # The period's movements are few and indexed by nothing better than the division:
    # one pass with conditional counts over the customers that ever had a churn mark.
    period = session.execute(
        select(*(count_if(c) for c in moved.values())).where(
            *criteria, Customer.churn_warned_at.is_not(None)
        )
    ).one()
    in_period = dict(zip(moved, period, strict=True))
    states = [
        ChurnLine(state, int(now_counts.get(state, 0)), int(in_period.get(state, 0)))
        for state in CHURN_STATES
    ]
    lost_reasons = [
        (reason, int(n))
        for reason, n in session.execute(
            select(Customer.churn_lost_reason, func.count())
            .where(*criteria, moved["lost"])
            .group_by(Customer.churn_lost_reason)
            .order_by(func.count().desc(), Customer.churn_lost_reason)
            .limit(reasons)
        )
    ]
    return ChurnAnalysis(states=states, lost_reasons=lost_reasons)
