"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import consultant.codes.tables  # noqa: F401  (part of the schema)
from consultant.codes.coverage_tables import MCD_CODE_TABLE_PREFIX
from consultant.codes.tables import (
    CODE_SEARCH_FTS_TABLE,
    CODE_SEARCH_WORDS_TABLE,
    PTP_TABLE_PREFIX,
)
from consultant.db import Database, upgrade
from consultant.models import SEARCH_FTS_TABLE, UNMODELLED_INDEXES, Base


def _ours(name: str | None, type_: str, _parents: object) -> bool:
    """Tables no model describes: per-release PTP tables and SQLite's full-text tables."""
    if type_ == "index":
        return name not in UNMODELLED_INDEXES
    unmodelled = (
        PTP_TABLE_PREFIX,
        MCD_CODE_TABLE_PREFIX,
        SEARCH_FTS_TABLE,
        CODE_SEARCH_FTS_TABLE,
        CODE_SEARCH_WORDS_TABLE,
    )
    return not (type_ == "table" and name and name.startswith(unmodelled))


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    database = Database(database_url)
    with database.engine.connect() as connection:
        differences = compare_metadata(
            MigrationContext.configure(connection, opts={"include_name": _ours}), Base.metadata
        )
    database.dispose()
    assert differences == []


def test_upgrade_twice_changes_nothing(database_url: str) -> None:
    upgrade(database_url)
    database = Database(database_url)
    tables = set(inspect(database.engine).get_table_names())
    database.dispose()
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
