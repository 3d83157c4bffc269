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

from sqlalchemy import func, literal_column, select

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
    kept. The id breaks ties in the order, so a row never shows on two pages."""
    tiebreak = model.id.desc() if tiebreak_desc else model.id.asc()
    ordered = query.with_entities(model.id).order_by(tiebreak)
    start = (page or 0) * page_size
    count = counts.get(key)
    if count is None:
        found = _ids(query.with_entities(model.id).order_by(None).limit(EXACT_UP_TO + 1))
        if len(found) <= EXACT_UP_TO:
            if not found or start >= len(found):
                return len(found), []
            among = resort.with_entities(model.id).order_by(tiebreak) if resort else ordered
            page_ids = _ids(among.filter(model.id.in_(found)).offset(start).limit(page_size))
            return len(found), page_ids
        count = count_query.scalar()
        counts.put(key, count)
    return count, _ids(ordered.offset(start).limit(page_size))


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
