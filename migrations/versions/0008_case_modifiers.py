"""The modifiers a case's messages name, beside its codes and topics.

Similar past cases are ranked by the codes they share, then the modifiers,
then the topics; the modifiers were only in each draft's record. Cases
processed before this get theirs from ``consultant cases reindex``.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case") as batch:
        batch.add_column(sa.Column("modifiers", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("case") as batch:
        batch.drop_column("modifiers")
