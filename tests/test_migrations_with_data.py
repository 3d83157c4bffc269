"""Upgrading a database that already holds records (issue #2: migrations are the source of
truth; a later migration must not fail on a populated database), on both databases."""

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


def test_upgrade_of_a_populated_database_keeps_every_row(fresh_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": fresh_url, "SECRET_KEY": "x"})
    with app.app_context():
        upgrade()
        load_reference_data(db.session)
        load_demo(db.session, per_division=20)
        db.session.commit()
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
        db.session.remove()
        db.engine.dispose()
    assert again == counts and counts["customers"] == 40
