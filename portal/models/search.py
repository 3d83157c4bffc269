"""The n-gram index behind customer name search (issue #4), kept in step with the names.

A customer's name, lower-cased, is stored as one row per character: the character
(`lead`) and the one after it (`follow`, '' at the end). A one-character query looks up
`lead`, a longer one its rarest pair; portal/search.py then checks the real substring
match on those candidates only, so an extra or stale row can never change a result,
while a missing one would: every path that writes a name must keep the rows.

Two session hooks do it for the ORM: `after_flush` for customers added, renamed or
deleted as objects, and `do_orm_execute` for bulk `insert(Customer)` (the demo loader).
Bulk writers that bypass the ORM (portal/services/bulk_demo.py) write the rows
themselves with `name_grams`; a Core UPDATE of names must call `reindex_customers`.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ForeignKey, Index, String, delete, event, insert, inspect, select, tuple_
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.models.base import Base
from portal.models.crm import Customer

END = ""  # `follow` of a name's last character


class CustomerGram(Base):
    """One character of a customer's lower-cased name and the character after it."""

    __tablename__ = "customer_grams"
    __table_args__ = (
        Index("ix_customer_grams_customer_id", "customer_id"),
        {"sqlite_with_rowid": False},
    )
    lead: Mapped[str] = mapped_column(String(1), primary_key=True)
    follow: Mapped[str] = mapped_column(String(1), primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )


def fold(text: str) -> str:
    """The case folding of the index; an SQL lower() match is always a match of this."""
    return text.lower()


def name_grams(name: str | None) -> set[tuple[str, str]]:
    """(character, next character or '') for every non-blank character of the name."""
    text = fold(name or "")
    last = len(text) - 1
    return {(ch, text[i + 1] if i < last else END) for i, ch in enumerate(text) if not ch.isspace()}


def gram_rows(customer_id: int, name: str | None) -> list[dict]:
    return [
        {"lead": lead, "follow": follow, "customer_id": customer_id}
        for lead, follow in name_grams(name)
    ]


def reindex_customers(session: Session, customers: Iterable[tuple[int, str | None]]) -> None:
    """Replace the gram rows of these (id, name) pairs."""
    pairs = list(customers)
    if not pairs:
        return
    connection = session.connection()
    ids = [customer_id for customer_id, _name in pairs]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        connection.execute(delete(CustomerGram).where(CustomerGram.customer_id.in_(chunk)))
    rows = [row for customer_id, name in pairs for row in gram_rows(customer_id, name)]
    if rows:
        connection.execute(insert(CustomerGram), rows)


def _name_changed(customer: Customer) -> bool:
    return inspect(customer).attrs.name.history.has_changes()


@event.listens_for(Session, "after_flush")
def _index_flushed_customers(session: Session, flush_context) -> None:
    changed = [
        (c.id, c.name)
        for c in (*session.new, *session.dirty)
        if isinstance(c, Customer) and c.id is not None and (c in session.new or _name_changed(c))
    ]
    gone = [c.id for c in session.deleted if isinstance(c, Customer) and c.id is not None]
    if gone:  # SQLite without foreign keys enforced has no ON DELETE CASCADE
        session.connection().execute(delete(CustomerGram).where(CustomerGram.customer_id.in_(gone)))
    reindex_customers(session, changed)


@event.listens_for(Session, "do_orm_execute")
def _index_bulk_inserted_customers(state) -> object:
    """`session.execute(insert(Customer), rows)` fires no flush: index those rows too,
    finding their ids by (division, name), which is unique."""
    table = getattr(state.statement, "table", None)
    if not state.is_insert or getattr(table, "name", None) != Customer.__tablename__:
        return None
    params = state.parameters
    rows = params if isinstance(params, list) else [params] if params else []
    keys = [(r["division_id"], r["name"]) for r in rows if "division_id" in r and "name" in r]
    if not keys:
        return None
    result = state.invoke_statement()
    session = state.session
    found: list[tuple[int, str]] = []
    for start in range(0, len(keys), 400):
        chunk = keys[start : start + 400]
        found.extend(
            session.connection().execute(
                select(Customer.id, Customer.name).where(
                    tuple_(Customer.division_id, Customer.name).in_(chunk)
                )
            )
        )
    reindex_customers(session, found)
    return result
