"""Engine and session handling for SQLite (embedded) and PostgreSQL (production).

SQLite runs in WAL mode and opens every transaction with ``BEGIN IMMEDIATE``:
the poller, the web app and in-process tasks write from several threads, and a
deferred transaction that reads first and writes later can fail with
"database is locked" where an immediate one simply waits its turn.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
SQLITE_BUSY_TIMEOUT_SECONDS = 30
READ_ONLY = "consultant_read_only"
# Give up connecting after 10 s, and notice a dead server on an idle connection.
POSTGRES_CONNECT_ARGS = {
    "connect_timeout": 10,
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
}


def _normalise_url(url: str) -> URL:
    """Accept ``postgresql://`` and ``postgres://`` and use psycopg 3 for both."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _prepare_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # let the "begin" hook below issue BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:  # type: ignore[no-untyped-def]
        # A read-only unit of work must not wait for (or hold) the write lock: code
        # lookups run while processing holds it on another connection of this thread.
        readonly = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``name``: what PostgreSQL's advisory locks take."""
    return int.from_bytes(
        hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True
    )


def make_engine(url: str) -> Engine:
    """An engine for ``url``; for a SQLite file, its folder is created first.

    Statement parameters are never shown in errors or logs: they hold message
    text, and message text may hold patient details.
    """
    parsed = _normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}, hide_parameters=True
        )
        _prepare_sqlite(engine)
        return engine
    # Pre-ping: a connection the server dropped is replaced before use, not failed on.
    # LIFO: the connection just returned is the next one lent, so the few that warm-up
    # used (statements prepared, the server's caches filled) serve the first messages.
    return create_engine(
        parsed,
        pool_pre_ping=True,
        pool_use_lifo=True,
        hide_parameters=True,
        connect_args=POSTGRES_CONNECT_ARGS,
    )


class Database:
    """One engine and its session factory; ``session()`` is a unit of work."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessions = sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on error."""
        with self.sessions.begin() as session:
            yield session

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session for reading only: on SQLite it never takes the write lock."""
        with self.read_sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(url: str) -> Config:
    """Alembic's configuration pointing at our migrations and the given database."""
    from alembic.config import Config  # imported here: only migrations need Alembic

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Create or migrate the database at ``url`` to ``revision``."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def schema_revisions(url: str) -> tuple[str | None, str]:
    """The database's schema revision (None: never migrated) and this version's head.

    For explaining a failure: it opens its own connection and reads Alembic's table.
    """
    quiet = logging.getLogger("alembic")
    level, quiet.level = quiet.level, logging.WARNING  # its INFO lines say nothing here
    engine = make_engine(url)
    try:
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
        quiet.setLevel(level)
    return current, head or ""
