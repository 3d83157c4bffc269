"""A local PostgreSQL 15 for manual benchmarking (issue #4); stops on Ctrl-C or SIGTERM.

    .venv/bin/python benchmarks/pg_server.py [--dir /tmp] [--name portal]

Starts a private cluster with tests/pg_cluster.py (C.UTF-8, 127.0.0.1, durability off:
a scratch server, not a production setting), sized for a million customers, creates
the database and prints its DATABASE_URL. The data directory is removed on exit.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import pg_cluster  # noqa: E402

# Memory for a database of a few GB on a 24 GB machine.
BENCH_SETTINGS = {
    "shared_buffers": "'2GB'",
    "effective_cache_size": "'12GB'",
    "work_mem": "'32MB'",
    "maintenance_work_mem": "'1GB'",
    "max_wal_size": "'8GB'",
    "checkpoint_timeout": "'30min'",
    "random_page_cost": "1.1",
    "jit": "off",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default="/tmp", help="where the data directory goes")
    parser.add_argument("--name", default="portal", help="database name")
    args = parser.parse_args()
    pg_cluster.SERVER_SETTINGS.update(BENCH_SETTINGS)
    cluster = pg_cluster.PgCluster(basedir=args.dir).start()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        url = cluster.create_database(args.name)
        print(f"DATABASE_URL={url}", flush=True)
        print(f"data in {cluster.tmpdir}; Ctrl-C or SIGTERM stops and removes it", flush=True)
        stop.wait()
    finally:
        cluster.stop()
        print("stopped", flush=True)


if __name__ == "__main__":
    main()
