"""Sales and service records for the generated customers (issues #4 and #7).

`flask --app portal demo --customers N` first loads the customers (bulk_demo.py), then
this module gives a share of the owned ones opportunities with their stage history,
orders and service requests, so that the reports, the churn and value rules and the
sweep meet volumes like a real division's at a million customers, not a hundred rows.
The same seed on the same customers gives the same rows. Rows go through bulk_demo's
writer (PostgreSQL `COPY`, SQLite `executemany`); ids are allocated here so that
orders can name their opportunity and stage changes their opportunity.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.clock import now
from portal.models import (
    Customer,
    LostReason,
    Opportunity,
    Order,
    ServicePriority,
    ServiceRequest,
    ServiceType,
    Stage,
    StageChange,
)
from portal.models.crm import SERVICE_CHANNELS
from portal.services.bulk_demo import BulkWriter

OPPORTUNITY_SHARE = 0.2  # of owned customers
ORDER_SHARE = 0.4
SERVICE_SHARE = 0.1
CHUNK = 50_000

OPPORTUNITY_COLUMNS = (
    "id", "division_id", "customer_id", "owner_id", "created_by_id", "title", "amount",
    "expected_close", "stage_id", "probability", "lost_reason_id", "closed_at",
    "stage_entered_at", "last_action_at", "created_at", "updated_at", "version",
)  # fmt: skip
STAGE_CHANGE_COLUMNS = (
    "opportunity_id", "from_stage_id", "to_stage_id", "at", "from_since", "reached_order",
    "by_id",
)  # fmt: skip
ORDER_COLUMNS = (
    "id", "division_id", "customer_id", "owner_id", "created_by_id", "opportunity_id",
    "number", "amount", "signed_on", "state", "created_at", "updated_at", "version",
)  # fmt: skip
SERVICE_COLUMNS = (
    "division_id", "customer_id", "owner_id", "created_by_id", "type_id", "channel",
    "direction", "priority_id", "status", "summary", "handler_id", "satisfaction",
    "assigned_at", "handling_at", "resolved_at", "responded_at", "archived_at",
    "reopened_count", "created_at", "updated_at", "version",
)  # fmt: skip
TITLES = ("年度采购", "设备更新", "系统升级", "车辆置换", "扩产配套", "集中采购")
SUMMARIES = ("产品咨询", "安装调试", "售后维修", "投诉处理", "配件更换", "使用培训")


@dataclass
class SalesReport:
    opportunities: int = 0
    stage_changes: int = 0
    orders: int = 0
    service_requests: int = 0
    seconds: float = 0.0

    def __str__(self) -> str:
        return (
            f"generated {self.opportunities} opportunities ({self.stage_changes} stage "
            f"changes), {self.orders} orders, {self.service_requests} service requests "
            f"in {self.seconds:.1f} s"
        )


def _next_id(session: Session, model) -> int:
    return (session.scalar(select(func.max(model.id))) or 0) + 1


class _Sales:
    """Rows for one customer at a time; ids counted from the tables' current maximum."""

    def __init__(self, session: Session, rng: random.Random, at: datetime):
        self.rng, self.at = rng, at
        stages = session.execute(
            select(Stage.id, Stage.probability, Stage.outcome, Stage.sort_order).order_by(
                Stage.sort_order
            )
        ).all()
        self.open_stages = [s for s in stages if s.outcome == "open"]
        self.closed_stages = [s for s in stages if s.outcome != "open"]
        self.lost_reasons = list(session.scalars(select(LostReason.id)))
        self.types = list(session.scalars(select(ServiceType.id)))
        self.priorities = list(session.scalars(select(ServicePriority.id)))
        self.opportunity_id = _next_id(session, Opportunity)
        self.order_id = _next_id(session, Order)
        self.opportunities: list[tuple] = []
        self.stage_changes: list[tuple] = []
        self.orders: list[tuple] = []
        self.service: list[tuple] = []

    def _since(self, created: datetime, days: int) -> datetime:
        """A moment between the customer's creation and now, at most `days` ago."""
        earliest = max(created, self.at - timedelta(days=days))
        span = max(int((self.at - earliest).total_seconds()), 1)
        return earliest + timedelta(seconds=self.rng.randrange(span))

    def opportunity(self, customer_id, division_id, owner_id, created) -> int | None:
        """An opportunity walked through the open stages, possibly closed; the id of a
        won one (its order names it)."""
        rng = self.rng
        start = self._since(created, 365)
        path = self.open_stages[: rng.randint(1, len(self.open_stages))]
        closed = rng.random() < 0.5 and self.closed_stages
        if closed:
            path = [*path, rng.choice(self.closed_stages)]
        moments = sorted(self._since(start, 365) for _ in path[1:])
        moments.insert(0, start)
        oid = self.opportunity_id
        self.opportunity_id += 1
        previous, since, reached = None, None, None
        for stage, moment in zip(path, moments, strict=True):
            if stage.outcome != "lost":  # the open stages rise along the path
                reached = stage.sort_order if reached is None else max(reached, stage.sort_order)
            self.stage_changes.append((oid, previous, stage.id, moment, since, reached, owner_id))
            previous, since = stage.id, moment
        last, entered = path[-1], moments[-1]
        self.opportunities.append(
            (
                oid, division_id, customer_id, owner_id, owner_id,
                f"{rng.choice(TITLES)}项目", Decimal(rng.randrange(5, 800) * 1000),
                (entered + timedelta(days=rng.randrange(0, 90))).date(), last.id,
                last.probability,
                rng.choice(self.lost_reasons) if last.outcome == "lost" else None,
                entered if closed else None, entered, entered, start, entered, 1,
            )
        )  # fmt: skip
        return oid if last.outcome == "won" else None

    def orders_of(self, customer_id, division_id, owner_id, created, won) -> None:
        rng = self.rng
        for k in range(rng.choice((1, 1, 1, 2, 2, 3))):
            signed = self._since(created, 730)
            self.orders.append(
                (
                    self.order_id, division_id, customer_id, owner_id, owner_id,
                    won if k == 0 else None, f"G{customer_id:08d}-{k}",
                    Decimal(rng.randrange(1, 600) * 500), signed.date(),
                    "valid" if rng.random() < 0.95 else "cancelled", signed, signed, 1,
                )
            )  # fmt: skip
            self.order_id += 1

    def service_request(self, customer_id, division_id, owner_id, created) -> None:
        """A request somewhere in its lifecycle (R-SERVICE), older ones further along."""
        rng = self.rng
        opened = self._since(created, 120)
        age_days = (self.at - opened).days
        step = min(4, rng.randint(0, 4) + (age_days > 30))
        status = ("new", "assigned", "handling", "responded", "archived")[step]
        assigned = opened + timedelta(hours=rng.randrange(1, 12)) if step >= 1 else None
        handling = assigned + timedelta(hours=rng.randrange(1, 48)) if step >= 2 else None
        resolved = handling + timedelta(hours=rng.randrange(2, 120)) if step >= 3 else None
        responded = resolved + timedelta(days=rng.randrange(1, 5)) if step >= 4 else None
        self.service.append(
            (
                division_id, customer_id, owner_id, owner_id, rng.choice(self.types),
                rng.choice(SERVICE_CHANNELS), "inbound", rng.choice(self.priorities), status,
                rng.choice(SUMMARIES), owner_id if step >= 1 else None,
                rng.choice((3, 4, 5, 5, 2)) if step >= 4 else None, assigned, handling,
                resolved, responded, responded, 0, opened, responded or opened, 1,
            )
        )  # fmt: skip

    def flush(self, writer: BulkWriter, report: SalesReport) -> None:
        # Opportunities before what names them (PostgreSQL checks the foreign keys).
        writer.write(Opportunity.__table__, OPPORTUNITY_COLUMNS, self.opportunities)
        writer.write(StageChange.__table__, STAGE_CHANGE_COLUMNS, self.stage_changes)
        writer.write(Order.__table__, ORDER_COLUMNS, self.orders)
        writer.write(ServiceRequest.__table__, SERVICE_COLUMNS, self.service)
        report.opportunities += len(self.opportunities)
        report.stage_changes += len(self.stage_changes)
        report.orders += len(self.orders)
        report.service_requests += len(self.service)
        self.opportunities, self.stage_changes, self.orders, self.service = [], [], [], []


