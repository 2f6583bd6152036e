"""The queue's order from an index: every case has ``waiting_since``, and an index on it.

The queue sorts by when a case started waiting. Cases that never reached
review (ignored, failed in processing) had no ``waiting_since``, so the
queue sorted by ``coalesce(waiting_since, created_at)``, which no index
serves: a late page of all 100,000 cases sorted them all (0.4 s on
PostgreSQL, 2 s on SQLite). New cases now get ``waiting_since`` when they
are made (the model's default); this fills it for the old ones and indexes
it with the id, the queue's tie-breaker, for views across statuses.

"Mine" (assigned to me or claimed by me) is counted across every status for
the tabs: an index on the assignee alone lets both halves come from an index.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute('UPDATE "case" SET waiting_since = created_at WHERE waiting_since IS NULL')
    op.create_index("ix_case_waiting", "case", ["waiting_since", "id"])
    op.create_index("ix_case_assignee", "case", ["assignee_id"])


def downgrade() -> None:
    op.drop_index("ix_case_assignee", "case")
    op.drop_index("ix_case_waiting", "case")
