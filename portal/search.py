"""Customer search that stays fast at a million rows (issue #4), with exact results.

The search box matches a customer when, for every word typed, its name contains the
word (case-insensitive, as `icontains`), or the word is digits and the mobile number
starts with them. That predicate is always applied as written; the index only decides
which rows it is applied to:

* the name index (portal/models/search.py) gives the customers whose name holds the
  word's rarest character pair (or, for one character, that character), and a digit
  prefix is a range on the mobile index; when these candidates are few, the query
  reads only them, so a 1-, 2- or 3-character search does not scan the table;
* when they are many (a word found in most names, like 公司), reading the list in its
  sort order and keeping the matches is faster, so no candidate set is imposed.

Either way the result is exactly that of the plain predicate; the scope and filters
are added by the view as for any list (tests/test_search.py compares both).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, func, or_, select, union_all
from sqlalchemy.orm import Session

from portal.models import Customer, CustomerGram
from portal.models.search import fold

# Above this many candidates (3% of a million customers), reading the list in its order
# finds the matches sooner than checking each candidate (~3-5 µs each).
CANDIDATE_LIMIT = 30_000


def _capped(stmt, cap: int = CANDIDATE_LIMIT):
    """Rows of `stmt`, counting no further than cap + 1, as a scalar subquery."""
    limited = stmt.limit(cap + 1).subquery()
    return select(func.count()).select_from(limited).scalar_subquery()


def _is_digits(word: str) -> bool:
    return word.isascii() and word.isdigit()


def _next_prefix(prefix: str) -> str:
    """The smallest string above every string that starts with `prefix` (digits)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def mobile_prefix(word: str) -> ColumnElement[bool] | None:
    """Mobile starts with the digits: a range the mobile index serves, then the exact
    LIKE (a range alone would depend on the collation)."""
    if not _is_digits(word):
        return None
    return and_(
        Customer.mobile >= word,
        Customer.mobile < _next_prefix(word),
        Customer.mobile.startswith(word, autoescape=True),
    )


def word_matches(word: str) -> ColumnElement[bool]:
    """The plain predicate of one word: the definition of a search result."""
    name = Customer.name.icontains(word, autoescape=True)
    mobile = mobile_prefix(word)
    return name if mobile is None else or_(name, mobile)


def _gram_options(word: str) -> list:
    """Selects of the customer ids holding each of the word's pairs (or its character)."""
    text = fold(word)
    if len(text) == 1:
        options = [CustomerGram.lead == text]
    else:
        pairs = {(a, b) for a, b in zip(text, text[1:], strict=False)}
        options = [and_(CustomerGram.lead == a, CustomerGram.follow == b) for a, b in sorted(pairs)]
    return [select(CustomerGram.customer_id).where(option) for option in options]


def word_criterion(session: Session, word: str) -> ColumnElement[bool]:
    """`word_matches`, restricted to its index candidates when they are few: those of the
    word's rarest pair, plus for digits the mobile numbers that start with them.

    Every pair (and the mobile prefix) is counted in one statement, each count stopping
    past the limit: one round trip whatever the number of pairs, where counting them one
    by one cost one each (~0.5 ms apiece on PostgreSQL). The price: every pair is now
    counted up to the limit, where the loop stopped each count at the rarest pair so far,
    so a word holding a very common pair besides a rare one reads up to CANDIDATE_LIMIT
    index entries more (~2.5 ms on PostgreSQL)."""
    exact = word_matches(word)
    options = _gram_options(word)
    by_mobile = select(Customer.id).where(mobile_prefix(word)) if _is_digits(word) else None
    counted = [*options, *([by_mobile] if by_mobile is not None else [])]
    sizes = list(session.execute(select(*(_capped(stmt) for stmt in counted))).one())
    rarest = min(range(len(options)), key=sizes.__getitem__)
    size, candidates = sizes[rarest], options[rarest]
    if by_mobile is not None:
        size += sizes[-1]
        candidates = union_all(candidates, by_mobile)
    if size > CANDIDATE_LIMIT:
        return exact
    return and_(Customer.id.in_(candidates), exact)


def customer_search(session: Session, text: str) -> ColumnElement[bool] | None:
    """The criterion of the customer search box for `text` (words AND-ed), or None."""
    words = text.split()
    if not words:
        return None
    return and_(*(word_criterion(session, word) for word in words))


# Models whose list search goes through an index (read by PortalModelView._apply_search).
INDEXED_SEARCHES = {Customer: customer_search}
