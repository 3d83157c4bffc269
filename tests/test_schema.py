"""Migrations are the single source of truth: an empty database upgraded to head
matches the models exactly, on SQLite and PostgreSQL (issue #2)."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select, text

from portal.models import Base, Grade, Region, Role, Stage
from portal.services.seeds import load_reference_data


def test_migrated_schema_matches_models(session):
    with session.get_bind().connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_every_model_table_exists(session):
    tables = set(inspect(session.get_bind()).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_setup_twice_changes_nothing(app, session):
    before = {
        m.__name__: session.scalar(select(func.count()).select_from(m))
        for m in (Role, Grade, Stage, Region)
    }
    result = app.test_cli_runner().invoke(args=["setup"])
    assert result.exit_code == 0, result.output
    assert "regions.csv: 0 inserted, 0 updated" in result.output
    summary = load_reference_data(session)
    assert all(counts == (0, 0) for counts in summary.values())
    after = {
        m.__name__: session.scalar(select(func.count()).select_from(m))
        for m in (Role, Grade, Stage, Region)
    }
    assert before == after
    assert before["Region"] > 3000  # provinces, cities and counties (GB/T 2260)


def test_grade_intervals_are_reference_data(session):
    """R-GRADE-1: O 7, H 2, A 7, B 14, C 21, N 30 days."""
    intervals = dict(session.execute(select(Grade.code, Grade.follow_up_days)).all())
    assert intervals == {"O": 7, "H": 2, "A": 7, "B": 14, "C": 21, "N": 30}


def test_region_hierarchy_goes_down_to_county(session):
    county = session.get(Region, "330106")  # 杭州市西湖区
    assert county is not None and county.level == 3
    assert county.parent.code == "330100" and county.parent.parent.code == "330000"
    assert county.full_name == "浙江省 / 杭州市 / 西湖区"


def test_big_tables_are_vacuumed_after_a_sweeps_worth_of_changes(session):
    """0008 (issues #4, #5): on PostgreSQL the tables a sweep rewrites get autovacuum at 2 %
    of their rows, so list pages stay index-only after a night's returns; SQLite keeps no
    visibility map, and its tables carry no such options."""
    tables = ("customers", "customer_standings", "contacts", "activities", "opportunities")
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            text("SELECT relname, reloptions FROM pg_class WHERE relname = ANY(:t)"),
            {"t": list(tables)},
        ).all()
        assert {name: sorted(options or []) for name, options in rows} == {
            t: ["autovacuum_analyze_scale_factor=0.02", "autovacuum_vacuum_scale_factor=0.02"]
            for t in tables
        }
    else:
        ddl = session.execute(
            text("SELECT group_concat(sql) FROM sqlite_master WHERE name IN ('customers')")
        ).scalar_one()
        assert "autovacuum" not in ddl and "CREATE TABLE" in ddl
