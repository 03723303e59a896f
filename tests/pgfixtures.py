"""Throwaway PostgreSQL + PostGIS clusters for the tests (a pytest plugin) and the benchmarks.

`PgCluster` runs initdb/pg_ctl from the installed PostgreSQL in a temporary directory, on a
free port of 127.0.0.1 with its unix socket inside that directory. When we are root the
cluster runs as the `postgres` user (PostgreSQL refuses to run as root). Without PostgreSQL
or PostGIS the fixtures skip with the reason, except in CI (`CI=true`) where they fail: a
skip there would hide a broken set-up.
"""
from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
TEMPLATE_DB = "yizhan_postgis_template"
SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "full_page_writes": "off",
    "wal_level": "replica",
    "max_wal_senders": "5",
    "max_connections": "100",
    "shared_buffers": "'128MB'",
    "log_min_messages": "warning",
}
_DB_COUNTER = itertools.count()


class PostgresMissing(RuntimeError):
    """The PostgreSQL server binaries (initdb, pg_ctl) cannot be found."""


def find_bin_dir() -> Path:
    """The directory holding initdb and pg_ctl: $PG_BIN, pg_config --bindir, or the newest /usr/lib/postgresql/*/bin."""
    candidates = []
    if os.environ.get("PG_BIN"):
        candidates.append(Path(os.environ["PG_BIN"]))
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=False)
            candidates.append(Path(out.stdout.strip()))
        except (OSError, subprocess.SubprocessError):
            pass
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name or 0)
                      if Path(p).parent.name.isdigit() else 0, reverse=True)
    candidates += [Path(p) for p in versions]
    for directory in candidates:
        if (directory / "initdb").exists() and (directory / "pg_ctl").exists():
            return directory
    raise PostgresMissing("PostgreSQL server binaries (initdb, pg_ctl) not found; "
                          "install postgresql and postgresql-<major>-postgis-3")


