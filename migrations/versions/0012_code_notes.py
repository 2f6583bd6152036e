"""Plain-language descriptions, favourites and personal notes per code.

``plain_description`` keeps every version of the practice's plain-language
description of a code (the highest is current); ``user_code`` is one user's
star and personal note on a code.

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

WHEN = sa.DateTime(timezone=True)

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plain_description",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("system", sa.String(16), nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", sa.String(320), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.UniqueConstraint("system", "code", "version", name="uq_plain_description_version"),
    )
    op.create_table(
        "user_code",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=False),
        sa.Column("system", sa.String(16), nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("favourite", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.UniqueConstraint("user_id", "system", "code", name="uq_user_code"),
    )


def downgrade() -> None:
    op.drop_table("user_code")
    op.drop_table("plain_description")
