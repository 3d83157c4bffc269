"""Fixtures: the app on SQLite and on PostgreSQL, a clean database per test, signed-in clients.

Every test that takes `app` (or a fixture built on it) runs twice, once per database:
`test_x[sqlite]` and `test_x[postgresql]`. The PostgreSQL cluster is private to the run.
"""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from portal import create_app
from portal.extensions import db
from portal.models import Base
from tests.pg_cluster import PgCluster

# Tables loaded by `setup`; kept between tests, everything else is emptied.
REFERENCE_TABLES = {
    "roles",
    "grades",
    "followup_templates",
    "stages",
    "sources",
    "industries",
    "company_natures",
    "revenue_bands",
    "employee_bands",
    "service_types",
    "service_priorities",
    "feedback_reasons",
    "lost_reasons",
    "regions",
    "alembic_version",
}
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture(scope="session")
def pg_cluster():
    cluster = PgCluster().start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "portal.db"
        return f"sqlite:///{path}"
    cluster = request.getfixturevalue("pg_cluster")
    return cluster.create_database("portal_test")


@pytest.fixture(scope="session")
def app(database_url):
    """One app per database; the schema comes from the real migrations and `setup`."""
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret",
            "REMEMBER_COOKIE_SECURE": True,
        }
    )
    app.test_client_class = PortalClient
    runner = app.test_cli_runner()
    result = runner.invoke(args=["setup"])
    assert result.exit_code == 0, result.output
    yield app
    with app.app_context():
        db.engine.dispose()


def _business_tables() -> list[str]:
    return [t.name for t in reversed(Base.metadata.sorted_tables) if t.name not in REFERENCE_TABLES]


@pytest.fixture
def session(app):
    """A session of the test's own, outside any request: requests get theirs from the app,
    as in production (sharing one app context would also share Flask's `g` between requests).
    Business tables are emptied afterwards."""
    with app.app_context():
        engine = db.engine
    # Autocommit: every read sees what the requests committed (an open SQLite WAL read
    # transaction would keep an old snapshot). Tests of atomicity use `tx_session`.
    test_session = Session(bind=engine.execution_options(isolation_level="AUTOCOMMIT"))
    yield test_session
    test_session.rollback()
    test_session.close()
    tables = _business_tables()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def tx_session(app, session):
    """A transactional session for tests that check all-or-nothing behaviour."""
    with app.app_context():
        engine = db.engine
    transactional = Session(bind=engine)
    yield transactional
    transactional.rollback()
    transactional.close()


@pytest.fixture
def world(session):
    """Divisions east/west and the demo accounts (password Demo#2026)."""
    from portal.services.demo import create_accounts

    users = create_accounts(session)
    session.commit()
    return users


class PortalClient(FlaskClient):
    """Test client that signs in through the real form and sends the CSRF token on POST."""

    csrf: str | None = None

    def fetch_csrf(self) -> str:
        page = self.get("/login") if self.csrf is None else None
        if page is None or page.status_code != 200:
            page = self.get("/password")
        match = CSRF_RE.search(page.get_data(as_text=True))
        assert match, "no CSRF token on the page"
        self.csrf = match.group(1)
        return self.csrf

    def post(self, *args, csrf: bool = True, **kwargs):
        data = kwargs.get("data")
        if csrf and (data is None or isinstance(data, dict)):
            data = dict(data or {})
            data.setdefault("csrf_token", self.csrf or self.fetch_csrf())
            kwargs["data"] = data
        return super().post(*args, **kwargs)

    def login(self, username: str, password: str = "Demo#2026"):
        self.csrf = None
        response = self.post("/login", data={"username": username, "password": password})
        self.csrf = None  # the session was renewed at sign-in
        if response.status_code == 302:
            self.fetch_csrf()
        return response


@pytest.fixture
def client(app, session):
    return app.test_client()


@pytest.fixture
def login(app, world):
    """login("east.clerk1") → a client signed in as that demo account."""

    def sign_in(username: str) -> PortalClient:
        client = app.test_client()
        response = client.login(username)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return sign_in
