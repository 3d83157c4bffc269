"""List paging at scale (issue #4): pages chosen by id keep the list order, counts are
exact for short lists and cached for long ones, and the division hint changes nothing."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from sqlalchemy import func, select

from portal import scope
from portal.models import Activity, Contact, Customer, CustomerShare, Order
from portal.views import paging
from tests.factories import make_activity, make_contact, make_customer, make_order

SAME_TIME = datetime(2026, 5, 1, 9, 0)
DETAILS = re.compile(r"/details/\?id=(\d+)")


@pytest.fixture(autouse=True)
def fresh_counts():
    paging.counts.clear()
    yield
    paging.counts.clear()


def _shown(client, url) -> list[int]:
    response = client.get(url)
    assert response.status_code == 200
    return [int(i) for i in DETAILS.findall(response.get_data(as_text=True))]


def _make(session, owner, n, **fields):
    return [make_customer(session, owner, updated_at=SAME_TIME, **fields) for _ in range(n)]


def _list_order(session, user, *criteria):
    return session.scalars(
        select(Customer.id)
        .where(scope.visible(Customer, user), Customer.owner_id.is_not(None), *criteria)
        .order_by(Customer.pinned.desc(), Customer.updated_at.desc(), Customer.id.desc())
    ).all()


@pytest.mark.parametrize("exact_up_to", [10, 100])
def test_pages_keep_the_list_order_when_sort_keys_tie(
    login, session, world, monkeypatch, exact_up_to
):
    """45 customers updated at the same second: every one on exactly one page, in order,
    whether the list is long (its pages read from the sort index) or short (its ids read
    unordered, each page sorted among them)."""
    clerk = world["east.clerk1"]
    _make(session, clerk, 45)
    make_customer(session, clerk, pinned=True)
    session.commit()
    expected = _list_order(session, clerk)
    monkeypatch.setattr(paging, "EXACT_UP_TO", exact_up_to)
    client = login("east.clerk1")
    pages = [_shown(client, f"/admin/customer/?page={p}") for p in range(4)]
    assert [i for page in pages for i in page] == expected
    assert pages[3] == []


def test_count_is_exact_when_short_and_kept_a_while_when_long(login, session, world, monkeypatch):
    clerk = world["east.clerk1"]
    _make(session, clerk, 12)
    _make(session, clerk, 3)
    session.commit()
    monkeypatch.setattr(paging, "EXACT_UP_TO", 5)
    client = login("east.clerk1")
    assert "(15)" in client.get("/admin/customer/").get_data(as_text=True)
    _make(session, clerk, 2)
    session.commit()
    # A long list's count is kept for COUNT_TTL seconds; the rows themselves are fresh.
    html = client.get("/admin/customer/").get_data(as_text=True)
    assert "(15)" in html and len(DETAILS.findall(html)) == 17
    paging.counts.clear()
    assert "(17)" in client.get("/admin/customer/").get_data(as_text=True)
    # A short result (a search) is always counted exactly.
    make_customer(session, clerk, name="独一无二商行")
    session.commit()
    assert "(1)" in client.get("/admin/customer/?search=独一无二").get_data(as_text=True)


def test_sorting_by_a_column_pages_in_that_order(login, session, world, monkeypatch):
    clerk = world["east.clerk1"]
    for name in ("丙公司", "甲公司", "乙公司", "丁公司", "戊公司", "己公司", "庚公司"):
        make_customer(session, clerk, name=name)
    session.commit()
    mine = select(Customer.id).where(Customer.owner_id == clerk.id)
    expected = session.scalars(mine.order_by(Customer.name, Customer.id)).all()
    monkeypatch.setattr(paging, "EXACT_UP_TO", 3)
    client = login("east.clerk1")
    column = 1  # "name" in CustomerView.column_list
    first = _shown(client, f"/admin/customer/?sort={column}&page_size=20")
    assert first == expected


def test_page_past_the_end_is_empty(login, session, world):
    _make(session, world["east.clerk1"], 3)
    session.commit()
    assert _shown(login("east.clerk1"), "/admin/customer/?page=50") == []


@pytest.mark.parametrize("username", ["east.clerk1", "east.head", "east.admin", "gm", "admin"])
def test_division_hint_changes_no_result(session, world, username):
    """The hint restates what `scope.visible` already implies for customers."""
    east, west = world["east.clerk1"], world["west.clerk1"]
    _make(session, east, 3)
    _make(session, west, 3)
    _make(session, None, 2, division=east.division)
    _make(session, None, 2, division=west.division)
    colleague = _make(session, world["east.clerk2"], 2)
    session.add(CustomerShare(customer_id=colleague[0].id, user_id=east.id))
    session.commit()
    user = world[username]
    visible = scope.visible(Customer, user)
    hint = paging.division_hint(Customer, user)
    plain = set(session.scalars(select(Customer.id).where(visible)))
    hinted = set(session.scalars(select(Customer.id).where(visible, *([hint] if hint else []))))
    assert plain == hinted


@pytest.mark.parametrize(
    ("url", "model"),
    [("/admin/contact/", Contact), ("/admin/activity/", Activity), ("/admin/order/", Order)],
)
def test_long_lists_count_the_clerks_rows_only(login, session, world, monkeypatch, url, model):
    """A long list is counted with the counting shape of the scope (IN, not EXISTS):
    the figure is exactly the clerk's rows — his customers', a shared one's, none of a
    colleague's or the other division's (R-SCOPE-2)."""
    clerk, colleague = world["east.clerk1"], world["east.clerk2"]
    mine = [make_customer(session, clerk) for _ in range(3)]
    shared = make_customer(session, colleague)
    session.add(CustomerShare(customer_id=shared.id, user_id=clerk.id, can_edit=False))
    others = [make_customer(session, colleague), make_customer(session, world["west.clerk1"])]
    for customer in [*mine, shared, *others]:
        for _ in range(2):
            if model is Contact:
                make_contact(session, customer)
            elif model is Activity:
                make_activity(session, customer)
            else:
                make_order(session, customer)
    session.commit()
    expected = session.scalar(
        select(func.count()).select_from(model).where(scope.visible(model, clerk))
    )
    assert expected == 8  # 3 own customers and the shared one, two rows each
    monkeypatch.setattr(paging, "EXACT_UP_TO", 3)
    assert f"({expected})" in login("east.clerk1").get(url).get_data(as_text=True)
