"""Read-only driver connections for the lookup hot paths, one per thread.

Lookups are many and small: a draft checks every code and every pair of
codes a question names, and `consultant codes show` must answer in a
fraction of a second as a whole command. Going through the ORM (and even
importing it) costs more than the query, so these readers talk to the
driver directly: sqlite3 from the standard library, or psycopg.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from typing import Any

SQLITE_MMAP_BYTES = 1 << 30


def _sqlite_path(url: str) -> str:
    path = url.split(":///", 1)[1].split("?", 1)[0]
    return path or ":memory:"


def connect(url: str) -> Any:
    """A driver connection to the database at SQLAlchemy-style ``url``, reading only.

    SQLite memory-maps the file (no read() per lookup once it is cached);
    PostgreSQL runs in autocommit, so no transaction is held open between
    lookups.
    """
    scheme = url.split(":", 1)[0].split("+", 1)[0]
    if scheme == "sqlite":
        import sqlite3

        connection = sqlite3.connect(_sqlite_path(url), check_same_thread=False, timeout=30)
        connection.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        return connection
    if scheme in ("postgresql", "postgres"):
        import psycopg

        from consultant.db import POSTGRES_CONNECT_ARGS

        conninfo = "postgresql://" + url.split("://", 1)[1]
        return psycopg.connect(conninfo, autocommit=True, **POSTGRES_CONNECT_ARGS)
    raise ValueError(f"no lookup driver for database URL scheme {scheme!r}")


def _close_all(connections: list[Any]) -> None:
    for connection in connections:
        connection.close()
    connections.clear()


def _lost(error: Exception) -> bool:
    """True when ``error`` says the connection is gone (dropped, terminated, closed)."""
    import sqlite3

    if isinstance(error, sqlite3.Error):
        return False  # a file does not drop; "locked" is waited out by the busy timeout
    import psycopg

    return isinstance(error, psycopg.OperationalError | psycopg.InterfaceError)


class Reader:
    """Runs read-only queries on one connection per thread; SQL is written with ``?``.

    A connection the server dropped (a restart, ``pg_terminate_backend``) is
    replaced and the query run once more: a lookup only reads, so running it
    again is safe. If the new connection fails too, the driver's error goes
    up to the job, which retries later.

    The connections are closed by ``close()``, or when the reader is garbage
    collected, whichever thread opened them.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.postgres = not url.startswith("sqlite")
        self._local = threading.local()
        self._opened: list[Any] = []
        self._lock = threading.Lock()
        self._finalizer = weakref.finalize(self, _close_all, self._opened)

    def _connection(self) -> Any:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = connect(self.url)
            with self._lock:
                self._opened.append(connection)
        return connection

    def rows(
        self, sql: str, parameters: tuple[Any, ...], *, planned_each_time: bool = False
    ) -> list[tuple[Any, ...]]:
        """The rows ``sql`` reads. ``planned_each_time``: PostgreSQL plans the query for the
        values given every time, never reusing a plan made for any values (psycopg prepares
        a query run five times, and PostgreSQL then may keep a generic plan: a full-text
        query's best plan depends on how many rows its words match)."""
        if self.postgres:
            sql = sql.replace("?", "%s")
        try:
            return self._rows(sql, parameters, planned_each_time)
        except Exception as error:
            if not _lost(error):
                raise
            self._forget_connection()
            return self._rows(sql, parameters, planned_each_time)

    def _rows(
        self, sql: str, parameters: tuple[Any, ...], planned_each_time: bool
    ) -> list[tuple[Any, ...]]:
        cursor = self._connection().cursor()
        try:
            if self.postgres and planned_each_time:
                cursor.execute(sql, parameters, prepare=False)
            else:
                cursor.execute(sql, parameters)
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def _forget_connection(self) -> None:
        """Close and drop this thread's connection; the next query opens a new one."""
        connection = self._local.__dict__.pop("connection", None)
        if connection is None:
            return
        with self._lock:
            if connection in self._opened:
                self._opened.remove(connection)
        with contextlib.suppress(Exception):
            connection.close()

    def close(self) -> None:
        """Close every connection this reader opened, in any thread."""
        with self._lock:
            _close_all(self._opened)
        self._local = threading.local()
