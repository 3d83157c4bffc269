"""Response times of the customer pages as one user sees them (issue #4).

    .venv/bin/python benchmarks/bench_lists.py --base-url http://127.0.0.1:5001 \
        --user east.clerk1 [--password Demo#2026] [--requests 30] [--json out.json]

Starts nothing: point it at a running portal. Signs in through the real /login form,
then for each page sends a few warm-up requests and `--requests` timed ones, one at a
time, and prints p50/p95 of the wall time (p95 by nearest rank), the median SQL time
and query count from the Server-Timing header, and the rows the page showed. Standard
library only.

The SQL time is that of the cursor's execute. PostgreSQL runs a statement in full
there; SQLite only up to its first row and the rest as the rows are fetched, which is
counted as Python time. So on SQLite a statement that sorts before it returns (a short
list's page, sorted among its rows in the statement that reads them) shows more SQL
time than one that streams unsorted ids, for the same or less work: compare the wall
times across databases, and the SQL times only within one.

The search terms default to words of the zh_CN lists the demo generator draws from, so
they exist at any size: 桂兰 (a given name), 鸿睿思 (a company brand) and 138123.
"""

from __future__ import annotations

import argparse
import html
import http.cookiejar
import json
import math
import re
import statistics
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
ROW_ID_RE = re.compile(r"/details/\?id=(\d+)")
FILTERS_RE = re.compile(r'<div id="filter-groups-data" class="d-none">(.*?)</div>', re.S)
TIMING_RE = re.compile(r"(\w+);dur=([\d.]+)(?:;desc=\"(\d+) queries\")?")


class Portal:
    """A signed-in browser: cookies kept, redirects followed."""

    def __init__(self, base_url: str):
        self.base = base_url.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[int, str, dict[str, str], float]:
        started = time.perf_counter()
        try:
            with self.opener.open(self.base + path, timeout=60) as response:
                body = response.read().decode("utf-8", "replace")
                status, headers, url = response.status, dict(response.headers), response.url
        except urllib.error.HTTPError as error:
            body, status, headers, url = "", error.code, dict(error.headers), path
        elapsed = (time.perf_counter() - started) * 1000
        headers["X-Final-Url"] = url
        return status, body, headers, elapsed

    def sign_in(self, username: str, password: str) -> None:
        _status, page, _headers, _ms = self.get("/login")
        match = CSRF_RE.search(page)
        if not match:
            sys.exit("no csrf_token on /login")
        form = urllib.parse.urlencode(
            {"username": username, "password": password, "csrf_token": html.unescape(match[1])}
        ).encode()
        request = urllib.request.Request(self.base + "/login", data=form, method="POST")
        with self.opener.open(request, timeout=60) as response:
            response.read()
            if urllib.parse.urlparse(response.url).path.startswith("/login"):
                sys.exit(f"sign-in as {username} failed")


def server_timing(headers: dict[str, str]) -> tuple[float | None, int | None]:
    sql_ms = queries = None
    for name, dur, count in TIMING_RE.findall(headers.get("Server-Timing", "")):
        if name == "sql":
            sql_ms = float(dur)
            queries = int(count) if count else None
    return sql_ms, queries


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def grade_industry_filter(page: str) -> str:
    """Query string filtering on the first grade and the first industry offered."""
    match = FILTERS_RE.search(page)
    if not match:
        sys.exit("the customer list shows no filters")
    groups = json.loads(html.unescape(match[1]))
    wanted = ({"客户等级", "grade", "customer grade"}, {"行业", "industry"})
    args = []
    for words in wanted:
        for label, filters in groups.items():
            if label.strip().lower() in words and filters[0].get("options"):
                flt = filters[0]
                args.append((f"flt{len(args)}_{flt['arg']}", flt["options"][0][0]))
                break
        else:
            sys.exit(f"no filter like {words} on the customer list")
    return urllib.parse.urlencode(args)


def pages(portal: Portal, two: str, three: str, mobile: str) -> list[tuple[str, str]]:
    status, first, _headers, _ms = portal.get("/admin/customer/")
    if status != 200:
        sys.exit(f"/admin/customer/ answered {status}")
    ids = ROW_ID_RE.findall(first)
    if not ids:
        sys.exit("the customer list is empty: load the demo with --customers first")
    one = ids[0]
    quote = urllib.parse.quote
    return [
        ("list page 1", "/admin/customer/"),
        ("list page 1000", "/admin/customer/?page=999"),
        (f"search 2 chars {two}", f"/admin/customer/?search={quote(two)}"),
        (f"search 3 chars {three}", f"/admin/customer/?search={quote(three)}"),
        (f"search mobile {mobile}", f"/admin/customer/?search={quote(mobile)}"),
        ("filter grade+industry", f"/admin/customer/?{grade_industry_filter(first)}"),
        ("edit form", f"/admin/customer/edit/?id={one}"),
        ("details", f"/admin/customer/details/?id={one}"),
        ("pool list", "/admin/pool/"),
    ]


def measure(portal: Portal, path: str, requests: int, warmup: int) -> dict:
    for _ in range(warmup):
        portal.get(path)
    walls, sqls, queries, rows, statuses = [], [], [], 0, set()
    for _ in range(requests):
        status, body, headers, ms = portal.get(path)
        statuses.add(status)
        sql_ms, count = server_timing(headers)
        walls.append(ms)
        if sql_ms is not None:
            sqls.append(sql_ms)
        if count is not None:
            queries.append(count)
        rows = len(ROW_ID_RE.findall(body))
    return {
        "p50": percentile(walls, 50),
        "p95": percentile(walls, 95),
        "max": max(walls),
        "sql_ms": statistics.median(sqls) if sqls else None,
        "queries": statistics.median(queries) if queries else None,
        "rows": rows,
        "status": ",".join(str(s) for s in sorted(statuses)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="p50/p95 of the customer pages")
    parser.add_argument("--base-url", default="http://127.0.0.1:5001")
    parser.add_argument("--user", default="east.clerk1")
    parser.add_argument("--password", default="Demo#2026")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--two", default="桂兰", help="two-character name substring")
    parser.add_argument("--three", default="鸿睿思", help="three-character name substring")
    parser.add_argument("--mobile", default="138123", help="mobile number prefix")
    parser.add_argument("--json", help="append the figures to this JSON-lines file")
    args = parser.parse_args()

    portal = Portal(args.base_url)
    portal.sign_in(args.user, args.password)
    print(f"{args.base_url} as {args.user}: {args.requests} requests after {args.warmup} warm-up")
    print(f"{'page':<28} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'SQL ms':>7} {'queries':>7}"
          f" {'rows':>5} status")  # fmt: skip
    for name, path in pages(portal, args.two, args.three, args.mobile):
        figures = measure(portal, path, args.requests, args.warmup)
        sql = f"{figures['sql_ms']:.1f}" if figures["sql_ms"] is not None else "-"
        count = f"{figures['queries']:.0f}" if figures["queries"] is not None else "-"
        print(
            f"{name:<28} {figures['p50']:>8.1f} {figures['p95']:>8.1f} {figures['max']:>8.1f}"
            f" {sql:>7} {count:>7} {figures['rows']:>5} {figures['status']}",
            flush=True,
        )
        if args.json:
            with open(args.json, "a", encoding="utf-8") as out:
                record = {"base_url": args.base_url, "user": args.user, "page": name, **figures}
                out.write(json.dumps(record, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
