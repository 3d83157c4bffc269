"""customer_standings (schema 0007, issue #5): one row per customer, made and kept by the
database whichever way customers are written, so the value and churn reports (R-REPORT-2,
R-REPORT-5) count each customer once, in its current division and for its current owner."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update

from portal.models import Customer, CustomerStanding
from portal.services import handover, pool
from portal.services.reports.composition import customer_composition
from portal.services.reports.criteria import ReportFilter
from tests.factories import make_customer


def _copies(session, customer_id):
    session.expire_all()
    return session.execute(
        select(
            CustomerStanding.division_id, CustomerStanding.owner_id, CustomerStanding.created_at
        ).where(CustomerStanding.customer_id == customer_id)
    ).one_or_none()


def test_a_new_customer_gets_its_standing(session, world):
    clerk = world["east.clerk1"]
    customer = make_customer(session, clerk)
    session.commit()
    assert tuple(_copies(session, customer.id)) == (
        clerk.division_id,
        clerk.id,
        customer.created_at,
    )
    fresh = session.get(Customer, customer.id)
    # No orders yet: amount 0, so class C (R-VALUE-1); no churn warning.
    assert (fresh.churn_state, fresh.value_class, fresh.value_amount_12m) == ("none", "C", 0)


def test_copies_follow_set_based_and_orm_writes(session, world):
    east1, east2 = world["east.clerk1"], world["east.clerk2"]
    west1 = world["west.clerk1"]
    customer = make_customer(session, east1)
    session.commit()
    # A Core UPDATE, as the pool and hand-over write owners.
    session.execute(update(Customer).where(Customer.id == customer.id).values(owner_id=east2.id))
    session.commit()
    assert _copies(session, customer.id)[1] == east2.id
    # An ORM edit of division, owner and creation time.
    moved = session.get(Customer, customer.id)
    moved.division_id, moved.owner_id = west1.division_id, west1.id
    moved.created_at = datetime(2026, 1, 2, 3, 4, 5)
    session.commit()
    assert tuple(_copies(session, customer.id)) == (
        west1.division_id,
        west1.id,
        datetime(2026, 1, 2, 3, 4, 5),
    )
    # Deleting the customer deletes its standing.
    session.execute(delete(Customer).where(Customer.id == customer.id))
    session.commit()
    assert _copies(session, customer.id) is None


def test_pool_moves_and_hand_over_move_the_standing(session, world):
    east1, east2 = world["east.clerk1"], world["east.clerk2"]
    head = world["east.head"]
    kept = make_customer(session, east1, name="留下的")
    released = make_customer(session, east1, name="放回的")
    session.commit()
    pool.release(session, released, by=east1, reason="不再跟进")
    session.commit()
    assert _copies(session, released.id)[1] is None
    handover.hand_over(session, east1, east2, by=head, reason="离职交接")
    session.commit()
    assert _copies(session, kept.id)[1] == east2.id
    # The report's clerk filter counts both customers for their current owners only.
    today = datetime.now().date()
    for clerk, expected in ((east1, 0), (east2, 1)):
        f = ReportFilter(head, today, today, clerk_id=clerk.id)
        assert customer_composition(session, f, "value_class").customers == expected
    whole = customer_composition(session, ReportFilter(head, today, today), "value_class")
    assert whole.customers == session.scalar(
        select(func.count()).select_from(Customer).where(Customer.division_id == head.division_id)
    )
