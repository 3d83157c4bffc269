"""Value classes A/B/C (R-VALUE-1): a hand computation, the demo data, history, idempotence."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.clock import now
from portal.models import Customer, Order, ValueClassChange
from portal.models import CustomerStanding as S
from portal.services import value
from portal.services.churn import months_before
from portal.services.demo import load_demo
from tests.factories import make_customer, make_order

DAY = date(2026, 6, 30)


def _sweep(session, day=DAY) -> dict[str, int]:
    counts = value.sweep_value_classes(session, day)
    session.commit()  # the bulk statements bypass the identity map; the commit expires it
    return counts


def _classes(session) -> dict[str, tuple[str, Decimal]]:
    rows = session.execute(
        select(Customer.name, S.value_class, S.value_amount_12m).join(Customer.standing)
    )
    return {name: (cls, Decimal(amount).quantize(Decimal("0.01"))) for name, cls, amount in rows}


@pytest.fixture
def east(session, world):
    """20 customers of east. By hand, n = 20: A is rank 1 (⌈5% · 20⌉ = 1),
    B ranks 2–4 (⌈20% · 20⌉ = 4); equal amounts share a rank."""
    clerk = world["east.clerk1"]
    amounts = {"甲": [30000, 20000], "乙": [40000], "丙": [30000], "丁": [30000], "戊": [20000]}
    for name, parts in amounts.items():
        customer = make_customer(session, clerk, name=name)
        for i, amount in enumerate(parts):
            make_order(session, customer, amount=Decimal(amount), signed_on=DAY - timedelta(i))
    old = make_customer(session, clerk, name="己")  # outside the 12 months, and cancelled
    make_order(session, old, amount=Decimal(999999), signed_on=months_before(DAY, 12))
    make_order(session, old, amount=Decimal(999999), signed_on=DAY, state="cancelled")
    make_order(
        session, old, amount=Decimal("0.50"), signed_on=months_before(DAY, 12) + timedelta(1)
    )
    future = make_customer(session, clerk, name="庚")  # signed after the sweep's day
    make_order(session, future, amount=Decimal(999999), signed_on=DAY + timedelta(1))
    for i in range(13):
        make_customer(session, clerk if i % 2 else None, division=clerk.division, name=f"零{i}")
    west = world["west.clerk1"]
    for name, amount in (("西一", 100), ("西二", 90), ("西三", 0)):
        customer = make_customer(session, west, name=name)
        if amount:
            make_order(session, customer, amount=Decimal(amount), signed_on=DAY)
    session.commit()


def test_classes_match_the_hand_computation(session, east):
    counts = _sweep(session)
    got = _classes(session)
    expected = {
        "甲": ("A", Decimal("50000.00")),
        "乙": ("B", Decimal("40000.00")),
        "丙": ("B", Decimal("30000.00")),  # rank 3
        "丁": ("B", Decimal("30000.00")),  # rank 3, tied
        "戊": ("C", Decimal("20000.00")),  # rank 5
        "己": ("C", Decimal("0.50")),
        "庚": ("C", Decimal("0.00")),
        # west, n = 3: ⌈5% · 3⌉ = 1 and ⌈20% · 3⌉ = 1: only the first is not C
        "西一": ("A", Decimal("100.00")),
        "西二": ("C", Decimal("90.00")),
        "西三": ("C", Decimal("0.00")),
    }
    for i in range(13):
        expected[f"零{i}"] = ("C", Decimal("0.00"))
    assert got == expected
    # Everyone starts in C with 0 (no orders yet): only 甲 乙 丙 丁 西一 change class, and
    # those plus 戊 己 西二 (amounts above 0) are written.
    assert counts == {"class changes": 5, "customers updated": 8}
    history = session.scalars(select(ValueClassChange).order_by(ValueClassChange.id)).all()
    assert len(history) == 5 and all(h.from_class == "C" for h in history)


def test_second_sweep_changes_nothing(session, east):
    _sweep(session)
    before = _classes(session)
    assert _sweep(session) == {"class changes": 0, "customers updated": 0}
    assert _classes(session) == before
    assert session.scalar(select(func.count()).select_from(ValueClassChange)) == 5


def test_a_class_is_not_an_edit(session, east):
    """A recomputed class leaves 更新时间 alone (see the churn warning's test)."""
    edited = datetime(2025, 1, 2, 3, 4, 5)
    for customer in session.scalars(select(Customer)):
        customer.updated_at = edited
    session.commit()
    _sweep(session)
    session.expire_all()
    assert set(session.scalars(select(Customer.updated_at))) == {edited}
    top = select(S.value_class).join(Customer.standing).where(Customer.name == "甲")
    assert session.scalar(top) == "A"


def test_history_records_only_changes(session, east, world):
    _sweep(session)
    first = session.scalar(select(func.max(ValueClassChange.id)))
    rising = session.scalar(select(Customer).where(Customer.name == "戊"))
    make_order(session, rising, amount=Decimal(100000), signed_on=DAY)
    session.commit()
    counts = _sweep(session)
    assert counts == {"class changes": 2, "customers updated": 2}
    got = _classes(session)
    assert got["戊"] == ("A", Decimal("120000.00"))
    assert got["甲"][0] == "B"
    changes = session.execute(
        select(Customer.name, ValueClassChange.from_class, ValueClassChange.to_class)
        .join(Customer, Customer.id == ValueClassChange.customer_id)
        .where(ValueClassChange.id > first)
        .order_by(Customer.name)
    ).all()
    assert sorted(changes) == sorted([("戊", "C", "A"), ("甲", "A", "B")])


def test_orders_age_out_of_the_window(session, east):
    _sweep(session)
    later = DAY + timedelta(days=365)  # the window is then (DAY, DAY + 1 year]
    counts = _sweep(session, later)
    got = _classes(session)
    assert got["甲"] == ("C", Decimal("0.00"))
    assert got["庚"] == ("A", Decimal("999999.00"))
    assert counts["class changes"] > 0


def _by_hand(session, day: date) -> dict[int, str]:
    """The rule written out in Python over plain rows, for the comparison."""
    start = months_before(day, 12)
    amounts: dict[int, Decimal] = defaultdict(Decimal)
    for customer_id, amount, signed_on, state in session.execute(
        select(Order.customer_id, Order.amount, Order.signed_on, Order.state)
    ):
        if state == "valid" and start < signed_on <= day:
            amounts[customer_id] += Decimal(str(amount))
    by_division: dict[int, list[int]] = defaultdict(list)
    for customer_id, division_id in session.execute(select(Customer.id, Customer.division_id)):
        by_division[division_id].append(customer_id)
    expected = {}
    for ids in by_division.values():
        n = len(ids)
        ordered = sorted(ids, key=lambda i: -amounts[i])
        for i in ids:
            place = 1 + sum(1 for j in ordered if amounts[j] > amounts[i])
            if amounts[i] <= 0:
                expected[i] = "C"
            elif place <= math.ceil(n * 5 / 100):
                expected[i] = "A"
            elif place <= math.ceil(n * 20 / 100):
                expected[i] = "B"
            else:
                expected[i] = "C"
    return expected


def test_demo_data_per_division_matches_the_hand_computation(session):
    load_demo(session)
    session.commit()
    day = now().date()
    _sweep(session, day)
    expected = _by_hand(session, day)
    got = dict(session.execute(select(S.customer_id, S.value_class)).all())
    assert got == expected
    for division_id in set(session.scalars(select(Customer.division_id))):
        classes = list(
            session.scalars(select(S.value_class).where(S.division_id == division_id))
        )
        assert "A" in classes and "B" in classes and None not in classes
    assert _sweep(session, day) == {"class changes": 0, "customers updated": 0}
