"""The daily sweep as a whole (`flask sweep`): every step in order, idempotent per day."""

from datetime import datetime, timedelta

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from portal.clock import now
from portal.database import BATCH_CACHE_KIB, batch_cache
from portal.models import Customer, OwnershipChange, ValueClassChange
from portal.services.sweep import run_sweep
from tests.factories import make_activity, make_customer, make_order, set_pool_rule

# Counts of what a run changed; the others ("requests overdue") count what is there.
CHANGES = {
    "followups": ("overdue marked", "escalated", "stale flagged"),
    "pool": ("returned to pool",),
    "service": ("complaints escalated",),
    "churn": ("cleared", "warnings again", "warnings raised"),
    "value": ("class changes", "customers updated"),
}


def test_every_step_runs_and_a_second_run_changes_nothing(session, world):
    set_pool_rule(session, world["east.head"].division_id, return_no_followup_days=30)
    clerk = world["east.clerk1"]
    day = now().date()
    at = datetime.combine(day, datetime.min.time())
    stale = make_customer(session, clerk, created_at=at - timedelta(days=60))
    make_activity(session, stale, planned_at=at - timedelta(days=5))
    buyer = make_customer(session, clerk)
    make_order(session, buyer, signed_on=day - timedelta(days=250))
    session.commit()

    first = run_sweep(session, day)
    session.commit()
    assert [name for name, _counts, _seconds in first] == list(CHANGES)
    counts = {name: counts for name, counts, _seconds in first}
    assert counts["pool"] == {"returned to pool": 1}
    assert counts["churn"]["warnings raised"] == 1
    # Both start in C (no orders yet); the buyer is the division's best of two: A.
    assert counts["value"]["class changes"] == 1
    returns = select(func.count()).select_from(OwnershipChange)
    assert session.scalar(returns) == 1

    second = run_sweep(session, day)
    session.commit()
    for name, counts, _seconds in second:
        assert {key: counts[key] for key in CHANGES[name]} == dict.fromkeys(CHANGES[name], 0)
    assert session.scalar(returns) == 1
    assert session.scalar(select(func.count()).select_from(ValueClassChange)) == 1
    assert session.get(Customer, stale.id).owner_id is None


def test_sqlite_page_cache_is_raised_for_the_sweep_only(tmp_path):
    """SQLite only (PostgreSQL sizes its own cache): a file database of its own."""
    engine = create_engine(f"sqlite:///{tmp_path / 'cache.db'}")
    with Session(engine) as session:
        connection = session.connection()
        size = "PRAGMA cache_size"
        before = connection.exec_driver_sql(size).scalar()
        with batch_cache(session):
            assert connection.exec_driver_sql(size).scalar() == -BATCH_CACHE_KIB
        assert connection.exec_driver_sql(size).scalar() == before
    engine.dispose()
