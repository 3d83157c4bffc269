"""Time the daily sweep (`flask sweep`, issues #5, #6) over a million customers (#4).

    .venv/bin/python benchmarks/bench_sweep.py [--database-url URL] [--customers 1000000]
        [--orders-ratio 0.6] [--service 100000] [--plain] [--load-only | --no-load]

Runs `flask setup` and `flask demo --customers N` (the bulk loader of issue #4: customers
with contacts, activities, opportunities, orders and service requests) on the given
database (default: a fresh SQLite file under /tmp; for PostgreSQL start
benchmarks/pg_server.py and pass its URL) — or, with --plain or when the loader fails, the
demo plus N customers by plain INSERTs (customers only); then adds orders for a share of
the customers (signed over the last 24 months) and service requests, and times the whole
`run_sweep` of today twice, each step with its counts: the first run does the work, the
second shows the cost of an idempotent run that changes nothing. --load-only stops after
loading (copy the SQLite file, or CREATE DATABASE … TEMPLATE on PostgreSQL, to sweep the
same data more than once); --no-load sweeps such a database.

Third session (23 Nov 2026, quiet machine), after value class and churn state moved to
customer_standings (schema 0007), fresh loads of the data above; seconds, first run / second:
    step        SQLite          PostgreSQL 15
    followups    1.08 / 0.14     1.83 / 0.24
    pool        15.06 / 2.19    19.92 / 1.82   ~111,000 returned, one history row each
    service      0.28 / 0.16     0.53 / 0.07
    churn        6.53 / 4.50     6.34 / 1.73   ~359,000 warnings raised
    value       10.70 / 2.86    27.03 / 8.79   1,000,600 first classes, with history
    total       39.21 / 9.92    55.69 / 12.66  (second session: 35.65 / 8.37, 164.52 / 12.64)
Since then a new customer starts in class C with amount 0 (R-VALUE-1: amount 0 is C), so
a first run writes only the customers orders move: on `flask demo --customers 1000000`
alone, the value step writes 250k standings (PostgreSQL 11.7 s, SQLite 4.4 s); there the
pool step returns 264,544 customers (PostgreSQL 46 s, SQLite 32 s) and the whole first
`flask sweep` takes 64 s on PostgreSQL — over the 60 s target — and 50 s on SQLite.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select  # noqa: E402

from portal import create_app  # noqa: E402
from portal.clock import now  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import (  # noqa: E402
    Activity,
    Customer,
    Division,
    Opportunity,
    Order,
    ServicePriority,
    ServiceRequest,
    ServiceType,
    User,
)
from portal.services.demo import load_demo  # noqa: E402
from portal.services.sweep import run_sweep  # noqa: E402

CHUNK = 20_000


def _chunks(rows, size=CHUNK):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def plain_customers(session, n: int, rng: random.Random) -> None:
    divisions = list(session.scalars(select(Division.id).order_by(Division.id)))
    owners = {
        d: list(
            session.scalars(select(User.id).where(User.division_id == d, User.role_code == "clerk"))
        )
        for d in divisions
    }
    at = now()
    for start in range(0, n, CHUNK):
        rows = []
        for i in range(start, min(n, start + CHUNK)):
            division = divisions[i % len(divisions)]
            rows.append(
                {
                    "division_id": division,
                    "owner_id": rng.choice([*owners[division], None]),
                    "name": f"压测客户{i:07d}",
                    "kind": "company",
                    "status": "following",
                    "churn_state": "none",
                    "pinned": False,
                    "locked": False,
                    "version": 1,
                    "created_at": at,
                    "updated_at": at,
                }
            )
        session.execute(insert(Customer), rows)
        session.commit()


def add_orders(session, ratio: float, rng: random.Random) -> int:
    ids = session.execute(select(Customer.id, Customer.division_id, Customer.owner_id)).all()
    chosen = [row for row in ids if rng.random() < ratio]
    today = now().date()
    rows = []
    for n, (customer_id, division_id, owner_id) in enumerate(chosen):
        for k in range(1 + (n % 3 == 0)):
            rows.append(
                {
                    "customer_id": customer_id,
                    "division_id": division_id,
                    "owner_id": owner_id,
                    "number": f"B{customer_id}-{k}",
                    "amount": Decimal(rng.randrange(1, 500) * 1000),
                    "signed_on": today - timedelta(days=rng.randrange(0, 730)),
                    "state": "valid" if rng.random() < 0.95 else "cancelled",
                    "version": 1,
                }
            )
    for chunk in _chunks(rows):
        session.execute(insert(Order), chunk)
        session.commit()
    return len(rows)


def add_service(session, n: int, rng: random.Random) -> None:
    customers = session.execute(
        select(Customer.id, Customer.division_id, Customer.owner_id)
        .where(Customer.owner_id.is_not(None))
        .limit(n)
    ).all()
    types = list(session.scalars(select(ServiceType.id)))
    priorities = list(session.scalars(select(ServicePriority.id)))
    at = now()
    rows = []
    for customer_id, division_id, owner_id in customers:
        created = at - timedelta(hours=rng.randrange(1, 24 * 90))
        started = rng.random() < 0.7
        rows.append(
            {
                "customer_id": customer_id,
                "division_id": division_id,
                "owner_id": owner_id,
                "created_by_id": owner_id,
                "type_id": rng.choice(types),
                "priority_id": rng.choice(priorities),
                "summary": "压测服务",
                "status": "handling" if started else "new",
                "handler_id": owner_id if started else None,
                "handling_at": created + timedelta(hours=rng.randrange(1, 48)) if started else None,
                "created_at": created,
                "updated_at": created,
                "channel": "phone",
                "direction": "inbound",
                "reopened_count": 0,
                "version": 1,
            }
        )
    for chunk in _chunks(rows):
        session.execute(insert(ServiceRequest), chunk)
        session.commit()


def analyze(engine) -> None:
    """Fresh planner statistics for the tables the sweep reads."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("VACUUM ANALYZE customers, orders, service_requests")
        else:
            connection.exec_driver_sql("ANALYZE")


