"""Paging lists of a million rows (issue #4): the two costs Flask-Admin pays per page.

* The count: Flask-Admin runs `count(*)` of the whole result on every page. Here a
  count stops at EXACT_UP_TO rows, which is all a search or a narrow filter needs; a
  longer list is counted once and the figure kept for COUNT_TTL seconds per view, user
  and query, so the pager still shows every page (an estimate of a list that long may
  lag a few rows behind for that time).
* The page: `OFFSET 19980` on the full query joins and skips 20,000 rows. Here the
  page's ids are chosen first by a query that reads only the sort columns (an index
  scan), then just those rows are loaded with their relations, in that order.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable, Sequence

from sqlalchemy import Column, UnaryExpression, func, literal_column, select
from sqlalchemy.sql.util import ClauseAdapter

from portal import scope
from portal.models import Customer

EXACT_UP_TO = 2000
COUNT_TTL = 60.0
CACHE_SIZE = 2048


class CountCache:
    """Recent counts of long lists, per process, expiring after `ttl` seconds."""

    def __init__(self, ttl: float = COUNT_TTL, size: int = CACHE_SIZE):
        self.ttl, self.size = ttl, size
        self._items: OrderedDict[Hashable, tuple[float, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> int | None:
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] < time.monotonic():
                return None
            return item[1]

    def put(self, key: Hashable, count: int) -> None:
        with self._lock:
            self._items[key] = (time.monotonic() + self.ttl, count)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


counts = CountCache()


# Models whose `scope.visible` keeps every user who does not see all divisions inside
# his own, in each arm of its OR (portal/scope.py); tests/views/test_paging.py checks it.
DIVISION_BOUND = frozenset({Customer})


def division_hint(model, user):
    """`division_id = mine`, already implied by the scope, stated once more at the top of
    the WHERE clause: SQLite cannot see that the arms of the scope's OR name the same
    division (they are separate bound parameters), so without it a clerk's list is
    gathered and sorted (0.5 s at 1M rows) instead of read in order from the index."""
    if model not in DIVISION_BOUND or scope.sees_all(user):
        return None
    if getattr(user, "division_id", None) is None:
        return None
    return model.division_id == user.division_id


def page_and_count(query, count_query, model, page, page_size, *, key, tiebreak_desc, resort=None):
    """(count, ids of the page) for a list query already sorted. A list known to be long
    (its count is in the cache) reads just its page from the sort index. Otherwise the
    first EXACT_UP_TO + 1 matching ids are read in no particular order, which lets the
    database use the index of the filter rather than that of the sort: a filter that
    matches few rows or none (value class A before the first sweep) does not walk the
    whole division in list order looking for them. A shorter list is counted from those
    ids and its page sorted among them (by `resort`, the list's sorting without its
    filters, which those ids already met); a longer one is counted once and its count
    kept. The id breaks ties in the order, so a row never shows on two pages.

    Those ids are not sent back and forth: one statement reads them into a CTE, counts
    them and sorts the page among them (`_short_page`), where a second statement bound
    one parameter per id (4-5 ms on PostgreSQL for the 641 ids of a three-character
    search, of which the sort itself took 1)."""
    tiebreak = model.id.desc() if tiebreak_desc else model.id.asc()
    ordered = query.with_entities(model.id).order_by(tiebreak)
    start = (page or 0) * page_size
    count = counts.get(key)
    if count is None:
        among = resort.with_entities(model.id).order_by(tiebreak) if resort is not None else ordered
        short = _short_page(query, among, model, start, page_size)
        if short is not None:
            return short
        count = count_query.scalar()
        counts.put(key, count)
    return count, _ids(ordered.offset(start).limit(page_size))


def _sort_columns(among, model) -> list | None:
    """The columns of the model's own table that the order of `among` reads (the id
    first), or None when it sorts by anything else (an expression, a joined table)."""
    columns = {"id": model.id}
    for clause in among._order_by_clauses:
        element = clause
        while isinstance(element, UnaryExpression):  # DESC, NULLS LAST
            element = element.element
        if not isinstance(element, Column) or element.table is not model.__table__:
            return None
        columns.setdefault(element.key, element)
    return list(columns.values())


def _short_page(query, among, model, start: int, page_size: int):
    """(count, page ids) when the list holds at most EXACT_UP_TO rows, else None.

    One statement: the first EXACT_UP_TO + 1 rows of `query` (unordered) in a CTE,
    materialized as it is read twice, their number beside each row of the page, and
    the page sorted in the order of `among` among them. When that order reads only
    columns of the model's table, the CTE carries them and the page is sorted from it
    alone; otherwise the page is sorted over the table, restricted to the CTE's ids."""
    columns = _sort_columns(among, model)
    found = query.with_entities(*(columns or [model.id])).order_by(None).limit(EXACT_UP_TO + 1)
    rows_found = found.statement.cte("found").prefix_with("MATERIALIZED")
    if columns is not None and any(rows_found.corresponding_column(c) is None for c in columns):
        # Not expected; a sort column left unmapped would bring the whole table into the
        # page's FROM, so the page is then sorted over the table.
        columns = None
        found = query.with_entities(model.id).order_by(None).limit(EXACT_UP_TO + 1)
        rows_found = found.statement.cte("found").prefix_with("MATERIALIZED")
    number = select(func.count()).select_from(rows_found).scalar_subquery()
    if columns is not None:
        adapt = ClauseAdapter(rows_found).traverse
        page = select(rows_found.c.id, number).order_by(
            *(adapt(clause) for clause in among._order_by_clauses)
        )
    else:
        page = (
            among.with_entities(model.id, number)
            .filter(model.id.in_(select(rows_found.c.id)))
            .statement
        )
    session = query.session
    rows = session.execute(page.offset(start).limit(page_size)).all()
    if rows:
        total = rows[0][1]
        return (total, [row[0] for row in rows]) if total <= EXACT_UP_TO else None
    if start == 0:  # an empty first page: no rows at all
        return 0, []
    # Past the last page (or a long list): count the rows alone.
    total = session.scalar(select(func.count()).select_from(found.subquery()))
    return (total, []) if total <= EXACT_UP_TO else None


def _ids(query) -> list[int]:
    return list(query.session.scalars(query.statement))


def count_rows(count_query, key: Hashable) -> int:
    """How many rows: exact up to EXACT_UP_TO, else counted once per COUNT_TTL."""
    probe = count_query.with_entities(literal_column("1")).limit(EXACT_UP_TO + 1)
    capped = probe.session.scalar(select(func.count()).select_from(probe.subquery()))
    if capped <= EXACT_UP_TO:
        return capped
    cached = counts.get(key)
    if cached is not None:
        return cached
    total = count_query.scalar()
    counts.put(key, total)
    return total


def load_rows(session, model, ids: Sequence[int], options: Sequence = ()) -> list:
    """The rows with these ids, with their relations, in the order of `ids`."""
    if not ids:
        return []
    rows = session.query(model).options(*options).filter(model.id.in_(ids)).all()
    by_id = {row.id: row for row in rows}
    return [by_id[i] for i in ids if i in by_id]
