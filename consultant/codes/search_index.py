"""The full-text index of code descriptions, filled a release at a time as it is imported.

``code_search_fts`` (made by migration 0006) holds one row per code entry:
SQLite's FTS5 table, or PostgreSQL's table of English tsvectors with a GIN
index. Filling it with one INSERT ... SELECT after the release's rows are in
costs a fraction of what a per-row trigger would (ten times less on the full
ICD-10-CM in SQLite), and PostgreSQL ranks by the stored vector instead of
computing one per matching row. The rows go with their release: a foreign
key in PostgreSQL, a trigger on ``code_release`` in SQLite.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

# The text searched: the long description, then the short one (CPT and HCPCS short
# descriptors hold abbreviations people search by).
DOCUMENT = "long_description || ' ' || coalesce(short_description, '')"
_SQLITE = (
    "INSERT INTO code_search_fts(description, release_id, code) "
    f"SELECT {DOCUMENT}, release_id, code FROM code_entry WHERE release_id = :release"
)
_POSTGRES = (
    "INSERT INTO code_search_fts(release_id, code, document) "
    f"SELECT release_id, code, to_tsvector('english', {DOCUMENT}) FROM code_entry "
    "WHERE release_id = :release"
)


def index_release(conn: Connection, release_id: int) -> None:
    """Add the code entries of ``release_id`` to the search index, in ``conn``'s transaction."""
    postgres = conn.dialect.name == "postgresql"
    added = conn.execute(text(_POSTGRES if postgres else _SQLITE), {"release": release_id})
    if postgres and added.rowcount:
        # Fresh statistics, so the planner uses the GIN index from the first search on.
        conn.execute(text("ANALYZE code_search_fts"))
