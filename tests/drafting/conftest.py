"""The code data every drafting test reads: loaded once per database, in SQLite and in a
real PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

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
