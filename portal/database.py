"""Engine settings that make SQLite behave under concurrent writers.

SQLite is the embedded default, so it must keep its word when several clerks claim at
once (STACK-NOTES "Concurrency"): race-sensitive operations start their transaction with
BEGIN IMMEDIATE (`begin_write`: one writer at a time, waiting up to the busy timeout
instead of failing with "database is locked"), WAL lets readers go on meanwhile, and
foreign keys are enforced as on PostgreSQL.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import scoped_session

BUSY_TIMEOUT_MS = 30_000
IMMEDIATE = "portal_sqlite_immediate"


def _on_connect(dbapi_connection, connection_record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy's "begin" event below issue the BEGIN itself.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


def _on_begin(connection) -> None:
    if connection.dialect.name == "sqlite":
        if connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
            return
        immediate = connection.get_execution_options().get(IMMEDIATE)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def begin_write(session) -> None:
    """Start the session's transaction as a writer: on SQLite BEGIN IMMEDIATE, so racing
    writers queue on the busy timeout instead of failing; PostgreSQL ignores the option.
    Call it first in operations that must be race-free (claims, conversions)."""
    if isinstance(session, scoped_session):  # Flask-SQLAlchemy's db.session
        session = session()
    if session.in_transaction():
        session.commit()
    session.connection(execution_options={IMMEDIATE: True})


def init_app(app) -> None:
    if not event.contains(Engine, "connect", _on_connect):
        event.listen(Engine, "connect", _on_connect)
        event.listen(Engine, "begin", _on_begin)
