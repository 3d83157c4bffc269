"""The daily sweep (`flask --app portal sweep`): every rule that runs once a day.

Each step is a plain function (session, day) -> dict of counts, idempotent on its own:
running the sweep twice on one day changes nothing the second time. Steps are listed
in the order they must run (e.g. returns to the pool before the warning list).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date

from sqlalchemy.orm import Session

from portal.database import batch_cache

Step = Callable[[Session, date], dict[str, int]]


def steps() -> list[tuple[str, Step]]:
    """The sweep's steps; each module owns its rule."""
    from portal.services import churn, followups, pool, service_requests, value

    return [
        ("followups", followups.sweep_followups),
        ("pool", pool.sweep_pool),
        ("service", service_requests.sweep_service),
        ("churn", churn.sweep_churn),
        ("value", value.sweep_value_classes),
    ]


def run_sweep(session: Session, day: date) -> list[tuple[str, dict[str, int], float]]:
    """Run every step for `day`; returns (step, counts, seconds). The caller commits."""
    report = []
    with batch_cache(session):
        for name, step in steps():
            started = time.perf_counter()
            counts = step(session, day)
            session.flush()
            report.append((name, counts, time.perf_counter() - started))
    return report
