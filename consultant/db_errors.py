"""Database errors sorted by their cause, whichever driver or layer raised them.

A job meets database errors from three places: the ORM (SQLAlchemy wrapping
psycopg or sqlite3), the read-only lookups (the drivers themselves), and
code in between. What to do depends only on the cause:

- ``transient``: the connection or the server was unwell (dropped, restarted,
  terminated, locked, a serialisation conflict). The work is tried again,
  later, on a fresh connection; nothing about the message is wrong.
- ``data``: the database refused a value (NUL, encoding, length, range). Trying
  again gives the same answer: that one message is set aside with its error
  and its raw bytes, and the rest go on.
- ``None``: not a database error, or one that says the program is wrong; the
  caller treats it as any other failure.
"""

from __future__ import annotations

import functools
import sqlite3
import time
from collections.abc import Callable, Iterator
from enum import StrEnum
from typing import ParamSpec, TypeVar

import psycopg
from sqlalchemy import exc as sa_exc

TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,  # no connection free in the pool in time
    psycopg.OperationalError,  # includes AdminShutdown, deadlocks, serialisation failures
    psycopg.InterfaceError,  # the connection is closed
    sqlite3.OperationalError,  # database is locked / busy
    ConnectionError,
)
DATA_TYPES: tuple[type[BaseException], ...] = (
    sa_exc.DataError,
    psycopg.DataError,
    sqlite3.DataError,
)
P = ParamSpec("P")
T = TypeVar("T")
# PostgreSQL errors about a value that psycopg files under OperationalError: class 54
# (program limit exceeded: an index row too large, a statement too complex).
DATA_SQLSTATE_CLASSES = ("54",)
# sqlite3 reports a schema that is not there with the same class as a busy database.
PERMANENT_SQLITE_WORDS = ("no such table", "no such column", "syntax error")


class DbErrorKind(StrEnum):
    TRANSIENT = "transient"
    DATA = "data"


class TransientError(Exception):
    """Raised when work must be tried again later: a database or server was unreachable."""


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error, what it wraps (``orig``) and what caused it, each once."""
    seen: set[int] = set()
    stack = [error]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for nested in (getattr(current, "orig", None), current.__cause__, current.__context__):
            if isinstance(nested, BaseException):
                stack.append(nested)


def _refused_value_state(error: BaseException) -> bool:
    sqlstate = getattr(error, "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith(DATA_SQLSTATE_CLASSES)


def classify(error: BaseException) -> DbErrorKind | None:
    """Transient, data, or None (not a database error we know what to do with)."""
    kinds = set()
    for link in _chain(error):
        if isinstance(link, TransientError):
            return DbErrorKind.TRANSIENT
        if isinstance(link, sa_exc.DBAPIError):
            if link.connection_invalidated:
                return DbErrorKind.TRANSIENT
            if link.orig is not None:
                continue  # the driver's own error, further down the chain, says what it was
        if isinstance(link, DATA_TYPES) or _refused_value_state(link):
            kinds.add(DbErrorKind.DATA)
        elif isinstance(link, TRANSIENT_TYPES):
            if isinstance(link, sqlite3.OperationalError) and any(
                word in str(link) for word in PERMANENT_SQLITE_WORDS
            ):
                continue
            kinds.add(DbErrorKind.TRANSIENT)
    if DbErrorKind.DATA in kinds:
        return DbErrorKind.DATA  # a refused value stays refused, whatever else went wrong
    return DbErrorKind.TRANSIENT if kinds else None


def raise_if_transient(error: BaseException) -> None:
    """Raise ``TransientError`` (naming the cause, never its values) if ``error`` is transient."""
    if classify(error) is DbErrorKind.TRANSIENT and not isinstance(error, TransientError):
        raise TransientError(describe(error)) from error


def describe(error: BaseException) -> str:
    """One line naming the error, without the SQL or its parameters (they may hold PHI)."""
    for link in _chain(error):
        if isinstance(link, sa_exc.StatementError) and link.orig is not None:
            return f"{type(link.orig).__name__}: {' '.join(str(link.orig).split())}"
    return f"{type(error).__name__}: {' '.join(str(error).split())}"


RETRY_DELAYS = (0.2, 1.0, 3.0)


def retry_transient(
    action: Callable[P, T], delays: tuple[float, ...] = RETRY_DELAYS
) -> Callable[P, T]:
    """Run ``action`` again (after each of ``delays``) when it fails for a transient cause.

    For one-transaction actions that are safe to run again: a connection
    dropped under one rolled the whole transaction back. Still failing, it
    raises ``TransientError`` with a sentence a person can act on.
    """

    @functools.wraps(action)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> T:
        for delay in (*delays, None):
            try:
                return action(*args, **kwargs)
            except TransientError:
                raise
            except Exception as error:
                if classify(error) is not DbErrorKind.TRANSIENT:
                    raise
                if delay is None:
                    raise TransientError(
                        "the database could not be reached; nothing was changed, try again "
                        f"in a moment ({describe(error)})"
                    ) from error
                time.sleep(delay)
        raise AssertionError("unreachable")

    return wrapped
