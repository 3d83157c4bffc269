"""A private, throw-away PostgreSQL cluster for the test suite.

    cluster = PgCluster().start()
    url = cluster.create_database("portal_test")   # SQLAlchemy URL
    ...
    cluster.stop()

The cluster lives in a fresh temporary directory, listens only on 127.0.0.1
on a free port (plus a unix socket inside that directory) and trusts every
local connection, with durability switched off for speed.  It is removed
again by ``stop()``, which is also registered with ``atexit``.

initdb and postgres refuse to run as root; when we are root the server runs
as an unprivileged account instead: ``$PGCLUSTER_USER`` if set, else the
system user ``portaltest`` (created with ``useradd --system`` when missing),
falling back to ``nobody``.

Run ``python tests/pg_cluster.py`` for a smoke test.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from typing import Self

import psycopg
from psycopg import sql

DEFAULT_OS_USER = "portaltest"
FALLBACK_OS_USER = "nobody"

SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "max_connections": "100",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "logging_collector": "off",
}


def _find_bin(name: str) -> str:
    path = shutil.which(name)
    if path:
        return path
    # Debian keeps the server binaries off PATH.
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0,
    )
    if candidates:
        return candidates[-1]
    raise RuntimeError(
        f"PostgreSQL binary {name!r} not found on PATH or in /usr/lib/postgresql/*/bin"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _os_user() -> str | None:
    """The account to run the server as, or None to run as ourselves."""
    if os.geteuid() != 0:
        return None
    wanted = os.environ.get("PGCLUSTER_USER")
    if wanted:
        pwd.getpwnam(wanted)  # KeyError if it does not exist: fail loudly
        return wanted
    try:
        pwd.getpwnam(DEFAULT_OS_USER)
        return DEFAULT_OS_USER
    except KeyError:
        pass
    created = subprocess.run(
        [
            "useradd",
            "--system",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            DEFAULT_OS_USER,
        ],
        check=False,
        capture_output=True,
        text=True,
    )
    if created.returncode == 0 or _user_exists(DEFAULT_OS_USER):
        return DEFAULT_OS_USER
    return FALLBACK_OS_USER


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


class PgCluster:
    def __init__(self, basedir: str | None = None):
        self.basedir = basedir
        self.tmpdir: str | None = None
        self.datadir: str | None = None
        self.logfile: str | None = None
        self.port: int | None = None
        self.os_user: str | None = None
        self._started = False
        self._owner_pid: int | None = None

    # -- helpers -----------------------------------------------------------
    def _cmd(self, *args: str) -> list[str]:
        if self.os_user:
            return ["runuser", "-u", self.os_user, "--", *args]
        return list(args)

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.setdefault("LC_ALL", "C.UTF-8")
        proc = subprocess.run(
            self._cmd(*args),
            cwd=self.tmpdir,  # the server user may not be able to read our cwd
            env=env,
            stdin=subprocess.DEVNULL,
            check=False,
            capture_output=True,
            text=True,
        )
        if check and proc.returncode != 0:
            raise RuntimeError(
                f"{' '.join(args)} failed ({proc.returncode}):\n"
                f"{proc.stdout}{proc.stderr}{self._log_tail()}"
            )
        return proc

    def _log_tail(self, lines: int = 40) -> str:
        if not self.logfile or not os.path.exists(self.logfile):
            return ""
        with open(self.logfile, encoding="utf-8", errors="replace") as f:
            tail = f.readlines()[-lines:]
        return "--- server log (tail) ---\n" + "".join(tail)

    def _connect(self, dbname: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user="postgres",
            dbname=dbname,
            autocommit=True,
            connect_timeout=10,
        )

    # -- API ---------------------------------------------------------------
    @property
    def url(self) -> str:
        return self.url_for("postgres")

    def url_for(self, dbname: str) -> str:
        if self.port is None:
            raise RuntimeError("cluster not started")
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def start(self) -> Self:
        if self._started:
            return self
        self.os_user = _os_user()
        self.tmpdir = tempfile.mkdtemp(prefix="pgcluster-", dir=self.basedir)
        self.datadir = os.path.join(self.tmpdir, "data")
        self.logfile = os.path.join(self.tmpdir, "server.log")
        self._owner_pid = os.getpid()
        atexit.register(self._atexit_stop)
        try:
            if self.os_user:
                pw = pwd.getpwnam(self.os_user)
                os.chown(self.tmpdir, pw.pw_uid, pw.pw_gid)
            self._run(
                _find_bin("initdb"),
                "--pgdata",
                self.datadir,
                "--locale=C.UTF-8",
                "--encoding=UTF8",
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "--no-instructions",
            )
            with open(os.path.join(self.datadir, "postgresql.conf"), "a") as f:
                f.write("\n# pg_cluster.py (tests)\n")
                f.writelines(
                    f"{key} = {value}\n" for key, value in SERVER_SETTINGS.items()
                )
                f.write(f"unix_socket_directories = '{self.tmpdir}'\n")
            # The free port may be taken by someone else between probing and
            # binding it; try a few times.
            last_error: RuntimeError | None = None
            for _ in range(5):
                self.port = _free_port()
                try:
                    self._run(
                        _find_bin("pg_ctl"),
                        "start",
                        "-w",
                        "-t",
                        "60",
                        "-D",
                        self.datadir,
                        "-l",
                        self.logfile,
                        "-o",
                        f"-p {self.port}",
                    )
                except RuntimeError as e:
                    last_error = e
                    if "could not bind" in self._log_tail():
                        continue
                    raise
                break
            else:
                raise last_error  # type: ignore[misc]
            self._started = True
        except BaseException:
            self.stop()
            raise
        return self

    def create_database(self, name: str) -> str:
        with self._connect() as conn:
            conn.execute(
                sql.SQL(
                    "CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8' "
                    "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
                ).format(sql.Identifier(name))
            )
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        with self._connect() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(name)
                )
            )

    def stop(self) -> None:
        """Stop the server and delete its directory. Safe to call twice."""
        if self.datadir and os.path.exists(
            os.path.join(self.datadir, "postmaster.pid")
        ):
            self._run(
                _find_bin("pg_ctl"),
                "stop",
                "-m",
                "immediate",
                "-w",
                "-D",
                self.datadir,
                check=False,
            )
        self._started = False
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None
            self.datadir = None

    def _atexit_stop(self) -> None:
        # A forked child (e.g. a test worker) must not stop its parent's server.
        if os.getpid() == self._owner_pid:
            self.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


if __name__ == "__main__":
    import time

    t0 = time.monotonic()
    with PgCluster() as cluster:
        print(
            f"started in {time.monotonic() - t0:.1f}s as OS user "
            f"{cluster.os_user or pwd.getpwuid(os.getuid()).pw_name!r} "
            f"on port {cluster.port} ({cluster.tmpdir})"
        )
        url = cluster.create_database("smoke")
        print("database url:", url)
        with cluster._connect("smoke") as conn:
            print(conn.execute("select version()").fetchone()[0])
            enc = conn.execute(
                "select pg_encoding_to_char(encoding), datcollate, datctype "
                "from pg_database where datname = current_database()"
            ).fetchone()
            print("encoding/collate/ctype:", enc)
            try:
                conn.execute("CREATE EXTENSION pg_trgm")
                sim = conn.execute(
                    "select similarity('北京市海淀区', '海淀区')"
                ).fetchone()[0]
                print(f"pg_trgm: available (similarity test = {sim:.3f})")
            except psycopg.Error as e:
                print(f"pg_trgm: NOT available ({e.diag.message_primary})")
        cluster.drop_database("smoke")
        datadir = cluster.tmpdir
    print("stopped; directory removed:", not os.path.exists(datadir))
