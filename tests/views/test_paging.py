"""List paging at scale (issue #4): pages chosen by id keep the list order, counts are
exact for short lists and cached for long ones, and the division hint changes nothing."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from sqlalchemy import event, func, select

from portal import scope
from portal.models import Activity, Contact, Customer, CustomerShare, Order
from portal.views import base, paging
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


def _statements(session):
    """A list that collects the SQL statements run on the session's engine."""
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    return seen, lambda: event.remove(engine, "before_cursor_execute", record)


def _page(session, criterion, order, page, size=5):
    query = session.query(Customer).filter(criterion).order_by(*order)
    resort = session.query(Customer).order_by(*order)
    count_query = session.query(func.count(Customer.id)).filter(criterion)
    return paging.page_and_count(
        query,
        count_query,
        Customer,
        page,
        size,
        key=("test", page),
        tiebreak_desc=True,
        resort=resort,
    )


@pytest.mark.parametrize(
    ("order", "sorted_in_cte"),
    [
        ((Customer.pinned.desc(), Customer.updated_at.desc()), True),  # own columns
        ((func.lower(Customer.name).desc(),), False),  # an expression: over the table
    ],
    ids=["columns", "expression"],
)
def test_short_list_is_counted_and_paged_in_one_statement(session, world, order, sorted_in_cte):
    """A short list's count and page come from one statement (its ids are never sent
    back as parameters), in the list order, whichever way the order is read; a page
    past the end is empty and still gives the exact count."""
    clerk = world["east.clerk1"]
    names = ["甲" * n + "商行" for n in range(1, 13)]
    for i, name in enumerate(names):
        make_customer(session, clerk, name=name, pinned=i % 4 == 0, updated_at=SAME_TIME)
    make_customer(session, clerk, name="别家公司")
    session.commit()
    mine = Customer.name.like("%商行")
    expected = session.scalars(
        select(Customer.id).where(mine).order_by(*order, Customer.id.desc())
    ).all()
    assert len(expected) == 12
    seen, stop = _statements(session)
    try:
        pages = [_page(session, mine, order, page) for page in range(3)]
    finally:
        stop()
    assert len(seen) == 3, seen  # one per page
    assert ("FROM found ORDER BY" in seen[0]) is sorted_in_cte, seen[0]
    assert [count for count, _ids in pages] == [12, 12, 12]
    assert [i for _count, ids in pages for i in ids] == expected
    assert _page(session, mine, order, 7) == (12, [])
    assert _page(session, Customer.name == "查无此人", order, 0) == (0, [])


def test_a_list_longer_than_exact_is_counted_in_full(session, world, monkeypatch):
    clerk = world["east.clerk1"]
    _make(session, clerk, 8)
    session.commit()
    monkeypatch.setattr(paging, "EXACT_UP_TO", 5)
    order = (Customer.updated_at.desc(),)
    expected = session.scalars(select(Customer.id).order_by(*order, Customer.id.desc())).all()
    assert _page(session, Customer.id > 0, order, 0) == (8, expected[:5])
    paging.counts.clear()
    assert _page(session, Customer.id > 0, order, 3) == (8, [])  # past the end of the ids


CSRF = re.compile(r'(name="csrf_token"[^>]*value=")[^"]+"')


@pytest.mark.parametrize(
    ("username", "url"), [("east.head", "/admin/customer/"), ("east.clerk1", "/admin/contact/")]
)
def test_row_actions_are_the_markup_flask_admin_renders(
    login, session, world, monkeypatch, username, url
):
    """Row actions rendered once per page and given each row's id (view, edit, delete
    with its form, print) come out exactly as Flask-Admin renders them row by row."""
    clerk = world["east.clerk1"]
    for customer in _make(session, clerk, 4):
        make_contact(session, customer)
    session.commit()
    client = login(username)
    fast = client.get(url).get_data(as_text=True)
    monkeypatch.setattr(base, "SAME_FOR_EVERY_ROW", frozenset())
    plain = client.get(url).get_data(as_text=True)
    assert "fa-trash" in fast and "fa-pencil" in fast  # the delete form is among them
    assert CSRF.sub(r'\1"', fast) == CSRF.sub(r'\1"', plain)
    ids = DETAILS.findall(fast)
    assert len(ids) == 4 and len(set(ids)) == 4
