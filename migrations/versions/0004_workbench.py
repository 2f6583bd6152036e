"""The review workbench: claims, waiting time, queue filters, notes, presence, search,
server-side sessions, sign-in throttling and audit, API tokens, snippets, admin settings.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)

# SQLite: an external-content FTS5 table over case_search, kept in step by triggers.
SQLITE_FTS = [
    "CREATE VIRTUAL TABLE case_search_fts USING fts5("
    "document, content='case_search', content_rowid='case_id', "
    "tokenize='porter unicode61 remove_diacritics 2', prefix='2 3')",
    "CREATE TRIGGER case_search_ai AFTER INSERT ON case_search BEGIN "
    "INSERT INTO case_search_fts(rowid, document) VALUES (new.case_id, new.document); END",
    "CREATE TRIGGER case_search_ad AFTER DELETE ON case_search BEGIN "
    "INSERT INTO case_search_fts(case_search_fts, rowid, document) "
    "VALUES ('delete', old.case_id, old.document); END",
    "CREATE TRIGGER case_search_au AFTER UPDATE ON case_search BEGIN "
    "INSERT INTO case_search_fts(case_search_fts, rowid, document) "
    "VALUES ('delete', old.case_id, old.document); "
    "INSERT INTO case_search_fts(rowid, document) VALUES (new.case_id, new.document); END",
]


def upgrade() -> None:
    with op.batch_alter_table("case") as batch:
        batch.add_column(sa.Column("waiting_since", WHEN, nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.String(length=320), nullable=True))
        batch.add_column(sa.Column("claimed_at", WHEN, nullable=True))
        batch.add_column(sa.Column("claim_expires_at", WHEN, nullable=True))
        batch.add_column(sa.Column("codes", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("topics", sa.Text(), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("attachment_count", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_index("ix_case_status_waiting", "case", ["status", "waiting_since"])
    op.create_index("ix_case_claimed_by", "case", ["claimed_by"])
    op.execute("UPDATE \"case\" SET waiting_since = updated_at WHERE status = 'awaiting_review'")
    with op.batch_alter_table("inbound_message") as batch:
        batch.add_column(sa.Column("attachments", sa.JSON(), nullable=True))
    with op.batch_alter_table("draft") as batch:
        batch.add_column(sa.Column("base_version", sa.Integer(), nullable=True))
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("password_changed_at", WHEN, nullable=True))

    op.create_table(
        "case_note",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("case.id"), nullable=False),
        sa.Column("author", sa.String(length=320), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
    )
    op.create_index("ix_case_note_case", "case_note", ["case_id", "id"])
    op.create_table(
        "case_presence",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("case.id"), nullable=False),
        sa.Column("viewer", sa.String(length=320), nullable=False),
        sa.Column("seen_at", WHEN, nullable=False),
        sa.Column("editing", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("case_id", "viewer", name="uq_case_presence_viewer"),
    )
    op.create_table(
        "case_search",
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("case.id"), primary_key=True),
        sa.Column("document", sa.Text(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_case_search_document ON case_search "
            "USING gin (to_tsvector('english', document))"
        )
    else:
        for statement in SQLITE_FTS:
            op.execute(statement)
    op.create_table(
        "user_session",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False, unique=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("last_seen_at", WHEN, nullable=False),
        sa.Column("revoked_at", WHEN, nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=255), nullable=True),
    )
    op.create_index("ix_user_session_user", "user_session", ["user_id"])
    op.create_table(
        "login_throttle",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(length=400), nullable=False, unique=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", WHEN, nullable=True),
        sa.Column("locked_until", WHEN, nullable=True),
    )
    op.create_table(
        "auth_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
    )
    op.create_index("ix_auth_event_at", "auth_event", ["at"])
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("last_used_at", WHEN, nullable=True),
        sa.Column("revoked_at", WHEN, nullable=True),
    )
    op.create_table(
        "snippet",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=100), nullable=False, unique=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=320), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
    )
    op.create_table(
        "sender_rule",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("pattern", sa.String(length=320), nullable=False, unique=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("added_by", sa.String(length=320), nullable=False),
        sa.Column("added_at", WHEN, nullable=False),
    )
    op.create_table(
        "app_setting",
        sa.Column("key", sa.String(length=64), primary_key=True),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("updated_by", sa.String(length=320), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "app_setting",
        "sender_rule",
        "snippet",
        "api_token",
        "auth_event",
        "login_throttle",
        "user_session",
    ):
        op.drop_table(table)
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS case_search_fts")
    op.drop_table("case_search")
    op.drop_table("case_presence")
    op.drop_table("case_note")
    with op.batch_alter_table("user") as batch:
        batch.drop_column("password_changed_at")
    with op.batch_alter_table("draft") as batch:
        batch.drop_column("base_version")
    with op.batch_alter_table("inbound_message") as batch:
        batch.drop_column("attachments")
    op.drop_index("ix_case_claimed_by", "case")
    op.drop_index("ix_case_status_waiting", "case")
    with op.batch_alter_table("case") as batch:
        for column in (
            "attachment_count",
            "topics",
            "codes",
            "claim_expires_at",
            "claimed_at",
            "claimed_by",
            "waiting_since",
        ):
            batch.drop_column(column)
