"""Engine settings that make SQLite behave under concurrent writers.

SQLite is the embedded default, so it must keep its word when several clerks claim at
once (STACK-NOTES "Concurrency"): race-sensitive operations start their transaction with
BEGIN IMMEDIATE (`begin_write`: one writer at a time, waiting up to the busy timeout
instead of failing with "database is locked"), WAL lets readers go on meanwhile, and
foreign keys are enforced as on PostgreSQL.

Also the plumbing of set-based batch work (the daily sweep): a bigger SQLite page cache
for its duration, temporary tables, and UPDATEs that write only what they set.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Table, TableClause, column, event, table
from sqlalchemy.engine import Engine
from sqlalchemy.orm import scoped_session

BUSY_TIMEOUT_MS = 30_000
BATCH_CACHE_KIB = 1_000_000  # SQLite page cache of a batch job (the sweep), as the bulk loader
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


@contextmanager
def batch_cache(session) -> Iterator[None]:
    """SQLite: a 1 GB page cache on the session's connection for a batch of big set-based
    statements, back to its size after. With the default 2 MB, each index entry that a
    statement moves is read and spilled through the OS and the WAL: the first sweep over a
    million customers took 72 s instead of 40. PostgreSQL sizes its cache itself."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size = -{BATCH_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {before}")


@contextmanager
def scratch_table(connection: Connection, table: Table) -> Iterator[Table]:
    """A TEMPORARY table for one set-based step of a transaction, dropped at the end of the
    block. On an error it is left to the caller's rollback, which undoes its creation on
    SQLite and PostgreSQL alike (a DROP would fail in an aborted PostgreSQL transaction)."""
    table.create(connection)
    yield table
    table.drop(connection)


def plain_columns(model_table: Table, *names: str) -> TableClause:
    """Some columns of a table as a bare table clause: an UPDATE through it writes what it
    SETs and nothing else — no Column.onupdate, such as a model's updated_at."""
    return table(model_table.name, *(column(name, model_table.c[name].type) for name in names))


def init_app(app) -> None:
    if not event.contains(Engine, "connect", _on_connect):
        event.listen(Engine, "connect", _on_connect)
        event.listen(Engine, "begin", _on_begin)
