"""Queue indexes and PostgreSQL's stored search vectors.

- Ignored mail by route and arrival (the queue's "ignored" view, newest first).
- Cases by assignee within a status ("mine", "unassigned", sort by assignee).
- PostgreSQL: ``case_search_fts`` holds each case's English tsvector, kept in
  step with ``case_search`` by a trigger, with a GIN index; ranking reads the
  stored vector instead of computing it per row. It replaces 0004's expression
  index. SQLite keeps 0004's FTS5 table of the same name.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POSTGRES_FTS = [
    "DROP INDEX IF EXISTS ix_case_search_document",
    "CREATE TABLE case_search_fts ("
    "case_id integer PRIMARY KEY REFERENCES case_search(case_id) ON DELETE CASCADE, "
    "document tsvector NOT NULL)",
    "CREATE INDEX ix_case_search_fts_document ON case_search_fts USING gin (document)",
    "CREATE FUNCTION case_search_fts_sync() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN "
    "INSERT INTO case_search_fts (case_id, document) "
    "VALUES (NEW.case_id, to_tsvector('english', NEW.document)) "
    "ON CONFLICT (case_id) DO UPDATE SET document = EXCLUDED.document; "
    "RETURN NEW; "
    "END $$",
    "CREATE TRIGGER case_search_fts_sync AFTER INSERT OR UPDATE OF document ON case_search "
    "FOR EACH ROW EXECUTE FUNCTION case_search_fts_sync()",
    "INSERT INTO case_search_fts (case_id, document) "
    "SELECT case_id, to_tsvector('english', document) FROM case_search",
]


def upgrade() -> None:
    op.create_index("ix_inbound_route_received", "inbound_message", ["route", "received_at"])
    op.create_index("ix_case_status_assignee", "case", ["status", "assignee_id"])
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_FTS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS case_search_fts_sync ON case_search")
        op.execute("DROP FUNCTION IF EXISTS case_search_fts_sync()")
        op.execute("DROP TABLE IF EXISTS case_search_fts")
        op.execute(
            "CREATE INDEX ix_case_search_document ON case_search "
            "USING gin (to_tsvector('english', document))"
        )
    op.drop_index("ix_case_status_assignee", "case")
    op.drop_index("ix_inbound_route_received", "inbound_message")
