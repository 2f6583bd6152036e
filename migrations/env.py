"""Alembic environment: the URL comes from the caller or from CONSULTANT_DATABASE_URL."""

from __future__ import annotations

from alembic import context

import consultant.codes.tables  # noqa: F401  (the code data tables are part of the schema)
from consultant.codes.coverage_tables import MCD_CODE_TABLE_PREFIX
from consultant.codes.tables import CODE_SEARCH_FTS_TABLE, PTP_TABLE_PREFIX
from consultant.db import make_engine
from consultant.models import SEARCH_FTS_TABLE, UNMODELLED_INDEXES, Base


def _database_url() -> str:
    url = context.config.attributes.get("database_url")
    if url:
        return url
    from config import load_settings

    return load_settings().database_url


def _include_name(name: str | None, type_: str, _parents: dict[str, str | None]) -> bool:
    """Leave out the per-release PTP tables (the importer makes them, not a migration) and
    SQLite's full-text tables (virtual tables no model describes)."""
    if type_ == "index":
        return name not in UNMODELLED_INDEXES
    unmodelled = (
        PTP_TABLE_PREFIX,
        MCD_CODE_TABLE_PREFIX,
        SEARCH_FTS_TABLE,
        CODE_SEARCH_FTS_TABLE,
    )
    return not (type_ == "table" and name and name.startswith(unmodelled))


def run_migrations_offline() -> None:
    context.configure(url=_database_url(), target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(_database_url())
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            include_name=_include_name,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
