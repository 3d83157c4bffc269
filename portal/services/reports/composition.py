"""Customer composition (R-REPORT-2): by grade, industry, source, region, value class."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import Customer, CustomerStanding, Grade, Industry, Region, Source
from portal.services.reports.criteria import ReportFilter, count_if, ratio

DIMENSIONS = ("grade", "industry", "source", "region", "value_class")
PARALLEL_PASSES = 2  # the machine's cores (README); more only queue for them
_LOOKUPS = {"grade": Grade, "industry": Industry, "source": Source}
_COLUMNS = {
    "grade": Customer.grade_id,
    "industry": Customer.industry_id,
    "source": Customer.source_id,
}


@dataclass
class CompositionRow:
    """key: lookup id, value class, or GB/T 2260 prefix (2 digits province, 4 city);
    None when the field is empty. name None means "not filled in"."""

    key: str | None
    name: str | None
    customers: int
    new: int  # created within the period
    share: float | None = None


@dataclass
class Composition:
    dimension: str
    province: str | None  # drill-down: the province whose cities are listed
    province_name: str | None
    rows: list[CompositionRow]
    customers: int
    new: int


def _roll_up(dimension: str, province: str | None):
    """The report key of a stored value: regions count by province (2 digits) or, within
    a province, by city (4); other dimensions by the value itself."""
    if dimension != "region":
        return lambda value: value
    width = 4 if province else 2
    return lambda code: None if code is None else code[:width]


def _province(dimension: str, province: str | None) -> str | None:
    if dimension != "region" or not (province and province.isdigit() and len(province) == 2):
        return None
    return province


def _count_query(f: ReportFilter, dimension: str, province: str | None):
    """(division, stored value, customers, new in the period) in scope."""
    if dimension not in DIMENSIONS:
        raise ValueError(dimension)
    # Value classes are the sweep's, in customer_standings with the same scope columns.
    table = CustomerStanding if dimension == "value_class" else Customer
    if dimension == "value_class":
        column = CustomerStanding.value_class
    else:
        column = Customer.region_code if dimension == "region" else _COLUMNS[dimension]
    criteria = f.where(table)
    if province:
        # A range, not LIKE: it stays on the index.
        criteria.append(Customer.region_code.between(province + "0000", province + "9999"))
    # One pass over the dimension's covering index (ix_customers_by_*,
    # ix_customer_standings_value) in index order: grouped by division and stored value
    # (the index's own order, so no sort even when group management sees every division),
    # rolled up in Python (a few thousand rows at most).
    return (
        select(table.division_id, column, func.count(), count_if(f.in_period(table.created_at)))
        .where(*criteria)
        .group_by(table.division_id, column)
    )


def customer_composition(
    session: Session, f: ReportFilter, dimension: str, *, province: str | None = None
) -> Composition:
    """Customers in scope (owned and pool) counted per value of `dimension`, with how many
    were created in the period. `province` (two digits) lists that province's cities."""
    province = _province(dimension, province)
    counted = session.execute(_count_query(f, dimension, province)).all()
    return _composition(session, dimension, province, counted)


def customer_compositions(
    session: Session, f: ReportFilter, dimensions=DIMENSIONS
) -> list[Composition]:
    """`customer_composition` of several dimensions, their counting passes run at once.

    Each pass reads up to a million index entries (90 ms on SQLite for the whole group).
    A pass runs on one core (SQLite's driver releases Python's interpreter lock while it
    does), so on their own connections two passes take the time of one (on this 2-core
    machine, SQLite: 268 ms for the five instead of 457). PostgreSQL would split each pass
    over parallel workers instead, but a pass costs more that way (120 ms on three
    processes against 170 ms on one for a million entries), so the passes' connections
    run without them (PostgreSQL at 1M, group-wide: 598 ms one after the other with
    workers). The queries are built here, in the caller's thread; the threads only run
    them, on committed data like any request."""
    queries = [_count_query(f, d, None) for d in dimensions]
    if len(queries) < 2:
        return [customer_composition(session, f, d) for d in dimensions]
    engine = session.get_bind()
    serial = engine.dialect.name == "postgresql"

    def run(query):
        with engine.connect() as connection:
            if serial:
                connection.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")
            return connection.execute(query).all()

    with ThreadPoolExecutor(max_workers=PARALLEL_PASSES) as pool:
        results = list(pool.map(run, queries))
    return [
        _composition(session, d, None, counted)
        for d, counted in zip(dimensions, results, strict=True)
    ]


def _composition(session: Session, dimension: str, province: str | None, counted) -> Composition:
    key_of = _roll_up(dimension, province)
    customers: dict = {}
    new: dict = {}
    for _division, value, n, fresh in counted:
        k = key_of(value)
        customers[k] = customers.get(k, 0) + n
        new[k] = new.get(k, 0) + fresh
    totals = list(customers.items())
    names, order = _names(session, dimension, [k for k, _ in totals if k is not None], province)
    rows = [
        CompositionRow(
            key=None if k is None else str(k),
            name=names.get(k),
            customers=int(n),
            new=int(new.get(k, 0)),
        )
        for k, n in totals
    ]
    total = sum(r.customers for r in rows)
    for row in rows:
        row.share = ratio(row.customers, total)
    if order is not None:
        rows.sort(key=lambda r: (r.key is None, order.get(r.key, 1 << 30), r.key or ""))
    else:
        rows.sort(key=lambda r: (r.key is None, -r.customers, r.key or ""))
    province_name = names.get("__province__") if province else None
    return Composition(
        dimension=dimension,
        province=province,
        province_name=province_name,
        rows=rows,
        customers=total,
        new=sum(r.new for r in rows),
    )


def _names(session, dimension, keys, province):
    """Display names of the keys, and a sort order for ordered lookups (grades)."""
    if dimension in _LOOKUPS:
        model = _LOOKUPS[dimension]
        rows = session.execute(
            select(model.id, model.name, model.sort_order).where(model.id.in_(keys))
        ).all()
        names = {i: n for i, n, _ in rows}
        order = {str(i): s for i, _, s in rows} if dimension == "grade" else None
        return names, order
    if dimension == "value_class":
        return {k: k for k in keys}, {"A": 1, "B": 2, "C": 3}
    width = 4 if province else 2
    codes = {k + "0" * (6 - width): k for k in keys}
    if province:
        codes[province + "0000"] = "__province__"
    rows = session.execute(select(Region.code, Region.name).where(Region.code.in_(codes))).all()
    names = {codes[c]: n for c, n in rows}
    return names, None
