"""Customer value classes (R-VALUE-1): A gold, B, C from the last 12 months' orders.

Per division, customers are ranked by the sum of their valid orders signed in the 12
months up to the sweep's day (rank(): equal amounts share a place). With n customers in
the division (pool customers and customers without orders included):
A = the top 5% — rank r with 100·(r − 1) < 5·n, i.e. r ≤ ⌈5% · n⌉, so even a small division
    has its best customer in A;
B = the next 15% — 100·(r − 1) < 20·n;
C = the rest, and always a customer whose amount is 0 — so a new customer starts in C
    (customer_standings' default) and a sweep writes only the customers orders move.
Integer arithmetic keeps SQLite and PostgreSQL identical. The ranking of the customers with
orders (and of those to reset to C) is computed once into a temporary table by window
functions; then one INSERT … SELECT writes a ValueClassChange
for each customer whose class changes and one UPDATE … FROM writes class and amount into
customer_standings where either differs, so a second sweep of the same day writes nothing.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    case,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from portal.database import scratch_table
from portal.models import Customer, CustomerStanding, Order, ValueClassChange
from portal.services.churn import months_before
from portal.services.service_requests import as_of

A_PERCENT = 5
AB_PERCENT = 20  # A and B together: the top 5% plus the next 15%
WINDOW_MONTHS = 12

_ranking = Table(
    "tmp_value_ranking",
    MetaData(),
    Column("customer_id", Integer, primary_key=True),
    Column("amount", Numeric(14, 2), nullable=False),
    Column("value_class", String(1), nullable=False),
    prefixes=["TEMPORARY"],
)

_CLASSES = CustomerStanding.__table__


def ranking_query(day: date):
    """SELECT customer_id, amount, value_class of the customers whose class or amount the
    sweep of `day` may have to write: those with orders in the window, ranked, and those
    whose standing is not yet (C, 0) without any — the rest stay in C at 0 and are not read,
    so the first sweep over a million customers ranks the quarter with orders, not all.

    A customer's place among the division's customers with a positive amount is its place
    among all of them (amount 0 ranks last), and n counts every customer of the division."""
    start = months_before(day, WINDOW_MONTHS)
    amounts = (
        select(Order.customer_id, func.sum(Order.amount).label("amount"))
        .where(Order.state == "valid", Order.signed_on > start, Order.signed_on <= day)
        .group_by(Order.customer_id)
        .having(func.sum(Order.amount) > 0)
        .subquery("amounts")
    )
    sizes = (
        select(Customer.division_id, func.count().label("n"))
        .group_by(Customer.division_id)
        .subquery("sizes")
    )
    ranked = (
        select(
            amounts.c.customer_id,
            amounts.c.amount,
            func.rank()
            .over(partition_by=Customer.division_id, order_by=amounts.c.amount.desc())
            .label("place"),
            sizes.c.n,
        )
        .select_from(amounts)
        .join(Customer, Customer.id == amounts.c.customer_id)
        .join(sizes, sizes.c.division_id == Customer.division_id)
        .subquery("ranked")
    )
    behind = (ranked.c.place - 1) * 100
    value_class = case(
        (behind < ranked.c.n * A_PERCENT, literal("A")),
        (behind < ranked.c.n * AB_PERCENT, literal("B")),
        else_=literal("C"),
    )
    with_orders = select(ranked.c.customer_id, ranked.c.amount, value_class)
    back_to_default = select(
        _CLASSES.c.customer_id, literal(0, Numeric(14, 2)), literal("C", String(1))
    ).where(
        or_(_CLASSES.c.value_class != "C", _CLASSES.c.value_amount_12m != 0),
        _CLASSES.c.customer_id.not_in(select(amounts.c.customer_id)),
    )
    return with_orders.union_all(back_to_default)


def sweep_value_classes(session: Session, day: date) -> dict[str, int]:
    """Recompute every customer's class and 12-month amount; history only for changes."""
    at = as_of(day)
    connection = session.connection()
    with scratch_table(connection, _ranking):
        connection.execute(
            insert(_ranking).from_select(
                ["customer_id", "amount", "value_class"], ranking_query(day)
            )
        )
        changed = _CLASSES.c.value_class.is_distinct_from(_ranking.c.value_class)
        history = connection.execute(
            insert(ValueClassChange).from_select(
                ["customer_id", "at", "from_class", "to_class", "amount_12m"],
                select(
                    _CLASSES.c.customer_id,
                    literal(at),
                    _CLASSES.c.value_class,
                    _ranking.c.value_class,
                    _ranking.c.amount,
                )
                .join(_ranking, _ranking.c.customer_id == _CLASSES.c.customer_id)
                .where(changed)
                .order_by(_CLASSES.c.customer_id),  # SQLite: table order, not a covering index
            ),
            execution_options={"preserve_rowcount": True},  # INSERT rowcounts are opt-in
        ).rowcount
        updated = connection.execute(
            update(_CLASSES)
            .where(
                _CLASSES.c.customer_id == _ranking.c.customer_id,
                or_(
                    _CLASSES.c.value_class.is_distinct_from(_ranking.c.value_class),
                    _CLASSES.c.value_amount_12m.is_distinct_from(_ranking.c.amount),
                ),
            )
            .values(value_class=_ranking.c.value_class, value_amount_12m=_ranking.c.amount)
        ).rowcount
    return {"class changes": history or 0, "customers updated": updated or 0}
