"""Fixtures of the IMAP poller's tests: services on a test database, reading a given Dovecot."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from config import Settings
from consultant.services import Services
from tests.support.intake import services_builder
from tests.support.postgres import empty_tables


@pytest.fixture
def build(
    make_settings: Callable[..., Settings], database_url: str
) -> Iterator[Callable[..., Services]]:
    """Services on the test's database (SQLite, then PostgreSQL) reading the given Dovecot."""
    with services_builder(make_settings, database_url) as make:
        yield make


@pytest.fixture
def build_sqlite(
    make_settings: Callable[..., Settings], sqlite_url: str
) -> Iterator[Callable[..., Services]]:
    """The same on SQLite only, for tests in which the database is never reached or what is
    tested does not depend on it."""
    with services_builder(make_settings, sqlite_url) as make:
        yield make


@pytest.fixture
def build_postgres(
    make_settings: Callable[..., Settings], postgres_database: str
) -> Iterator[Callable[..., Services]]:
    """The same on PostgreSQL only: the tests that need its locks."""
    empty_tables(postgres_database)
    with services_builder(make_settings, postgres_database) as make:
        yield make
