"""Command line: setup, demo, sweep — thin wrappers over services (REQUIREMENTS §5)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext
from flask_migrate import upgrade

from portal.clock import now
from portal.extensions import db
from portal.services.demo import load_demo
from portal.services.seeds import load_reference_data


@click.command("setup")
@with_appcontext
def setup_command() -> None:
    """Create or upgrade the schema and load reference data (idempotent)."""
    upgrade()
    summary = load_reference_data(db.session)
    db.session.commit()
    for filename, (inserted, updated) in summary.items():
        click.echo(f"{filename}: {inserted} inserted, {updated} updated")
    click.echo("schema at head; reference data loaded")


@click.command("demo")
@with_appcontext
@click.option(
    "--customers",
    type=click.IntRange(min=0),
    default=0,
    help="Extra generated customers for scale tests.",
)
@click.option("--seed", type=int, default=2026, show_default=True)
def demo_command(customers: int, seed: int) -> None:
    """Demo divisions, accounts and records; skipped parts already loaded."""
    report = load_demo(db.session, seed=seed)
    db.session.commit()
    click.echo(report)
    if customers:
        # Issue #4: N generated customers on top of the demo, then fresh statistics.
        from sqlalchemy import func, select

        from portal.models import Customer
        from portal.services.bulk_demo import load_bulk_customers, refresh_statistics
        from portal.services.bulk_sales import load_bulk_sales

        before = db.session.scalar(select(func.max(Customer.id))) or 0
        bulk = load_bulk_customers(db.session, customers, seed=seed, progress=click.echo)
        db.session.commit()
        click.echo(bulk)
        # Issue #7: their opportunities, orders and service requests, for the reports.
        click.echo(load_bulk_sales(db.session, seed=seed, after_id=before))
        db.session.commit()
        click.echo(f"statistics refreshed in {refresh_statistics(db.engine):.1f} s")


@click.command("sweep")
@click.option(
    "--date",
    "day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Simulate the sweep of this day (YYYY-MM-DD); default today.",
)
@with_appcontext
def sweep_command(day) -> None:
    """The daily rules: returns to the pool, overdue marks, stale flags, escalations,
    churn warnings and value classes. Idempotent; prints what it did."""
    from portal.services.sweep import run_sweep

    the_day = day.date() if day else now().date()
    report = run_sweep(db.session, the_day)
    db.session.commit()
    click.echo(f"sweep {the_day.isoformat()}")
    for name, counts, seconds in report:
        figures = ", ".join(f"{key} {value}" for key, value in counts.items()) or "nothing"
        click.echo(f"  {name}: {figures} ({seconds:.2f} s)")


def init_app(app: Flask) -> None:
    app.cli.add_command(setup_command)
    app.cli.add_command(demo_command)
    app.cli.add_command(sweep_command)
