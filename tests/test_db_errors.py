"""Database errors are sorted by cause, from real failures of both drivers and of the ORM."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from consultant.codes.readonly import Reader
from consultant.db import Database
from consultant.db_errors import DbErrorKind, TransientError, classify, describe, retry_transient
from tests.support.postgres import terminate_connections


@pytest.fixture
def postgres_url(postgres_database: str) -> str:
    return postgres_database


def test_a_terminated_postgres_connection_is_transient_through_the_orm(postgres_url: str) -> None:
    database = Database(postgres_url)
    with database.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
        terminate_connections(postgres_url)
        with pytest.raises(Exception) as raised:
            connection.execute(text("SELECT 1"))
    database.dispose()
    assert classify(raised.value) is DbErrorKind.TRANSIENT


def test_a_terminated_postgres_connection_is_transient_from_the_driver(postgres_url: str) -> None:
    connection = psycopg.connect(postgres_url, autocommit=True)
    terminate_connections(postgres_url)
    with pytest.raises(psycopg.Error) as raised:
        connection.execute("SELECT 1")
    connection.close()
    assert classify(raised.value) is DbErrorKind.TRANSIENT


def test_nul_in_a_postgres_text_value_is_a_data_error(postgres_url: str) -> None:
    database = Database(postgres_url)
    with pytest.raises(Exception) as raised, database.engine.connect() as connection:
        connection.execute(text("SELECT CAST(:value AS text)"), {"value": "a\x00b"})
    database.dispose()
    assert classify(raised.value) is DbErrorKind.DATA
    assert "a\x00b" not in describe(raised.value)  # parameters are never shown


def test_a_locked_sqlite_database_is_transient_and_a_missing_table_is_not(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    other = sqlite3.connect(path, timeout=0.05)
    with pytest.raises(sqlite3.OperationalError) as locked:
        other.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(sqlite3.OperationalError) as missing:
        other.execute("SELECT * FROM nowhere")
    holder.close()
    other.close()
    assert classify(locked.value) is DbErrorKind.TRANSIENT
    assert classify(missing.value) is None


def test_errors_that_are_not_about_the_database_are_left_alone() -> None:
    assert classify(ValueError("bad")) is None
    assert classify(TransientError("server away")) is DbErrorKind.TRANSIENT


def test_the_lookup_reader_reconnects_after_its_connection_was_terminated(
    postgres_url: str,
) -> None:
    reader = Reader(postgres_url)
    assert reader.rows("SELECT 1", ()) == [(1,)]
    terminate_connections(postgres_url)

    assert reader.rows("SELECT 2", ()) == [(2,)]
    reader.close()


def test_a_review_action_is_run_again_after_a_dropped_connection(postgres_url: str) -> None:
    database = Database(postgres_url)
    calls: list[int] = []

    @retry_transient
    def count_rows() -> int:
        calls.append(1)
        with database.session() as session:
            session.execute(text("SELECT 1"))  # the transaction holds a connection now
            if len(calls) == 1:
                terminate_connections(postgres_url)
            return session.execute(text("SELECT 41 + 1")).scalar_one()

    assert count_rows() == 42
    assert len(calls) == 2
    database.dispose()


def test_a_missing_table_through_the_orm_is_not_transient(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(Exception) as raised, database.engine.connect() as connection:
        connection.execute(text("SELECT * FROM nowhere"))
    database.dispose()
    assert classify(raised.value) is None


def test_a_key_too_large_for_a_postgres_index_is_a_data_error(postgres_url: str) -> None:
    """psycopg files 'index row size exceeds maximum' under OperationalError; it is a value."""
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute("CREATE TEMP TABLE keys (k text)")
        connection.execute("CREATE INDEX ON keys (k)")
        with pytest.raises(psycopg.Error) as raised:
            noise = "".join(chr(0x4E00 + b % 20000) for b in os.urandom(3000))  # incompressible
            connection.execute("INSERT INTO keys VALUES (%s)", (noise,))
    assert classify(raised.value) is DbErrorKind.DATA
