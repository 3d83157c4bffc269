"""Render times of the reports, their PDFs and the customer profile sheets (issue #7).

    .venv/bin/python benchmarks/bench_reports.py --base-url http://127.0.0.1:5001 \
        --user east.head [--password Demo#2026] [--runs 10] [--pdf-runs 3] [--json out.json]

Starts nothing: point it at a running portal. Signs in through the real /login form (with
its csrf_token), then, one request at a time and after one warm-up each:
- every report page the user may open, `--runs` times (default period: last month);
- every report's PDF, `--pdf-runs` times;
- the profile PDF of one customer from the user's list, `--pdf-runs` times;
- one bulk print of `--bulk` (50) customers from the list, through the list's action form.
Prints p50 / p95 (nearest rank) of the wall time, the largest SQL time and query count of
the Server-Timing header, the size of the answer, and the targets of issue #7. Standard
library only. Each PDF is a logged print, so the run leaves entries in the audit log.
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
REPORT_RE = re.compile(r'href="/admin/reports/(\w+)/"')
ROW_ID_RE = re.compile(r'name="rowid"[^>]*value="(\d+)"')
TIMING_RE = re.compile(r"(\w+);dur=([\d.]+)(?:;desc=\"(\d+) queries\")?")

TARGETS_MS = {"page": 500, "pdf": 2000, "profile": 400, "bulk": 15000}


class Portal:
    """A signed-in browser: cookies kept, redirects followed."""

    def __init__(self, base_url: str):
        self.base = base_url.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def request(self, path: str, data: dict | list | None = None):
        """(status, body bytes, headers, milliseconds)."""
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body)
        started = time.perf_counter()
        try:
            with self.opener.open(req, timeout=300) as response:
                payload = response.read()
                status, headers = response.status, dict(response.headers)
        except urllib.error.HTTPError as error:
            payload, status, headers = error.read(), error.code, dict(error.headers)
        return status, payload, headers, (time.perf_counter() - started) * 1000

    def text(self, path: str) -> str:
        status, payload, _headers, _ms = self.request(path)
        if status != 200:
            sys.exit(f"GET {path} answered {status}")
        return payload.decode("utf-8", "replace")

    def sign_in(self, username: str, password: str) -> None:
        match = CSRF_RE.search(self.text("/login"))
        if not match:
            sys.exit("no csrf_token on /login")
        token = html.unescape(match[1])
        self.request("/login", {"username": username, "password": password, "csrf_token": token})
        if 'id="current-user"' not in self.text("/admin/"):
            sys.exit(f"sign-in as {username} failed")


def nearest_rank(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def server_timing(headers: dict[str, str]) -> tuple[float | None, int | None]:
    sql_ms = queries = None
    for name, dur, count in TIMING_RE.findall(headers.get("Server-Timing", "")):
        if name == "sql":
            sql_ms, queries = float(dur), int(count) if count else None
    return sql_ms, queries


def measure(portal: Portal, label: str, kind: str, path: str, runs: int, data=None) -> dict:
    """One warm-up, then `runs` timed requests; every answer must be a 200."""
    times, sql, queries, size = [], [], [], 0
    for attempt in range(runs + 1):
        status, payload, headers, ms = portal.request(path, data)
        if status != 200:
            sys.exit(f"{label}: {path} answered {status}")
        if kind != "page" and not payload.startswith(b"%PDF"):
            sys.exit(f"{label}: {path} is not a PDF")
        if attempt == 0:
            continue
        times.append(ms)
        sql_ms, count = server_timing(headers)
        sql.append(sql_ms or 0.0)
        queries.append(count or 0)
        size = len(payload)
    result = {
        "name": label,
        "kind": kind,
        "runs": runs,
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(nearest_rank(times, 95), 1),
        "max_sql_ms": round(max(sql), 1),
        "queries": max(queries),
        "bytes": size,
        "target_ms": TARGETS_MS[kind],
    }
    ok = "ok" if result["p95_ms"] <= result["target_ms"] else "OVER"
    print(
        f"{label:<34} {kind:<8} p50 {result['p50_ms']:>8.1f} ms  p95 {result['p95_ms']:>8.1f} ms"
        f"  sql≤{result['max_sql_ms']:>7.1f} ms  {result['queries']:>3} q  "
        f"{size / 1024:>7.1f} KiB  target {result['target_ms']} ms {ok}",
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--user", default="east.head")
    parser.add_argument("--password", default="Demo#2026")
    parser.add_argument("--runs", type=int, default=10, help="timed runs per report page")
    parser.add_argument("--pdf-runs", type=int, default=3, help="timed runs per PDF")
    parser.add_argument(
        "--bulk", type=int, default=50, help="customers in the bulk print (0: none)"
    )
    parser.add_argument("--query", default="", help="extra report arguments, e.g. division=1")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    portal = Portal(args.base_url)
    portal.sign_in(args.user, args.password)
    suffix = f"?{args.query}" if args.query else ""
    reports = list(dict.fromkeys(REPORT_RE.findall(portal.text("/admin/reports/"))))
    if not reports:
        sys.exit(f"{args.user} may open no report")
    print(f"{args.base_url} as {args.user}: {len(reports)} reports", flush=True)
    results = []
    for name in reports:
        results.append(measure(portal, name, "page", f"/admin/reports/{name}/{suffix}", args.runs))
    if "composition" in reports:
        for by in ("region", "all"):
            path = f"/admin/reports/composition/?by={by}" + (f"&{args.query}" if args.query else "")
            results.append(measure(portal, f"composition by={by}", "page", path, args.runs))
    for name in reports:
        path = f"/admin/reports/{name}/pdf{suffix}"
        results.append(measure(portal, f"{name} PDF", "pdf", path, args.pdf_runs))

    listing = portal.text(f"/admin/customer/?page_size={100 if args.bulk > 50 else 50}")
    ids = list(dict.fromkeys(ROW_ID_RE.findall(listing)))
    token = CSRF_RE.search(listing)
    if not ids or not token:
        print("no customers in the list (or no action form): profile sheets skipped")
    else:
        results.append(
            measure(
                portal,
                "customer profile PDF",
                "profile",
                f"/admin/customer/{ids[0]}/profile.pdf",
                args.pdf_runs,
            )
        )
    if ids and token and args.bulk > 0:
        chosen = ids[: args.bulk]
        form = [("action", "print_profile"), ("csrf_token", html.unescape(token[1]))]
        form += [("rowid", i) for i in chosen]
        results.append(
            measure(
                portal,
                f"bulk profiles ×{len(chosen)}",
                "bulk",
                "/admin/customer/action/",
                1,
                data=form,
            )
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, ensure_ascii=False, indent=2)


if __name__ == "__main__":
    main()
