"""Churn warnings (R-CHURN-1): raise, retain, lose, clear; the sweep is idempotent."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.clock import now
from portal.models import AuditLog, Customer, CustomerStanding, Grade
from portal.services import BusinessRuleError, churn
from tests.factories import grade, make_customer, make_order


def _state(session, customer) -> tuple:
    session.expire_all()
    c = session.get(Customer, customer.id)
    return (
        c.churn_state,
        c.churn_warned_at,
        c.churn_measure,
        c.churn_measure_on,
        c.churn_lost_reason,
        c.churn_changed_at,
        c.version,
    )


def _sweep(session, day) -> dict[str, int]:
    """Sweep and commit: bulk UPDATEs bypass the identity map, the commit expires it."""
    counts = churn.sweep_churn(session, day)
    session.commit()
    return counts


def _states(session) -> dict[str, str]:
    session.expire_all()
    return dict(
        session.execute(
            select(Customer.name, CustomerStanding.churn_state).join(Customer.standing)
        ).all()
    )


@pytest.fixture
def today() -> date:
    return now().date()


@pytest.fixture
def customers(session, world, today):
    clerk = world["east.clerk1"]
    quiet = make_customer(session, clerk, name="七个月没下单")
    make_order(session, quiet, signed_on=churn.months_before(today, 7))
    recent = make_customer(session, clerk, name="两个月前下单")
    make_order(session, recent, signed_on=churn.months_before(today, 9))
    make_order(session, recent, signed_on=churn.months_before(today, 2))
    make_customer(session, clerk, name="从未下单")
    cancelled = make_customer(session, clerk, name="只有取消的订单")
    make_order(session, cancelled, signed_on=churn.months_before(today, 8), state="cancelled")
    boundary = make_customer(session, clerk, name="整六个月")
    make_order(session, boundary, signed_on=churn.months_before(today, 6))
    inside = make_customer(session, clerk, name="六个月差一天")
    make_order(session, inside, signed_on=churn.months_before(today, 6) + timedelta(days=1))
    pool = make_customer(session, None, division=clerk.division, name="公海老客户")
    make_order(session, pool, signed_on=churn.months_before(today, 12))
    west = make_customer(session, world["west.clerk1"], name="西部老客户")
    make_order(session, west, signed_on=churn.months_before(today, 10))
    session.commit()
    return {c.name: c for c in (quiet, recent, cancelled, boundary, inside, pool, west)}


def test_months_before_keeps_the_calendar():
    assert churn.months_before(date(2026, 8, 31), 6) == date(2026, 2, 28)
    assert churn.months_before(date(2026, 3, 15), 6) == date(2025, 9, 15)
    assert churn.months_before(date(2028, 8, 29), 6) == date(2028, 2, 29)


def test_sweep_warns_customers_whose_orders_stopped(session, customers, today):
    counts = _sweep(session, today)
    assert counts["warnings raised"] == 4
    assert _states(session) == {
        "七个月没下单": "warning",
        "两个月前下单": "none",
        "从未下单": "none",
        "只有取消的订单": "none",
        "整六个月": "warning",
        "六个月差一天": "none",
        "公海老客户": "warning",
        "西部老客户": "warning",
    }
    warned = session.get(Customer, customers["七个月没下单"].id)
    assert warned.churn_warned_at is not None and warned.churn_changed_at is not None


def test_a_warning_is_not_an_edit(session, customers, today):
    """The sweep's warning leaves 更新时间 alone: it orders the customer list and feeds the
    preset 近30天更新 (R-ENTRY-5), which a nightly recomputation must not fill."""
    edited = datetime(2025, 1, 2, 3, 4, 5)
    quiet = session.get(Customer, customers["七个月没下单"].id)
    quiet.updated_at = edited
    session.commit()
    version = quiet.version
    _sweep(session, today)
    session.expire_all()
    quiet = session.get(Customer, quiet.id)
    assert quiet.churn_state == "warning" and quiet.updated_at == edited
    assert quiet.version == version  # a form opened before the sweep still saves


def test_sweeping_twice_changes_nothing_the_second_time(session, customers, today):
    _sweep(session, today)
    before = {name: _state(session, c) for name, c in customers.items()}
    again = _sweep(session, today)
    assert again == {"cleared": 0, "warnings again": 0, "warnings raised": 0}
    assert {name: _state(session, c) for name, c in customers.items()} == before


def test_months_come_from_the_grade(session, world, today):
    clerk = world["east.clerk1"]
    grade_a = grade(session, "A")
    grade_a.churn_months = 3
    session.commit()
    try:
        graded = make_customer(session, clerk, name="A级四个月", grade_id=grade_a.id)
        make_order(session, graded, signed_on=churn.months_before(today, 4))
        ungraded = make_customer(session, clerk, name="无等级四个月")
        make_order(session, ungraded, signed_on=churn.months_before(today, 4))
        session.commit()
        _sweep(session, today)
        assert _states(session) == {"A级四个月": "warning", "无等级四个月": "none"}
    finally:
        session.rollback()
        session.get(Grade, grade_a.id).churn_months = 6
        session.commit()


def test_owner_retains_until_a_date_then_the_warning_returns(session, customers, world, today):
    _sweep(session, today)
    customer = session.get(Customer, customers["七个月没下单"].id)
    until = today + timedelta(days=14)
    churn.retain(session, customer, by=world["east.clerk1"], measure="赠送保养券", until=until)
    session.commit()
    assert _state(session, customer)[:4] == (
        "retained",
        customer.churn_warned_at,
        "赠送保养券",
        until,
    )
    assert _sweep(session, until)["warnings again"] == 0  # still waiting that day
    session.commit()
    assert _sweep(session, until + timedelta(days=1))["warnings again"] == 1
    session.commit()
    assert _state(session, customer)[0] == "warning"
    actions = session.scalars(select(AuditLog.action).where(AuditLog.record_id == customer.id))
    assert "churn_retain" in list(actions)


def test_confirm_lost_with_a_reason(session, customers, world, today):
    _sweep(session, today)
    customer = session.get(Customer, customers["七个月没下单"].id)
    churn.confirm_lost(session, customer, by=world["east.head"], reason="已转向竞争对手")
    session.commit()
    state = _state(session, customer)
    assert (state[0], state[4]) == ("lost", "已转向竞争对手")
    _sweep(session, today + timedelta(days=400))
    assert _state(session, customer)[0] == "lost"  # the sweep leaves a decision alone


@pytest.mark.parametrize(
    ("who", "call", "message"),
    [
        ("east.clerk2", "retain", "R-CHURN-1"),  # not the owner
        ("west.head", "lose", "R-CHURN-1"),  # another division's head
        ("east.admin", "lose", "R-CHURN-1"),
        ("east.clerk1", "retain_blank", "挽留措施"),
        ("east.clerk1", "retain_past", "不能早于今天"),
        ("east.clerk1", "lose_blank", "流失原因"),
    ],
)
def test_wrong_person_or_missing_text_is_refused(
    session, customers, world, today, who, call, message
):
    _sweep(session, today)
    customer = session.get(Customer, customers["七个月没下单"].id)
    before = _state(session, customer)
    customer = session.get(Customer, customer.id)
    by = world[who]
    with pytest.raises(BusinessRuleError, match=message):
        if call == "retain":
            churn.retain(session, customer, by=by, measure="回访", until=today)
        elif call == "retain_blank":
            churn.retain(session, customer, by=by, measure=" ", until=today)
        elif call == "retain_past":
            churn.retain(session, customer, by=by, measure="回访", until=today - timedelta(days=1))
        elif call == "lose":
            churn.confirm_lost(session, customer, by=by, reason="价格")
        else:
            churn.confirm_lost(session, customer, by=by, reason="")
    session.flush()
    assert _state(session, customer) == before


def test_a_customer_without_warning_cannot_be_retained(session, customers, world):
    customer = session.get(Customer, customers["两个月前下单"].id)
    with pytest.raises(BusinessRuleError, match="R-CHURN-1"):
        churn.retain(session, customer, by=world["east.clerk1"], measure="x", until=now().date())
    assert not churn.may(customer, "retain", world["east.clerk1"])


@pytest.mark.parametrize("decision", ["warning", "retained", "lost"])
def test_a_new_order_clears_the_state(session, customers, world, today, decision):
    _sweep(session, today)
    customer = session.get(Customer, customers["七个月没下单"].id)
    if decision == "retained":
        churn.retain(session, customer, by=world["east.clerk1"], measure="回访", until=today)
    elif decision == "lost":
        churn.confirm_lost(session, customer, by=world["east.clerk1"], reason="价格")
    session.commit()
    late_entry = make_order(session, customer, signed_on=churn.months_before(today, 8))
    assert churn.on_order_recorded(session, late_entry) is False  # an old order, entered late
    cancelled = make_order(session, customer, signed_on=today, state="cancelled")
    assert churn.on_order_recorded(session, cancelled) is False
    order = make_order(session, customer, signed_on=today)
    assert churn.on_order_recorded(session, order, by=world["east.clerk1"]) is True
    session.commit()
    assert _state(session, customer)[:5] == ("none", None, None, None, None)
    assert _sweep(session, today)["warnings raised"] == 0


def test_the_sweep_clears_customers_whose_orders_came_another_way(session, customers, today):
    _sweep(session, today)
    customer = session.get(Customer, customers["七个月没下单"].id)
    make_order(session, customer, signed_on=today - timedelta(days=1))  # e.g. an import
    session.commit()
    counts = _sweep(session, today)
    assert counts["cleared"] == 1 and counts["warnings raised"] == 0
    assert _state(session, customer)[0] == "none"


def test_preset_criteria(session, customers, today):
    _sweep(session, today)
    warned = session.scalars(select(Customer.name).where(churn.preset_criterion("churn_warning")))
    assert len(list(warned)) == 4
    assert churn.preset_criterion("mine") is None
