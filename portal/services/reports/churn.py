"""Churn analysis (R-REPORT-5, R-CHURN-1): warnings, retained, lost."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import CustomerStanding as Standing
from portal.models.standing import CHURN_STATES
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
    (churn_warned_at), retentions and confirmed losses (churn_changed_at).

    One grouped pass over ix_customer_standings_churn (division, state, owner, both
    dates): the index alone, not the customers. Clearing a warning resets its date, so
    every customer warned in the period is still marked."""
    criteria = f.where(Standing)
    rows = session.execute(
        select(
            Standing.churn_state,
            func.count(),
            count_if(f.in_period(Standing.churn_warned_at)),
            count_if(f.in_period(Standing.churn_changed_at)),
        )
        .where(*criteria)
        .group_by(Standing.churn_state)
    ).all()
    now_counts = {state: int(n) for state, n, _w, _c in rows}
    warned = sum(int(w) for _s, _n, w, _c in rows)  # raised, whatever became of it
    changed = {state: int(c) for state, _n, _w, c in rows}
    in_period = {
        "warning": warned,
        "retained": changed.get("retained", 0),
        "lost": changed.get("lost", 0),
    }
    states = [
        ChurnLine(state, now_counts.get(state, 0), in_period.get(state, 0))
        for state in CHURN_STATES
    ]
    lost_reasons = []
    if in_period["lost"]:
        lost_reasons = [
            (reason, int(n))
            for reason, n in session.execute(
                select(Standing.churn_lost_reason, func.count())
                .where(
                    *criteria,
                    Standing.churn_state == "lost",
                    f.in_period(Standing.churn_changed_at),
                )
                .group_by(Standing.churn_lost_reason)
                .order_by(func.count().desc(), Standing.churn_lost_reason)
                .limit(reasons)
            )
        ]
    return ChurnAnalysis(states=states, lost_reasons=lost_reasons)
