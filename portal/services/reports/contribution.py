"""Contribution (R-REPORT-3): valid order amounts by customer and month, ABC classes."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import case, extract, func, select
from sqlalchemy.orm import Session

from portal.models import Customer, Order, User
from portal.services.reports.criteria import ReportFilter, money, ratio

# The ranks of R-VALUE-1 applied to the period: top 5% of the period's buying customers
# are A, the next 15% B, the rest C (at least one A as soon as anyone bought).
CLASS_SHARES = (("A", 5), ("B", 20))


@dataclass
class MonthLine:
    month: str  # YYYY-MM
    orders: int
    amount: Decimal


@dataclass
class ClassLine:
    value_class: str
    customers: int
    amount: Decimal
    share: float | None


@dataclass
class TopCustomer:
    rank: int
    customer_id: int
    name: str
    owner: str | None
    orders: int
    amount: Decimal
    share: float | None
    value_class: str


@dataclass
class Contribution:
    amount: Decimal
    orders: int
    customers: int
    months: list[MonthLine]
    classes: list[ClassLine]
    top: list[TopCustomer]


def contribution(session: Session, f: ReportFilter, *, top: int = 20) -> Contribution:
    """Valid orders signed in the period, within scope: totals, per month, per ABC class
    (ranked by the customer's amount in the period) and the top customers."""
    criteria = [*f.where(Order), Order.state == "valid", f.on_days(Order.signed_on)]
    month = (extract("year", Order.signed_on) * 100 + extract("month", Order.signed_on)).label(
        "month"
    )
    months = [
        MonthLine(f"{int(m) // 100:04d}-{int(m) % 100:02d}", int(n), money(a))
        for m, n, a in session.execute(
            select(month, func.count(), func.sum(Order.amount))
            .where(*criteria)
            .group_by(month)
            .order_by(month)
        )
    ]
    amount = sum((m.amount for m in months), Decimal("0.00"))
    orders = sum(m.orders for m in months)

    per_customer = (
        select(
            Order.customer_id.label("customer_id"),
            func.sum(Order.amount).label("amount"),
            func.count().label("orders"),
        )
        .where(*criteria)
        .group_by(Order.customer_id)
        .subquery()
    )
    ranked = select(
        per_customer,
        func.row_number()
        .over(order_by=(per_customer.c.amount.desc(), per_customer.c.customer_id))
        .label("rank"),
        func.count().over().label("buyers"),
    ).subquery()
    # rank ≤ ceil(buyers × p%), in integers so SQLite and PostgreSQL agree.
    value_class = case(
        *(
            ((ranked.c.rank - 1) * 100 < ranked.c.buyers * share, code)
            for code, share in CLASS_SHARES
        ),
        else_="C",
    ).label("value_class")
    by_class = {
        code: (int(n), money(a))
        for code, n, a in session.execute(
            select(value_class, func.count(), func.sum(ranked.c.amount)).group_by(value_class)
        )
    }
    classes = [ClassLine(code, *by_class.get(code, (0, Decimal("0.00"))), None) for code in "ABC"]
    for line in classes:
        line.share = ratio(line.amount, amount)
    customers = sum(c.customers for c in classes)

    top_rows = session.execute(
        select(
            ranked.c.rank,
            ranked.c.customer_id,
            Customer.name,
            User.display_name,
            ranked.c.orders,
            ranked.c.amount,
            value_class,
        )
        .join(Customer, Customer.id == ranked.c.customer_id)
        .outerjoin(User, User.id == Customer.owner_id)
        .where(ranked.c.rank <= top)
        .order_by(ranked.c.rank)
    ).all()
    top_customers = [
        TopCustomer(
            rank=int(r),
            customer_id=cid,
            name=name,
            owner=owner,
            orders=int(n),
            amount=money(a),
            share=ratio(money(a), amount),
            value_class=vc,
        )
        for r, cid, name, owner, n, a, vc in top_rows
    ]
    return Contribution(amount, orders, customers, months, classes, top_customers)
