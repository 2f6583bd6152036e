"""The code data the drafting and asking tests read: real ICD-10-CM and HCPCS, and the
constructed CMS files, loaded once per database (SQLite and a real PostgreSQL) per session.

A test module uses it by importing ``code_data_url`` and ``services`` as fixtures."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from config import Settings
from consultant.codes.importers import importer_for
from consultant.codes.importers.icd10cm import default_tabular
from consultant.codes.importing import import_release
from consultant.db import Database, upgrade
from consultant.services import Services, build_services
from tests.support.corpus import (
    AOC_FILE,
    COVERAGE_FILES,
    HCPCS_ZIP,
    MUE_FILE,
    PAYMENT_FILES,
    PTP_FILE,
)

CODE_FILES = [
    ("icd10cm", None),
    ("hcpcs", HCPCS_ZIP),
    ("ncci-ptp", PTP_FILE),
    ("mue", MUE_FILE),
    ("aoc", AOC_FILE),
    *PAYMENT_FILES,
    *COVERAGE_FILES,
]


def _load_code_data(url: str) -> None:
    upgrade(url)
    db = Database(url)
    for kind, path in CODE_FILES:
        import_release(db, importer_for(kind), [path or default_tabular()])
    db.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def code_data_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database with all the code data loaded once; the drafting tests only read it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('code-data') / 'codes.db'}"
        _load_code_data(url)
        yield url
        return
    server = request.getfixturevalue("postgres_server")
    name = f"cc_codes_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{server.rsplit('/', 1)[0]}/{name}"
    _load_code_data(url)
    yield url
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def services(make_settings: Callable[..., Settings], code_data_url: str) -> Iterator[Services]:
    built = build_services(make_settings(database_url=code_data_url))
    yield built
    built.db.dispose()


@pytest.fixture
def writable_code_data_url(code_data_url: str, tmp_path: Path) -> Iterator[str]:
    """A copy of the loaded code data that this test may write to (accounts, cases)."""
    if code_data_url.startswith("sqlite"):
        copy = tmp_path / "codes.db"
        shutil.copyfile(code_data_url.removeprefix("sqlite:///"), copy)
        yield f"sqlite:///{copy}"
        return
    server, template = code_data_url.rsplit("/", 1)
    name = f"cc_copy_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield f"{server}/{name}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def writable_services(
    make_settings: Callable[..., Settings], writable_code_data_url: str
) -> Iterator[Services]:
    """Services on a writable copy of the code data, tasks in-process, mail to the outbox."""
    built = build_services(make_settings(database_url=writable_code_data_url))
    yield built
    built.db.dispose()
