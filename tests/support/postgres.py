"""A PostgreSQL server for the tests: the machine's own, or a private one started here.

Each test session gets its own database, migrated once; each test starts from
empty tables (TRUNCATE ... RESTART IDENTITY, so case references restart too).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import inspect, text

from consultant.codes.coverage_tables import MCD_CODE_TABLE_PREFIX
from consultant.codes.tables import PTP_TABLE_PREFIX
from consultant.db import Database, upgrade
from consultant.models import Base
from tests.support.required import find_binary, free_port, require_service

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
PG_GLOB = "/usr/lib/postgresql/*/bin"


def _reachable(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


def _as_postgres_user() -> list[str]:
    # initdb refuses to run as root; run the private cluster as the postgres user.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--"]
    return []


def _start_private(tmp: Path) -> str | None:
    initdb, pg_ctl = find_binary("initdb", PG_GLOB), find_binary("pg_ctl", PG_GLOB)
    if not initdb or not pg_ctl:
        return None
    data, sockets, port = tmp / "data", tmp / "sock", free_port()
    sockets.mkdir()
    if os.geteuid() == 0:
        subprocess.run(["chown", "-R", "postgres", str(tmp)], check=True)
    prefix = _as_postgres_user()
    subprocess.run(
        [*prefix, initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [*prefix, pg_ctl, "-w", "-D", str(data), "-l", str(tmp / "log"), "start", "-o", options],
        check=True,
        capture_output=True,
    )
    return f"postgresql://postgres@127.0.0.1:{port}/postgres"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A URL of a PostgreSQL server we may create databases on."""
    url = os.environ.get("CONSULTANT_TEST_POSTGRES_URL", DEFAULT_URL)
    if _reachable(url):
        yield url
        return
    tmp = Path(tempfile.mkdtemp(prefix="cc-pg-"))
    try:
        private = _start_private(tmp)
    except subprocess.CalledProcessError as error:
        private = None
        print(f"private PostgreSQL did not start: {error.stderr!r}")
    if private is None:
        require_service(f"PostgreSQL (none at {url}, and initdb/pg_ctl could not start one)")
    yield private
    pg_ctl = find_binary("pg_ctl", PG_GLOB)
    subprocess.run(
        [*_as_postgres_user(), pg_ctl, "-D", str(tmp / "data"), "-m", "immediate", "stop"],
        capture_output=True,
        check=False,
    )


@pytest.fixture(scope="session")
def postgres_database(postgres_server: str) -> Iterator[str]:
    """A fresh database for this test session, migrated to head; dropped at the end."""
    name = f"cc_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = postgres_server.rsplit("/", 1)[0]
    url = f"{base}/{name}"
    upgrade(url)
    yield url
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def empty_tables(url: str) -> None:
    """Remove every row, restart every id sequence, drop the per-release tables."""
    database = Database(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with database.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        for name in inspect(conn).get_table_names():
            if name.startswith((PTP_TABLE_PREFIX, MCD_CODE_TABLE_PREFIX)):
                conn.execute(text(f'DROP TABLE "{name}"'))
    database.dispose()


def terminate_connections(url: str) -> int:
    """End every other session on ``url``'s database, as ``pg_terminate_backend`` does in an
    outage or a failover; returns how many were ended."""
    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        ended = connection.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchone()
    return int(ended[0]) if ended else 0


def refuse_connections(url: str, refuse: bool = True) -> None:
    """Make ``url``'s database refuse (or accept again) every new connection.

    Done from another database of the same server (``postgres``), since a
    database that refuses connections cannot be told anything.
    """
    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(not refuse).lower()}')


def outage(url: str, seconds: float) -> threading.Timer:
    """Take ``url``'s database away for ``seconds``: refuse new sessions, end the open ones.

    Returns the timer that brings it back (already started; ``join`` waits for it).
    """
    refuse_connections(url)
    terminate_connections(url)
    timer = threading.Timer(seconds, refuse_connections, args=(url, False))
    timer.start()
    return timer


@contextmanager
def refusing_case_subjects(url: str, word: str) -> Iterator[None]:
    """While the block runs, PostgreSQL refuses, as a bad value, any case whose subject has
    ``word`` in it: one message of a batch that the database will not take."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            "CREATE FUNCTION refuse_subject() RETURNS trigger AS $$ BEGIN "
            f"IF NEW.subject LIKE '%{word}%' THEN RAISE EXCEPTION 'refused' "
            "USING ERRCODE = 'character_not_in_repertoire'; END IF; RETURN NEW; END $$ "
            "LANGUAGE plpgsql"
        )
        connection.execute(
            'CREATE TRIGGER refuse_subject BEFORE INSERT OR UPDATE ON "case" '
            "FOR EACH ROW EXECUTE FUNCTION refuse_subject()"
        )
    try:
        yield
    finally:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute('DROP TRIGGER refuse_subject ON "case"')
            connection.execute("DROP FUNCTION refuse_subject()")
