"""Similar past cases: the modifiers a case names, and its codes found by an index.

Similar past cases are ranked by the codes they share, then the modifiers,
then the topics; the modifiers were only in each draft's record. Cases
processed before this get theirs from ``consultant cases reindex``.

On PostgreSQL the sent cases sharing a code are found through a GIN index on
the case's codes as an array (``&&``); its statistics also let the planner
walk the newest sent cases by index when a code is common. Before it, a case
page with 100,000 cases scanned every sent case (30 ms). SQLite keeps LIKE.

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
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_case_codes ON \"case\" USING gin (string_to_array(codes, ' '))")
        op.execute('ANALYZE "case"')  # the index's expression gets statistics at once


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_case_codes")
    with op.batch_alter_table("case") as batch:
        batch.drop_column("modifiers")
