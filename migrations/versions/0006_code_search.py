"""Code pages: full-text search over code descriptions, and PTP edits found by column 2.

``code_search_fts`` holds the searchable text of every code entry: an FTS5
table in SQLite, a table of English tsvectors with a GIN index in
PostgreSQL (ranking reads the stored vector rather than computing one per
match). Imports fill it a release at a time (consultant/codes/search_index.py);
here it is filled for the releases already loaded. Its rows go with their
release: a foreign key in PostgreSQL, a trigger in SQLite.

A code page lists the edits where the code is column 2 as well as column 1;
the per-release PTP tables only had a (column1, column2) index, so each gets
one on column 2 (the importer adds it to new releases).

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DOCUMENT = "long_description || ' ' || coalesce(short_description, '')"
POSTGRES = [
    "CREATE TABLE code_search_fts ("
    "release_id integer NOT NULL REFERENCES code_release(id) ON DELETE CASCADE, "
    "code varchar(16) NOT NULL, document tsvector NOT NULL)",
    "CREATE INDEX ix_code_search_fts_document ON code_search_fts USING gin (document)",
    "INSERT INTO code_search_fts(release_id, code, document) "
    f"SELECT release_id, code, to_tsvector('english', {DOCUMENT}) FROM code_entry",
]
SQLITE = [
    "CREATE VIRTUAL TABLE code_search_fts USING fts5("
    "description, release_id UNINDEXED, code UNINDEXED, "
    "tokenize='porter unicode61 remove_diacritics 2', prefix='2 3')",
    "CREATE TRIGGER code_search_release_ad AFTER DELETE ON code_release BEGIN "
    "DELETE FROM code_search_fts WHERE release_id = old.id; END",
    "INSERT INTO code_search_fts(description, release_id, code) "
    f"SELECT {DOCUMENT}, release_id, code FROM code_entry",
]
PTP_PREFIX = "ptp_edit_r"


def _ptp_tables() -> list[str]:
    names = sa.inspect(op.get_bind()).get_table_names()
    return [n for n in names if n.startswith(PTP_PREFIX) and n[len(PTP_PREFIX) :].isdigit()]


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRES if postgres else SQLITE:
        op.execute(statement)
    for table in _ptp_tables():
        op.execute(f'CREATE INDEX IF NOT EXISTS "ix_{table}_column2" ON "{table}" (column2)')
        if postgres:
            op.execute(f'ANALYZE "{table}"')  # so the planner picks the new index at once


def downgrade() -> None:
    for table in _ptp_tables():
        op.execute(f'DROP INDEX IF EXISTS "ix_{table}_column2"')
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS code_search_release_ad")
    op.execute("DROP TABLE IF EXISTS code_search_fts")
