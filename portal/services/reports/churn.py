"""Churn analysis (R-REPORT-5, R-CHURN-1): warnings, retained, lost."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import Customer
from portal.models.crm import CHURN_STATES
from portal.services.reports.criteria import ReportFilter, count_if

MARKED = tuple(state for state in CHURN_STATES if state != "none")


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
    (churn_warned_at), retentions and confirmed losses (churn_changed_at).

    Only customers in a churn state carry those dates (clearing a warning resets them), so
    the movements are counted among those few; with an index on (division_id,
    churn_state) neither query reads the customers that never had a churn mark."""
    criteria = f.where(Customer)
    now_counts = dict(
        session.execute(
            select(Customer.churn_state, func.count())
            .where(*criteria)
            .group_by(Customer.churn_state)
        ).all()
    )
    warned = count_if(f.in_period(Customer.churn_warned_at))
    changed = count_if(f.in_period(Customer.churn_changed_at))
    moved = {
        state: (int(w), int(c))
        for state, w, c in session.execute(
            select(Customer.churn_state, warned, changed)
            .where(*criteria, Customer.churn_state.in_(MARKED))
            .group_by(Customer.churn_state)
        )
    }
    in_period = {
        "warning": sum(w for w, _c in moved.values()),  # raised, whatever became of it
        "retained": moved.get("retained", (0, 0))[1],
        "lost": moved.get("lost", (0, 0))[1],
    }
    states = [
        ChurnLine(state, int(now_counts.get(state, 0)), in_period.get(state, 0))
        for state in CHURN_STATES
    ]
    lost_reasons = []
    if in_period["lost"]:
        lost_reasons = [
            (reason, int(n))
            for reason, n in session.execute(
                select(Customer.churn_lost_reason, func.count())
                .where(
                    *criteria,
                    Customer.churn_state == "lost",
                    f.in_period(Customer.churn_changed_at),
                )
                .group_by(Customer.churn_lost_reason)
                .order_by(func.count().desc(), Customer.churn_lost_reason)
                .limit(reasons)
            )
        ]
    return ChurnAnalysis(states=states, lost_reasons=lost_reasons)
