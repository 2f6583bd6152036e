"""Fixtures shared by every test: settings, databases (SQLite and PostgreSQL), services."""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from config import Settings
from consultant.db import Database, upgrade
from consultant.services import Services, build_services

pytest_plugins = [
    "tests.support.postgres",
    "tests.support.redis",
    "tests.support.dovecot",
    "tests.support.smtp",
    "tests.support.browser",
]

CONSULT_ADDRESS = "consult@caseconsultant.example"


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl-C reaches the processes the tests start, however pytest itself was started.

    A shell starts a background job with SIGINT ignored, and an ignored signal stays
    ignored in every child: the pollers and ``consultant run`` that the tests stop with
    Ctrl-C would then never stop. A handled signal is reset to the default in a child.
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


KEEP = ("CONSULTANT_REQUIRE_SERVICES", "CONSULTANT_TEST_")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings come from the test, never from the shell that runs pytest."""
    for name in list(os.environ):
        if name.startswith("CONSULTANT_") and not name.startswith(KEEP):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("sqlite-template") / "consultant.db"
    upgrade(f"sqlite:///{path}")
    return path


def _sqlite_copy(template: Path, tmp_path: Path) -> str:
    target = tmp_path / "consultant.db"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """An empty, migrated database: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        return _sqlite_copy(sqlite_template, tmp_path)
    from tests.support.postgres import empty_tables  # a plugin module: imported by pytest first

    url = request.getfixturevalue("postgres_database")
    empty_tables(url)
    return url


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> str:
    """An empty, migrated PostgreSQL database, for tests of a database server's failures."""
    from tests.support.postgres import empty_tables

    url = request.getfixturevalue("postgres_database")
    empty_tables(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """An empty, migrated SQLite database, for tests about logic rather than the database."""
    return _sqlite_copy(sqlite_template, tmp_path)


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings for a test: a private var dir, our consult address, any overrides."""

    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "var_dir": tmp_path / "var",
            "consult_address": CONSULT_ADDRESS,
            "display_name": "CaseConsultant",
        }
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    return make_settings(database_url=database_url)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """The test's database, on its own (no services)."""
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def make_services(
    make_settings: Callable[..., Settings], database_url: str
) -> Iterator[Callable[..., Services]]:
    """More services on the test's database and var dir, with other settings."""
    built: list[Services] = []

    def make(**overrides: object) -> Services:
        services = build_services(make_settings(database_url=database_url, **overrides))
        built.append(services)
        return services

    yield make
    for services in built:
        services.db.dispose()


@pytest.fixture
def postgres_services(
    make_settings: Callable[..., Settings], postgres_url: str
) -> Iterator[Services]:
    """Services on an empty PostgreSQL database only (for failures SQLite cannot have)."""
    built = build_services(make_settings(database_url=postgres_url))
    yield built
    built.db.dispose()


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    """Services on the test's database, tasks in-process, mail to the Maildir outbox."""
    built = build_services(settings)
    yield built
    built.db.dispose()
