"""Generated customers at scale (issue #4): counts, scope columns, the pool, the name
index and reproducibility, on both databases; the same code loads a million."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, inspect, select, text

from portal.models import (
    Activity,
    Contact,
    Customer,
    CustomerGram,
    CustomerStanding,
    Division,
    Opportunity,
    Order,
    Region,
    ServiceRequest,
    Stage,
    StageChange,
    User,
)
from portal.models.search import name_grams
from portal.services import bulk_demo
from portal.services.bulk_demo import load_bulk_customers
from portal.services.bulk_sales import load_bulk_sales
from portal.services.demo import load_demo
from portal.validation import is_mobile
from tests.conftest import _business_tables

AT = datetime(2026, 6, 1, 12, 0)
N = 2000


def _count(session, model, *criteria) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*criteria))


def _fingerprint(session):
    customers = session.execute(
        select(Customer.name, Customer.mobile, User.username, Customer.region_code)
        .outerjoin(User, User.id == Customer.owner_id)
        .order_by(Customer.id)
    ).all()
    contacts = session.execute(select(Contact.name, Contact.mobile).order_by(Contact.id)).all()
    activities = session.execute(
        select(Activity.subject, Activity.planned_at).order_by(Activity.id)
    ).all()
    return customers, contacts, activities


def _empty(session):
    for table in _business_tables():
        session.execute(text(f"DELETE FROM {table}"))
    session.commit()


def test_bulk_customers_fill_the_demo_divisions(session):
    load_demo(session, seed=7, per_division=30, at=AT)
    session.commit()
    before = _count(session, Customer)
    report = load_bulk_customers(session, N, seed=5, at=AT)
    session.commit()

    assert report.customers == N and _count(session, Customer) == before + N
    # Each has its standing (a trigger's row): no class yet, churn state none (R-VALUE-1).
    standings = session.execute(
        select(CustomerStanding.churn_state, func.count()).group_by(CustomerStanding.churn_state)
    ).all()
    assert [tuple(r) for r in standings] == [("none", before + N)]
    new = Customer.id > session.scalar(select(func.max(Customer.id))) - N
    assert _count(session, Contact, Contact.customer_id.in_(select(Customer.id).where(new))) == (
        report.contacts
    )
    assert 1.35 * N < report.contacts < 1.65 * N  # about 1.5 per customer
    assert 1.8 * N < report.activities < 2.2 * N  # about 2 per customer

    # Scope columns: both divisions, owners are clerks of the customer's division, a pool.
    rows = session.execute(
        select(Customer.division_id, Customer.owner_id, User.role_code, User.division_id)
        .outerjoin(User, User.id == Customer.owner_id)
        .where(new)
    ).all()
    divisions = set(session.scalars(select(Division.id)))
    assert {r[0] for r in rows} == divisions
    owned = [r for r in rows if r[1] is not None]
    assert all(role == "clerk" and owner_div == div for div, _o, role, owner_div in owned)
    assert len({r[1] for r in owned}) == 4  # two clerks in each division
    pool_share = 1 - len(owned) / len(rows)
    assert 0.28 < pool_share < 0.39

    # Realistic fields: valid mobiles, county regions, unique names per division.
    customers = session.execute(
        select(Customer.name, Customer.mobile, Customer.region_code, Customer.division_id).where(
            new
        )
    ).all()
    assert all(is_mobile(c.mobile) for c in customers)
    counties = set(session.scalars(select(Region.code).where(Region.level == 3)))
    assert all(c.region_code in counties for c in customers)
    assert all(0 < len(c.name) <= 50 for c in customers)
    assert _count(session, Customer) == len(
        set(session.execute(select(Customer.division_id, Customer.name)).all())
    )
    companies = [c.name for c in customers if c.name.endswith(("公司", "经营部"))]
    assert 0.5 < len(companies) / N < 0.7

    # Activities: done in the past, one pending plan per owned customer.
    pending = _count(session, Activity, Activity.state == "pending", Activity.customer_id.in_(
        select(Customer.id).where(new, Customer.owner_id.is_not(None))
    ))  # fmt: skip
    assert pending == len(owned)

    # The name index holds every generated name.
    generated = CustomerGram.customer_id.in_(select(Customer.id).where(new))
    grams = _count(session, CustomerGram, generated)
    assert grams == report.grams == sum(len(name_grams(c.name)) for c in customers)


def test_same_seed_same_customers(session):
    load_demo(session, seed=7, per_division=10, at=AT)
    load_bulk_customers(session, 300, seed=9, at=AT)
    session.commit()
    first = _fingerprint(session)
    _empty(session)
    load_demo(session, seed=7, per_division=10, at=AT)
    load_bulk_customers(session, 300, seed=9, at=AT)
    session.commit()
    assert _fingerprint(session) == first
    _empty(session)
    load_demo(session, seed=7, per_division=10, at=AT)
    load_bulk_customers(session, 300, seed=10, at=AT)
    session.commit()
    assert _fingerprint(session)[0] != first[0]


def test_big_loads_rebuild_indexes_and_keep_the_schema(app, tx_session, monkeypatch):
    """Above REBUILD_INDEXES_FROM the loader drops and rebuilds the indexes (and the
    PostgreSQL foreign keys) in its transaction: afterwards they are all there."""
    session = tx_session
    load_demo(session, seed=7, per_division=10, at=AT)
    session.commit()

    def shape():
        inspector = inspect(session.connection())
        return {
            table: (
                sorted(i["name"] for i in inspector.get_indexes(table)),
                sorted(fk["name"] or "" for fk in inspector.get_foreign_keys(table)),
            )
            for table in ("customers", "customer_standings", "contacts", "activities")
            + ("customer_grams",)
        }

    before = shape()
    session.commit()
    monkeypatch.setattr(bulk_demo, "REBUILD_INDEXES_FROM", 100)
    report = load_bulk_customers(session, 400, seed=3, at=AT)
    session.commit()
    assert ("build indexes" in dict(report.steps)) and shape() == before
    # New rows after the load get fresh ids (PostgreSQL sequences were moved on).
    customer = Customer(division_id=session.scalar(select(Division.id)), name="后来的客户")
    session.add(customer)
    session.commit()
    assert customer.id == session.scalar(select(func.max(Customer.id)))


def test_demo_command_adds_customers(app, session):
    result = app.test_cli_runner().invoke(args=["demo", "--customers", "200", "--seed", "4"])
    assert result.exit_code == 0, result.output
    assert "generated 200 customers" in result.output
    assert "orders" in result.output and "service requests" in result.output
    assert _count(session, Customer) == 200 + 2 * 300  # the base demo, then the extra ones


def test_bulk_sales_follow_their_customers(session):
    """Issue #7: the generated customers get opportunities with their stage history,
    orders and service requests, each in the customer's division and with its owner,
    the same ones for the same seed; later records still get fresh ids."""
    load_demo(session, seed=7, per_division=10, at=AT)
    session.commit()
    before = session.scalar(select(func.max(Customer.id)))
    demo_orders = _count(session, Order)
    load_bulk_customers(session, 600, seed=5, at=AT)
    report = load_bulk_sales(session, seed=5, at=AT, after_id=before)
    session.commit()

    assert report.orders == _count(session, Order) - demo_orders > 100
    assert report.opportunities > 20 and report.service_requests > 10
    for model in (Order, Opportunity, ServiceRequest):
        mismatched = _count(
            session,
            model,
            model.customer_id == Customer.id,
            (model.division_id != Customer.division_id) | (model.owner_id != Customer.owner_id),
        )
        assert mismatched == 0, model
        assert _count(session, model, model.customer_id > before) > 0
    # Each generated opportunity's history ends in the stage it is in now.
    last_change = (
        select(StageChange.opportunity_id, func.max(StageChange.at).label("at"))
        .group_by(StageChange.opportunity_id)
        .subquery()
    )
    ends = session.execute(
        select(Opportunity.stage_id, StageChange.to_stage_id)
        .join(last_change, last_change.c.opportunity_id == Opportunity.id)
        .join(
            StageChange,
            (StageChange.opportunity_id == Opportunity.id) & (StageChange.at == last_change.c.at),
        )
        .where(Opportunity.customer_id > before)
    ).all()
    assert len(ends) == report.opportunities
    assert all(stage == to for stage, to in ends)
    assert _count(session, Order, Order.signed_on > AT.date()) == 0
    # Won opportunities are named by an order.
    won = select(Stage.id).where(Stage.outcome == "won")
    assert _count(
        session, Opportunity, Opportunity.stage_id.in_(won), Opportunity.customer_id > before
    ) == _count(session, Order, Order.opportunity_id.is_not(None), Order.customer_id > before)
    fingerprint = session.execute(
        select(Order.number, Order.amount, Order.signed_on).order_by(Order.id)
    ).all()
    order = Order(
        customer_id=before + 1,
        division_id=session.get(Customer, before + 1).division_id,
        number="AFTER-1",
        amount=1,
        signed_on=AT.date(),
    )
    session.add(order)
    session.commit()
    assert order.id == session.scalar(select(func.max(Order.id)))
    session.delete(order)
    _empty(session)
    load_demo(session, seed=7, per_division=10, at=AT)
    session.commit()
    before = session.scalar(select(func.max(Customer.id)))
    load_bulk_customers(session, 600, seed=5, at=AT)
    load_bulk_sales(session, seed=5, at=AT, after_id=before)
    session.commit()
    again = session.execute(
        select(Order.number, Order.amount, Order.signed_on).order_by(Order.id)
    ).all()
    assert [row[1:] for row in again] == [row[1:] for row in fingerprint]
