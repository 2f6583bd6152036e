"""Members (coders): registration and invitations, questions asked on the web, account mail.

``account_token`` holds the one-use links sent by email (confirm a registration,
accept an invitation), as hashes only. ``ask_conversation`` and ``ask_turn``
keep a member's questions and the automatic answers they got: the member's
history, the rate limit's count, and the context a follow-up keeps. Account
mail goes through the same outbox as case mail, so an outbox row no longer
needs a case.

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbound_message") as batch:
        batch.alter_column("case_id", existing_type=sa.Integer(), nullable=True)
    op.create_table(
        "account_token",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("purpose", sa.String(20), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_by", sa.String(320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_account_token_email", "account_token", ["email"])
    op.create_table(
        "ask_conversation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("inbound_message_id", sa.Integer(), sa.ForeignKey("inbound_message.id")),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ask_conversation_user", "ask_conversation", ["user_id", "updated_at"])
    op.create_table(
        "ask_turn",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "conversation_id", sa.Integer(), sa.ForeignKey("ask_conversation.id"), nullable=False
        ),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=False),
        sa.Column("elapsed_ms", sa.Float(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ask_turn_user_asked", "ask_turn", ["user_id", "asked_at"])
    op.create_index("ix_ask_turn_conversation", "ask_turn", ["conversation_id"])


def downgrade() -> None:
    op.drop_table("ask_turn")
    op.drop_table("ask_conversation")
    op.drop_table("account_token")
    op.execute("DELETE FROM outbound_message WHERE case_id IS NULL")
    with op.batch_alter_table("outbound_message") as batch:
        batch.alter_column("case_id", existing_type=sa.Integer(), nullable=False)
