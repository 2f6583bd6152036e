"""Where an allowed sender's patients are seen: a state, a Part B MAC and a DME MAC.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sender_rule") as batch:
        batch.add_column(sa.Column("state", sa.String(2), nullable=True))
        batch.add_column(sa.Column("part_b_mac", sa.String(16), nullable=True))
        batch.add_column(sa.Column("dme_mac", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sender_rule") as batch:
        batch.drop_column("dme_mac")
        batch.drop_column("part_b_mac")
        batch.drop_column("state")
