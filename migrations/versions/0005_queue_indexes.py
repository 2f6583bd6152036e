"""Queue indexes: cases by assignee within a status ("mine", "unassigned", sort by assignee).

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_case_status_assignee", "case", ["status", "assignee_id"])


def downgrade() -> None:
    op.drop_index("ix_case_status_assignee", "case")
