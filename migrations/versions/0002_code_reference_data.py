"""Code reference data: releases, codes, ICD-10-CM notes, modifiers, MUE, add-on, PFS.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "code_release",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("setting", sa.String(length=16), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "setting", "sha256", name="uq_code_release_content"),
    )
    op.create_index(
        "ix_code_release_in_force", "code_release", ["kind", "setting", "effective_from"]
    )

    op.create_table(
        "aoc_edit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("addon", sa.String(length=5), nullable=False),
        sa.Column("primary_code", sa.String(length=5), nullable=True),
        sa.Column("edit_type", sa.SmallInteger(), nullable=False),
        sa.Column("addon_deletion", sa.Integer(), nullable=True),
        sa.Column("primary_deletion", sa.Integer(), nullable=True),
        sa.Column("effective", sa.Integer(), nullable=True),
        sa.Column("deletion", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["release_id"], ["code_release.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_aoc_addon", "aoc_edit", ["release_id", "addon"])
    op.create_index("ix_aoc_primary", "aoc_edit", ["release_id", "primary_code"])

    op.create_table(
        "code_entry",
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("billable", sa.Boolean(), nullable=False),
        sa.Column("parent", sa.String(length=16), nullable=True),
        sa.Column("short_description", sa.Text(), nullable=True),
        sa.Column("long_description", sa.Text(), nullable=False),
        sa.Column("added", sa.Date(), nullable=True),
        sa.Column("effective", sa.Date(), nullable=True),
        sa.Column("terminated", sa.Date(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["release_id"], ["code_release.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("release_id", "code"),
    )
    op.create_index("ix_code_entry_code", "code_entry", ["code"])
    op.create_index("ix_code_entry_parent", "code_entry", ["release_id", "parent"])

    op.create_table(
        "code_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["release_id"], ["code_release.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_code_note_code", "code_note", ["release_id", "code"])

    op.create_table(
        "hcpcs_modifier",
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=2), nullable=False),
        sa.Column("short_description", sa.Text(), nullable=True),
        sa.Column("long_description", sa.Text(), nullable=False),
        sa.Column("added", sa.Date(), nullable=True),
        sa.Column("effective", sa.Date(), nullable=True),
        sa.Column("terminated", sa.Date(), nullable=True),
        sa.Column("action_code", sa.String(length=1), nullable=True),
        sa.ForeignKeyConstraint(["release_id"], ["code_release.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("release_id", "code"),
    )
    op.create_table(
        "mue_value",
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=5), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("adjudication_indicator", sa.SmallInteger(), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["release_id"], ["code_release.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("release_id", "code"),
    )
    op.create_table(
        "pfs_indicator",
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=5), nullable=False),
        sa.Column("modifier", sa.String(length=2), nullable=False),
        sa.Column("status", sa.String(length=1), nullable=True),
        sa.Column("work_rvu", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("pctc", sa.String(length=1), nullable=True),
        sa.Column("global_days", sa.String(length=3), nullable=True),
        sa.Column("pre_op", sa.Numeric(precision=6, scale=4), nullable=True),
        sa.Column("intra_op", sa.Numeric(precision=6, scale=4), nullable=True),
        sa.Column("post_op", sa.Numeric(precision=6, scale=4), nullable=True),
        sa.Column("multiple_procedure", sa.String(length=1), nullable=True),
        sa.Column("bilateral", sa.String(length=1), nullable=True),
        sa.Column("assistant", sa.String(length=1), nullable=True),
        sa.Column("co_surgeon", sa.String(length=1), nullable=True),
        sa.Column("team_surgery", sa.String(length=1), nullable=True),
        sa.Column("conversion_factor", sa.Numeric(precision=10, scale=4), nullable=True),
        sa.ForeignKeyConstraint(["release_id"], ["code_release.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("release_id", "code", "modifier"),
    )


def downgrade() -> None:
    op.drop_table("pfs_indicator")
    op.drop_table("mue_value")
    op.drop_table("hcpcs_modifier")
    op.drop_index("ix_code_note_code", table_name="code_note")

    op.drop_table("code_note")
    op.drop_index("ix_code_entry_parent", table_name="code_entry")
    op.drop_index("ix_code_entry_code", table_name="code_entry")

    op.drop_table("code_entry")
    op.drop_index("ix_aoc_primary", table_name="aoc_edit")
    op.drop_index("ix_aoc_addon", table_name="aoc_edit")

    op.drop_table("aoc_edit")
    op.drop_index("ix_code_release_in_force", table_name="code_release")

    op.drop_table("code_release")
