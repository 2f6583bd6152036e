"""Guidance notes: experts' notes on a code, a pair, a modifier or a topic, used by drafts.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

WHEN = sa.DateTime(timezone=True)

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "guidance_note",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("target_kind", sa.String(20), nullable=False),
        sa.Column("target", sa.String(40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("citation", sa.String(500), nullable=False),
        sa.Column("author", sa.String(320), nullable=False),
        sa.Column("updated_by", sa.String(320), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("from_case", sa.String(20), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
    )
    op.create_index("ix_guidance_note_target", "guidance_note", ["target_kind", "target"])


def downgrade() -> None:
    op.drop_index("ix_guidance_note_target", table_name="guidance_note")
    op.drop_table("guidance_note")
