"""Customer search through the name index gives exactly the plain substring match,
within the user's scope, on both databases (issue #4)."""

from __future__ import annotations

import random
import re
from datetime import datetime

import pytest
from sqlalchemy import and_, delete, event, insert, select

from portal import scope, search
from portal.models import Customer, CustomerGram
from portal.models.search import name_grams
from portal.services.bulk_demo import load_bulk_customers
from tests.factories import make_customer

AT = datetime(2026, 6, 1, 12, 0)
ODD_NAMES = [
    "IBM 中国有限公司",
    "Ab张三cD",
    "百分之百%商行",
    "下划线_贸易",
    "反斜杠\\工作室",
    "王",
    "😀表情包科技",
]


@pytest.fixture
def sample(session, world):
    """A few thousand generated customers plus some names with case, blanks and LIKE
    metacharacters, created as ORM objects (so indexed by the flush hook)."""
    load_bulk_customers(session, 3000, seed=11, at=AT)
    clerk = world["east.clerk1"]
    for name in ODD_NAMES:
        make_customer(session, clerk, name=name, mobile=None)
    session.commit()
    return world


def _ids(session, user, criterion):
    stmt = select(Customer.id).where(scope.visible(Customer, user), criterion)
    return set(session.scalars(stmt))


def _plain(word: str):
    """The reference: LIKE on the name (and a digit prefix on the mobile), no index."""
    return search.word_matches(word)


def _queries(session) -> list[str]:
    rng = random.Random(3)
    names = sorted(session.scalars(select(Customer.name)))
    picks = []
    for length in (1, 1, 2, 2, 2, 3, 3, 3):
        for _ in range(4):
            name = rng.choice(names)
            if len(name) >= length:
                start = rng.randrange(len(name) - length + 1)
                picks.append(name[start : start + length])
    mobiles = [m for m in session.scalars(select(Customer.mobile)) if m]
    picks += [rng.choice(mobiles)[:n] for n in (3, 4, 7, 11)]
    return picks + ["ab", "AB", "中国", "%", "_", "\\", "😀", "查无此人", "9999", "公司 有限"]


@pytest.mark.parametrize("username", ["east.clerk1", "east.head", "west.clerk2", "gm"])
def test_search_equals_plain_substring_match(session, sample, username):
    user = sample[username]
    for query in _queries(session):
        expected = _ids(session, user, and_(*(_plain(word) for word in query.split())))
        got = _ids(session, user, search.customer_search(session, query))
        assert got == expected, query


def test_both_ways_of_reading_agree(session, sample, monkeypatch):
    """Few candidates → read them; many → scan in list order: same rows either way."""
    head = sample["east.head"]
    for query in ("司", "有限", "科技有", "138", "张"):
        with_index = _ids(session, head, search.customer_search(session, query))
        monkeypatch.setattr(search, "CANDIDATE_LIMIT", 0)
        scanning = _ids(session, head, search.customer_search(session, query))
        monkeypatch.undo()
        assert with_index == scanning == _ids(session, head, _plain(query)), query


def test_short_words_use_the_index(session, sample):
    criterion = search.customer_search(session, "桂兰")
    sql = str(criterion.compile(compile_kwargs={"literal_binds": True}))
    assert "customer_grams" in sql
    mobile = str(search.customer_search(session, "1381234").compile())
    assert "customers.mobile >=" in mobile


def test_names_stay_indexed_when_created_renamed_or_deleted(session, world):
    customer = make_customer(session, world["east.clerk1"], name="星辰大海科技")
    session.commit()
    assert _grams(session, customer.id) == name_grams("星辰大海科技")
    customer.name = "晨光文具店"
    session.commit()
    assert _grams(session, customer.id) == name_grams("晨光文具店")
    session.delete(customer)
    session.commit()
    assert _grams(session, customer.id) == set()


def test_bulk_inserted_customers_are_indexed(session, world):
    """`session.execute(insert(Customer), rows)`, as the demo loader does."""
    clerk = world["east.clerk1"]
    session.execute(
        insert(Customer),
        [
            {"division_id": clerk.division_id, "name": name, "owner_id": clerk.id}
            for name in ("甲乙丙商行", "丁戊己公司")
        ],
    )
    session.commit()
    ids = dict(session.execute(select(Customer.name, Customer.id)).all())
    assert _grams(session, ids["甲乙丙商行"]) == name_grams("甲乙丙商行")
    assert _ids(session, world["east.head"], search.customer_search(session, "戊己")) == {
        ids["丁戊己公司"]
    }


def test_a_stale_index_row_never_adds_a_result(session, world):
    customer = make_customer(session, world["east.clerk1"], name="普通客户")
    session.execute(insert(CustomerGram).values(lead="假", follow="名", customer_id=customer.id))
    session.commit()
    assert _ids(session, world["east.head"], search.customer_search(session, "假名")) == set()
    session.execute(delete(CustomerGram).where(CustomerGram.customer_id == customer.id))
    session.commit()


def _grams(session, customer_id):
    rows = session.execute(
        select(CustomerGram.lead, CustomerGram.follow).where(
            CustomerGram.customer_id == customer_id
        )
    )
    return {tuple(row) for row in rows}


def test_list_page_search_shows_the_matches_in_list_order(login, session, sample):
    head = sample["east.head"]
    expected = session.scalars(
        select(Customer.id)
        .where(
            scope.visible(Customer, head),
            Customer.owner_id.is_not(None),
            _plain("兰"),
        )
        .order_by(Customer.pinned.desc(), Customer.updated_at.desc(), Customer.id.desc())
    ).all()
    assert expected, "the sample has names with 兰"
    html = login("east.head").get("/admin/customer/?search=兰").get_data(as_text=True)
    shown = [int(i) for i in re.findall(r"/details/\?id=(\d+)", html)]
    assert shown == expected[:20]
    assert f"({len(expected)})" in html  # the count beside the list tab


def test_pool_search_uses_the_same_match(login, session, sample):
    clerk = sample["east.clerk1"]
    expected = set(
        session.scalars(
            select(Customer.id).where(
                scope.visible(Customer, clerk), Customer.owner_id.is_(None), _plain("华")
            )
        )
    )
    html = login("east.clerk1").get("/admin/pool/?search=华&page_size=100").get_data(as_text=True)
    shown = {int(i) for i in re.findall(r"/details/\?id=(\d+)", html)}
    assert shown and shown <= expected
    assert len(shown) == min(len(expected), 100)


@pytest.mark.parametrize("query", ["鸿睿思", "科技有限", "138", "王"])
def test_a_word_is_weighed_in_one_statement(session, sample, query):
    """All the pairs of a word (and, for digits, the mobile prefix) are counted by one
    statement, not one each; the criterion is then built without another query."""
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        search.customer_search(session, query)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(seen) == 1, seen
    pairs = {query[i : i + 2] for i in range(len(query) - 1)} or {query}
    assert seen[0].count("FROM customer_grams") == len(pairs)
