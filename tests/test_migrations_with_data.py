"""Upgrading a database that already holds records (issue #2: migrations are the source of
truth; a later migration must not fail on a populated database), on both databases."""

from contextlib import contextmanager

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from portal import create_app
from portal.extensions import db
from portal.services.demo import load_demo
from portal.services.seeds import load_reference_data


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'populated.db'}"
        return
    cluster = request.getfixturevalue("pg_cluster")
    name = f"populated_{id(request) % 100000}"
    yield cluster.create_database(name)
    cluster.drop_database(name)


@contextmanager
def populated(url: str, per_division: int):
    """An app context on the database at the newest schema, with reference and demo data;
    the engine is disposed after."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x"})
    with app.app_context():
        upgrade()
        load_reference_data(db.session)
        load_demo(db.session, per_division=per_division)
        db.session.commit()
        yield
        db.session.remove()
        db.engine.dispose()


def test_upgrade_of_a_populated_database_keeps_every_row(fresh_url):
    with populated(fresh_url, per_division=20):
        counts = {
            t: db.session.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("customers", "contacts", "activities", "leads", "users")
        }
        db.session.remove()  # no open transaction may hold locks during DDL
        # Back to the first schema and up again, with all those rows in place.
        downgrade(revision="0001")
        upgrade()
        again = {
            t: db.session.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in counts
        }
    assert again == counts and counts["customers"] == 40


def test_0006_fills_when_each_left_stage_was_entered(fresh_url):
    """0006 derives two columns from the stage history already recorded (R-REPORT-4):
    from_since, the previous change (by time, then id), else the opportunity's creation;
    reached_order, the furthest non-lost stage reached so far (a lost stage never counts)."""
    with populated(fresh_url, per_division=5):
        opportunity = db.session.execute(
            text("SELECT id FROM opportunities ORDER BY id LIMIT 1")
        ).scalar_one()
        db.session.execute(
            text("UPDATE opportunities SET created_at = '2026-03-01 09:00:00' WHERE id = :o"),
            {"o": opportunity},
        )
        order = dict(db.session.execute(text("SELECT code, id FROM stages")).all())
        sort = dict(db.session.execute(text("SELECT code, sort_order FROM stages")).all())
        for from_stage, to_stage, when in (
            (None, "lead", "03-01"),
            ("follow", "needs", "03-04"),
            (None, "follow", "03-02"),
            ("needs", "lost", "03-09"),
        ):
            db.session.execute(
                text(
                    "INSERT INTO stage_changes (opportunity_id, from_stage_id, to_stage_id, at)"
                    " VALUES (:o, :f, :t, :at)"
                ),
                {
                    "o": opportunity,
                    "f": order[from_stage] if from_stage else None,
                    "t": order[to_stage],
                    "at": f"2026-{when} 10:00:00",
                },
            )
        db.session.commit()
        db.session.remove()
        downgrade(revision="0005")
        upgrade()
        rows = db.session.execute(
            text(
                "SELECT CAST(at AS VARCHAR(19)), CAST(from_since AS VARCHAR(19)), reached_order"
                " FROM stage_changes WHERE opportunity_id = :o ORDER BY at"
            ),
            {"o": opportunity},
        ).all()
    assert [tuple(r) for r in rows] == [
        ("2026-03-01 10:00:00", None, sort["lead"]),  # no stage left: nothing to fill
        ("2026-03-02 10:00:00", None, sort["follow"]),
        ("2026-03-04 10:00:00", "2026-03-02 10:00:00", sort["needs"]),
        ("2026-03-09 10:00:00", "2026-03-04 10:00:00", sort["needs"]),
    ]


def test_0007_moves_value_and_churn_to_standings_and_back(fresh_url):
    """0007 (issue #5) moves value class and churn state into customer_standings with the
    customer's division, owner and creation time; a downgrade brings them back."""
    with populated(fresh_url, per_division=5):
        first, second = db.session.execute(
            text("SELECT id FROM customers ORDER BY id LIMIT 2")
        ).scalars()
        db.session.execute(
            text(
                "UPDATE customer_standings SET value_class = 'A', value_amount_12m = 1234.5,"
                " churn_state = 'lost', churn_lost_reason = '搬迁' WHERE customer_id = :c"
            ),
            {"c": first},
        )
        db.session.commit()
        db.session.remove()
        downgrade(revision="0006")
        back = db.session.execute(
            text(
                "SELECT value_class, value_amount_12m, churn_state, churn_lost_reason"
                " FROM customers WHERE id = :c"
            ),
            {"c": first},
        ).one()
        assert (back[0], float(back[1]), back[2], back[3]) == ("A", 1234.5, "lost", "搬迁")
        db.session.remove()
        upgrade()
        rows = db.session.execute(
            text(
                "SELECT s.customer_id, s.value_class, s.churn_state, s.division_id = c.division_id,"
                " s.owner_id IS NOT DISTINCT FROM c.owner_id"
                " FROM customer_standings s JOIN customers c ON c.id = s.customer_id"
                " WHERE s.customer_id IN (:a, :b) ORDER BY s.customer_id"
            ),
            {"a": first, "b": second},
        ).all()
        total = db.session.execute(
            text(
                "SELECT (SELECT count(*) FROM customers)"
                " - (SELECT count(*) FROM customer_standings)"
            )
        ).scalar_one()
    assert [tuple(r) for r in rows] == [
        (first, "A", "lost", True, True),
        (second, "C", "none", True, True),
    ]
    assert total == 0
