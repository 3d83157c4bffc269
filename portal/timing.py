"""Server-Timing header on every response: total time, SQL time and query count."""

from __future__ import annotations

import time

from flask import Flask, g
from sqlalchemy import event
from sqlalchemy.engine import Engine


def _before_cursor(conn, cursor, statement, parameters, context, executemany):
    conn.info.setdefault("portal_query_start", []).append(time.perf_counter())


def _after_cursor(conn, cursor, statement, parameters, context, executemany):
    started = conn.info["portal_query_start"].pop()
    try:
        g.sql_time += time.perf_counter() - started
        g.sql_count += 1
    except (AttributeError, RuntimeError):  # outside a request (CLI, tests)
        pass


def init_app(app: Flask) -> None:
    if not event.contains(Engine, "before_cursor_execute", _before_cursor):
        event.listen(Engine, "before_cursor_execute", _before_cursor)
        event.listen(Engine, "after_cursor_execute", _after_cursor)

    @app.before_request
    def start_clock():
        g.request_started = time.perf_counter()
        g.sql_time = 0.0
        g.sql_count = 0

    @app.after_request
    def server_timing(response):
        started = g.get("request_started")
        if started is not None:
            total = (time.perf_counter() - started) * 1000
            response.headers["Server-Timing"] = (
                f"total;dur={total:.1f}, sql;dur={g.sql_time * 1000:.1f};"
                f'desc="{g.sql_count} queries"'
            )
        return response