def run_sql(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    """One statement on its own connection, committed; the rows it returns (if any)."""
    import psycopg2

    conn = psycopg2.connect(url, connect_timeout=5)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PgCluster:
    """One throwaway PostgreSQL cluster in a temporary directory; `url` reaches its `postgres` database."""

    def __init__(self, bin_dir: Path | None = None, settings: dict[str, str] | None = None) -> None:
        self.bin_dir = bin_dir or find_bin_dir()
        self.os_user = "postgres" if os.geteuid() == 0 else None
        if self.os_user:
            try:
                pwd.getpwnam(self.os_user)
            except KeyError:
                raise PostgresMissing("running as root needs a 'postgres' OS user to run the cluster") from None
        self.root = Path(tempfile.mkdtemp(prefix="yizhan-pg-"))
        self.data_dir = self.root / "data"
        self.socket_dir = self.root / "sock"
        self.log_file = self.root / "server.log"
        self.port = free_port()
        self.settings = {**SERVER_SETTINGS, **(settings or {})}
        self.running = False
        self.socket_dir.mkdir()
        self._chown(self.root, self.socket_dir)

    # ---- plumbing -------------------------------------------------------------------
    def _chown(self, *paths: Path) -> None:
        if self.os_user:
            entry = pwd.getpwnam(self.os_user)
            for path in paths:
                os.chown(path, entry.pw_uid, entry.pw_gid)

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        if self.os_user:
            cmd = ["runuser", "-u", self.os_user, "--", *cmd]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=self.root, check=False)
        if out.returncode != 0:
            log = self.log_file.read_text(errors="replace")[-2000:] if self.log_file.exists() else ""
            raise RuntimeError(f"{' '.join(args[:2])} failed ({out.returncode}): {out.stderr.strip()}\n{log}")
        return out

    def _write_conf(self) -> None:
        lines = [f"{key} = {value}" for key, value in self.settings.items()]
        lines += [f"port = {self.port}", f"unix_socket_directories = '{self.socket_dir}'"]
        with open(self.data_dir / "postgresql.auto.conf", "a", encoding="utf-8") as conf:
            conf.write("\n# yizhan test cluster\n" + "\n".join(lines) + "\n")

    # ---- life cycle -----------------------------------------------------------------
    def init(self) -> PgCluster:
        """initdb (trust auth, superuser `postgres`, UTF-8) and the test settings."""
        self._run("initdb", "-D", str(self.data_dir), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        with open(self.data_dir / "pg_hba.conf", "a", encoding="utf-8") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")
        self._write_conf()
        return self

    def start(self, timeout: float = 60) -> None:
        """Start the server and wait until it accepts connections."""
        self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file), "-w",
                  "-t", str(int(timeout)), "start", timeout=timeout + 10)
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: `fast` (clean) or `immediate` (like a crash)."""
        if self.running:
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "stop")
            self.running = False

    def cleanup(self) -> None:
        """Stop (immediately) and remove every file of the cluster."""
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    # ---- using it -------------------------------------------------------------------
    def url_for(self, dbname: str) -> str:
        """A libpq URL to `dbname` over TCP as the superuser."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    @property
    def url(self) -> str:
        return self.url_for("postgres")

    def execute(self, sql: str, dbname: str = "postgres", params: tuple = ()) -> list[tuple]:
        """Run one statement in autocommit mode; the rows it returns (if any)."""
        import psycopg2

        conn = psycopg2.connect(self.url_for(dbname), connect_timeout=5)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()

    def create_database(self, name: str, template: str = "template1") -> str:
        """CREATE DATABASE `name` (a plain identifier); its URL."""
        if not name.replace("_", "").isalnum():
            raise ValueError(f"unsafe database name {name!r}")
        self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """DROP DATABASE `name`, disconnecting whoever is still connected."""
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def has_postgis(self) -> bool:
        """Whether the postgis extension is installed on this server (can be created)."""
        rows = self.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")
        return bool(rows)

    def make_standby(self, settings: dict[str, str] | None = None) -> PgCluster:
        """A hot standby of this (running) cluster: pg_basebackup -R into a new directory, not started."""
        standby = PgCluster(self.bin_dir, {**self.settings, **(settings or {})})
        standby._run("pg_basebackup", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                     "-D", str(standby.data_dir), "-R", "-X", "stream", "--checkpoint=fast", "--no-sync")
        standby._write_conf()
        return standby

    def wait_ready(self, timeout: float = 30) -> None:
        """Poll until the server answers a query."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.execute("SELECT 1")
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


def unavailable(reason: str) -> None:
    """Skip with `reason` locally; fail in CI, where a skip would hide a broken set-up."""
    if IN_CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


def start_cluster(**settings: str) -> PgCluster:
    """A started cluster with PostGIS available, or skip/fail (see `unavailable`)."""
    try:
        cluster = PgCluster(settings=settings or None)
    except PostgresMissing as exc:
        unavailable(str(exc))
    try:
        cluster.init()
        cluster.start()
    except Exception:
        cluster.cleanup()
        raise
    if not cluster.has_postgis():
        cluster.cleanup()
        unavailable("the postgis extension is not installed (apt: postgresql-<major>-postgis-3)")
    return cluster


def add_postgis_template(cluster: PgCluster) -> str:
    """A template database with the postgis extension created (CREATE DATABASE from it: ~0.1 s, not ~0.5 s)."""
    cluster.create_database(TEMPLATE_DB)
    cluster.execute("CREATE EXTENSION postgis", dbname=TEMPLATE_DB)
    return TEMPLATE_DB


def _fresh_database(cluster: PgCluster, prefix: str):
    name = f"{prefix}_{os.getpid()}_{next(_DB_COUNTER)}"
    url = cluster.create_database(name, template=TEMPLATE_DB)
    yield url
    cluster.drop_database(name)


@pytest.fixture(scope="session")
def pg_cluster():
    """A PostgreSQL cluster (PostGIS available) for the whole test session."""
    cluster = start_cluster()
    try:
        add_postgis_template(cluster)
    except Exception:
        cluster.cleanup()
        raise
    yield cluster
    cluster.cleanup()


@pytest.fixture
def postgis_url(pg_cluster):
    """A fresh database (no tables) for one test, made from a template that has PostGIS already.

    The store still runs `CREATE EXTENSION IF NOT EXISTS postgis`; a test in
    test_postgis_store.py covers creating it in a plain database.
    """
    yield from _fresh_database(pg_cluster, "t")


@pytest.fixture(scope="module")
def postgis_module_url(pg_cluster):
    """A fresh, empty database shared by one test module."""
    yield from _fresh_database(pg_cluster, "m")
