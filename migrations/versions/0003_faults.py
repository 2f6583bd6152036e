"""Work under faults: processing claims, stored message text, send outcomes, bounces, thread index.

Revision ID: 0003
Revises: 0002
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_message") as batch:
        batch.add_column(sa.Column("text", sa.Text(), nullable=True))
        batch.add_column(sa.Column("claim_token", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("unfinished_runs", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch.add_column(
            sa.Column("restarts", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch.add_column(sa.Column("restarted_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("outbound_message") as batch:
        batch.add_column(sa.Column("claim_token", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.String(length=255), nullable=True))
        batch.add_column(
            sa.Column("outcome_unknown", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("bounced_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("bounce_status", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("bounce_text", sa.Text(), nullable=True))
    op.create_table(
        "thread_ref",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=False),
        sa.Column("cited", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "message_id", name="uq_thread_ref_case_message"),
    )
    op.create_index("ix_thread_ref_message_id", "thread_ref", ["message_id"])
    op.create_index(
        "ix_inbound_sender_received", "inbound_message", ["from_address", "received_at"]
    )
    _index_existing_threads()
    _store_existing_texts()
    # The defaults were for the rows already there; the application sets them from now on.
    with op.batch_alter_table("inbound_message") as batch:
        batch.alter_column("unfinished_runs", server_default=None)
        batch.alter_column("restarts", server_default=None)
    with op.batch_alter_table("outbound_message") as batch:
        batch.alter_column("outcome_unknown", server_default=None)


def _index_existing_threads() -> None:
    """Every case's thread goes into the new index: its messages' own ids, and what they cite."""
    connection = op.get_bind()
    own: dict[int, set[str]] = {}
    for table in ("inbound_message", "outbound_message"):
        rows = connection.execute(
            sa.text(
                f"SELECT case_id, message_id FROM {table} "
                "WHERE case_id IS NOT NULL AND message_id IS NOT NULL"
            )
        )
        for case_id, message_id in rows:
            own.setdefault(case_id, set()).add(message_id)
    refs = [
        {"case_id": case_id, "message_id": m, "cited": False}
        for case_id, ids in own.items()
        for m in sorted(ids)
    ]
    for case_id, ids in connection.execute(sa.text('SELECT id, thread_message_ids FROM "case"')):
        values = json.loads(ids) if isinstance(ids, str) else (ids or [])
        cited = [m for m in dict.fromkeys(values) if m not in own.get(case_id, set())]
        refs.extend({"case_id": case_id, "message_id": m, "cited": True} for m in cited)
    if refs:
        connection.execute(
            sa.text(
                "INSERT INTO thread_ref (case_id, message_id, cited) "
                "VALUES (:case_id, :message_id, :cited)"
            ),
            refs,
        )


def _store_existing_texts() -> None:
    """Messages processed before this revision get the text the case page now shows.

    Uses the application's own parser (bounded whatever the mail holds): the
    stored text must be exactly what processing would store.
    """
    from consultant.mail.parse import MessageParseError, parse_message

    connection = op.get_bind()
    ids = [
        row[0]
        for row in connection.execute(
            sa.text("SELECT id FROM inbound_message WHERE processed_at IS NOT NULL ORDER BY id")
        )
    ]
    for inbound_id in ids:
        raw = connection.execute(
            sa.text("SELECT raw FROM inbound_message WHERE id = :id"), {"id": inbound_id}
        ).scalar_one()
        try:
            text = parse_message(bytes(raw)).text.replace("\x00", "")
        except MessageParseError:
            continue
        connection.execute(
            sa.text("UPDATE inbound_message SET text = :text WHERE id = :id"),
            {"text": text, "id": inbound_id},
        )


def downgrade() -> None:
    op.drop_index("ix_inbound_sender_received", table_name="inbound_message")
    op.drop_index("ix_thread_ref_message_id", table_name="thread_ref")
    op.drop_table("thread_ref")
    with op.batch_alter_table("outbound_message") as batch:
        for name in (
            "bounce_text",
            "bounce_status",
            "bounced_at",
            "outcome_unknown",
            "claimed_by",
            "claim_token",
        ):
            batch.drop_column(name)
    with op.batch_alter_table("inbound_message") as batch:
        for name in (
            "restarted_at",
            "restarts",
            "unfinished_runs",
            "claimed_at",
            "claimed_by",
            "claim_token",
            "text",
        ):
            batch.drop_column(name)
