"""Demo data (issue #2 item 4): accounts of REQUIREMENTS §5, realistic records, reproducible."""

from sqlalchemy import func, select

from portal.clock import now
from portal.models import (
    Activity,
    Customer,
    Division,
    Opportunity,
    Order,
    ServiceRequest,
    Stage,
    User,
)
from portal.services.demo import load_demo
from tests.conftest import _business_tables


def _fingerprint(session):
    customers = session.execute(
        select(Customer.name, Customer.mobile, Customer.owner_id).order_by(Customer.id)
    ).all()
    activities = session.execute(
        select(Activity.subject, Activity.planned_at).order_by(Activity.id)
    ).all()
    return customers, activities


def _empty(session):
    from sqlalchemy import text

    session.rollback()
    for table in _business_tables():
        session.execute(text(f"DELETE FROM {table}"))
    session.commit()


def test_demo_accounts_and_records(session):
    at = now()
    message = load_demo(session, seed=7, per_division=60, at=at)
    session.commit()
    assert "demo loaded" in message
    usernames = set(session.scalars(select(User.username)))
    assert usernames == {
        "admin",
        "gm",
        "east.head",
        "east.admin",
        "east.clerk1",
        "east.clerk2",
        "west.head",
        "west.admin",
        "west.clerk1",
        "west.clerk2",
    }
    assert {d.code for d in session.scalars(select(Division))} == {"east", "west"}
    # Opportunities in every stage, service requests in every state, plans due/done/overdue.
    stages_used = set(session.scalars(select(Opportunity.stage_id).distinct()))
    assert stages_used == set(session.scalars(select(Stage.id)))
    assert set(session.scalars(select(ServiceRequest.status).distinct())) == {
        "new",
        "assigned",
        "handling",
        "responded",
        "archived",
    }
    start = at.replace(hour=0, minute=0, second=0)
    pending = Activity.state == "pending"
    assert session.scalar(select(func.count()).where(pending, Activity.planned_at < start)) > 0
    assert session.scalar(select(func.count()).where(pending, Activity.planned_at >= start)) > 0
    assert session.scalar(select(func.count()).where(Activity.state == "done")) > 0
    assert session.scalar(select(func.count()).select_from(Order)) > 0
    pool = session.scalar(select(func.count()).where(Customer.owner_id.is_(None)))
    assert pool > 0


def test_demo_twice_changes_nothing_and_is_reproducible(session):
    at = now()
    load_demo(session, seed=7, per_division=40, at=at)
    session.commit()
    first = _fingerprint(session)
    assert load_demo(session, seed=7, per_division=40, at=at).startswith("demo data already")
    assert _fingerprint(session) == first
    _empty(session)
    load_demo(session, seed=7, per_division=40, at=at)
    session.commit()
    names_again = [row.name for row in _fingerprint(session)[0]]
    assert names_again == [row.name for row in first[0]]
    assert _fingerprint(session)[1] == first[1]
