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


def _capped_count(session: Session, stmt, cap: int = CANDIDATE_LIMIT) -> int:
    """Rows of `stmt`, counting no further than cap + 1."""
    return session.scalar(select(func.count()).select_from(stmt.limit(cap + 1).subquery()))


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


def _gram_candidates(session: Session, word: str):
    """(select of customer ids, how many up to the cap) for the word's rarest pair."""
    text = fold(word)
    if len(text) == 1:
        options = [CustomerGram.lead == text]
    else:
        pairs = {(a, b) for a, b in zip(text, text[1:], strict=False)}
        options = [and_(CustomerGram.lead == a, CustomerGram.follow == b) for a, b in sorted(pairs)]
    best = None
    for option in options:
        stmt = select(CustomerGram.customer_id).where(option)
        # Counting past the best so far would not change the choice.
        size = _capped_count(session, stmt, best[1] if best else CANDIDATE_LIMIT)
        if best is None or size < best[1]:
            best = (stmt, size)
        if size <= 50:  # few enough: no need to look further
            break
    return best


def word_criterion(session: Session, word: str) -> ColumnElement[bool]:
    """`word_matches`, restricted to its index candidates when they are few."""
    exact = word_matches(word)
    best = _gram_candidates(session, word)
    if best is None:
        return exact
    candidates, size = best
    if _is_digits(word):
        by_mobile = select(Customer.id).where(mobile_prefix(word))
        size += _capped_count(session, by_mobile)
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