def load_bulk_sales(
    session: Session, *, seed: int = 2026, at: datetime | None = None, after_id: int = 0
) -> SalesReport:
    """Opportunities (with stage history), orders and service requests for a share of the
    owned customers with ids above `after_id` (the generated ones). The caller commits."""
    started = time.perf_counter()
    report = SalesReport()
    at = (at or now()).replace(microsecond=0)
    sales = _Sales(session, random.Random(seed + 1), at)
    writer = BulkWriter(session)
    customers = session.execute(
        select(Customer.id, Customer.division_id, Customer.owner_id, Customer.created_at)
        .where(Customer.id > after_id, Customer.owner_id.is_not(None))
        .order_by(Customer.id)
    ).all()
    rng = sales.rng
    for n, (customer_id, division_id, owner_id, created) in enumerate(customers, 1):
        won = None
        if rng.random() < OPPORTUNITY_SHARE:
            won = sales.opportunity(customer_id, division_id, owner_id, created)
        if won is not None or rng.random() < ORDER_SHARE:
            sales.orders_of(customer_id, division_id, owner_id, created, won)
        if rng.random() < SERVICE_SHARE:
            sales.service_request(customer_id, division_id, owner_id, created)
        if n % CHUNK == 0:
            sales.flush(writer, report)
    sales.flush(writer, report)
    writer.reset_sequences(("opportunities", "stage_changes", "orders", "service_requests"))
    session.expire_all()
    report.seconds = time.perf_counter() - started
    return report
