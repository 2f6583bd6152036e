"""Consult desks: which desk each case (and each message from a desk's folder) belongs to.

Every existing case was the main desk's; ``inbound_message.desk`` is set only
for mail taken in from a desk's own folder.

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case") as batch:
        batch.add_column(sa.Column("desk", sa.String(40), nullable=False, server_default="main"))
        batch.create_index("ix_case_desk_status", ["desk", "status"])
    with op.batch_alter_table("inbound_message") as batch:
        batch.add_column(sa.Column("desk", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbound_message") as batch:
        batch.drop_column("desk")
    with op.batch_alter_table("case") as batch:
        batch.drop_index("ix_case_desk_status")
        batch.drop_column("desk")