def timed_sweep(session, day, run: str) -> float:
    """One whole `run_sweep` of `day`, committed like `flask sweep`; prints each step."""
    started = time.perf_counter()
    report = run_sweep(session, day)
    session.commit()
    total = time.perf_counter() - started
    for name, counts, seconds in report:
        figures = ", ".join(f"{k} {v}" for k, v in counts.items())
        print(f"  {run:6s} {name:9s} {seconds:7.2f} s  ({figures})", flush=True)
    print(f"  {run:6s} {'total':9s} {total:7.2f} s  (commit included)", flush=True)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders-ratio", type=float, default=0.6)
    parser.add_argument("--service", type=int, default=100_000)
    parser.add_argument("--plain", action="store_true", help="plain INSERTs of customers only")
    parser.add_argument("--load-only", action="store_true", help="load the data, do not sweep")
    parser.add_argument(
        "--no-load", action="store_true", help="sweep a database loaded by --load-only"
    )
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    print(f"database {url}", flush=True)
    if args.no_load:
        sweep(url)
        return
    load(url, args)
    if not args.load_only:
        sweep(url)


def load(url: str, args) -> None:
    started = time.perf_counter()
    env = {**os.environ, "DATABASE_URL": url}
    flask = [str(Path(sys.executable).parent / "flask"), "--app", "portal"]
    subprocess.run([*flask, "setup"], env=env, check=True, capture_output=True)
    bulk = not args.plain
    if bulk:
        # The bulk loader of issue #4, as a user would run it.
        demo = [*flask, "demo", "--customers", str(args.customers), "--seed", "6"]
        bulk = subprocess.run(demo, env=env, capture_output=True).returncode == 0
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    rng = random.Random(6)
    with app.app_context():
        session = db.session
        if not bulk:
            load_demo(session)
            session.commit()
            plain_customers(session, args.customers, rng)
        orders = add_orders(session, args.orders_ratio, rng)
        add_service(session, args.service, rng)
        session.close()
        analyze(db.engine)
        totals = ", ".join(
            f"{session.scalar(select(func.count()).select_from(model)):,} {label}"
            for model, label in (
                (Customer, "customers"),
                (Order, "orders"),
                (Opportunity, "opportunities"),
                (ServiceRequest, "service requests"),
                (Activity, "activities"),
            )
        )
        print(
            f"{db.engine.dialect.name}: {totals} ({orders:,} orders and {args.service:,} "
            f"service requests added here) loaded in {time.perf_counter() - started:.0f} s "
            f"({'flask demo --customers' if bulk else 'plain INSERTs'})",
            flush=True,
        )


def sweep(url: str) -> None:
    """The whole daily sweep twice on today: the first run does the work, the second
    shows the cost of an idempotent run that changes nothing."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        day = now().date()
        for run in ("first", "second"):
            timed_sweep(db.session, day, run)
        db.session.close()


if __name__ == "__main__":
    main()
