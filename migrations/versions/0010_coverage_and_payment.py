"""Coverage (Medicare Coverage Database articles, LCDs, NCDs) and payment (PE and MP RVUs,
GPCIs, localities, the lab fee schedule).

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _release() -> sa.Column:
    return sa.Column(
        "release_id",
        sa.Integer(),
        sa.ForeignKey("code_release.id", ondelete="CASCADE"),
        nullable=False,
    )


def _release_key() -> sa.Column:
    return sa.Column(
        "release_id",
        sa.Integer(),
        sa.ForeignKey("code_release.id", ondelete="CASCADE"),
        primary_key=True,
    )


def _document() -> list[sa.Column]:
    return [
        sa.Column("id", sa.Integer(), primary_key=True),
        _release(),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    with op.batch_alter_table("pfs_indicator") as batch:
        batch.add_column(sa.Column("nonfacility_pe_rvu", sa.Numeric(8, 2), nullable=True))
        batch.add_column(
            sa.Column("nonfacility_na", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("facility_pe_rvu", sa.Numeric(8, 2), nullable=True))
        batch.add_column(
            sa.Column("facility_na", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("mp_rvu", sa.Numeric(8, 2), nullable=True))
    with op.batch_alter_table("pfs_indicator") as batch:
        batch.alter_column("nonfacility_na", server_default=None)
        batch.alter_column("facility_na", server_default=None)

    op.create_table(
        "gpci_value",
        _release_key(),
        sa.Column("mac", sa.String(5), primary_key=True),
        sa.Column("locality", sa.String(2), primary_key=True),
        sa.Column("state", sa.String(2), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("work", sa.Numeric(6, 3), nullable=False),
        sa.Column("pe", sa.Numeric(6, 3), nullable=False),
        sa.Column("mp", sa.Numeric(6, 3), nullable=False),
    )
    op.create_table(
        "pfs_locality",
        _release_key(),
        sa.Column("mac", sa.String(5), primary_key=True),
        sa.Column("locality", sa.String(2), primary_key=True),
        sa.Column("state", sa.String(2), nullable=False),
        sa.Column("area", sa.Text(), nullable=False),
        sa.Column("counties", sa.Text(), nullable=False),
    )
    op.create_table(
        "clfs_rate",
        _release_key(),
        sa.Column("code", sa.String(5), primary_key=True),
        sa.Column("modifier", sa.String(2), primary_key=True),
        sa.Column("effective", sa.Integer(), nullable=True),
        sa.Column("indicator", sa.String(2), nullable=True),
        sa.Column("rate", sa.Numeric(10, 2), nullable=False),
    )

    op.create_table(
        "mcd_contractor",
        _release_key(),
        sa.Column("contractor_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("type_id", sa.SmallInteger(), primary_key=True, autoincrement=False),
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("number", sa.String(16), nullable=False),
        sa.Column("type_name", sa.Text(), nullable=False),
    )
    op.create_table(
        "mcd_jurisdiction",
        sa.Column("id", sa.Integer(), primary_key=True),
        _release(),
        sa.Column("contractor_id", sa.Integer(), nullable=False),
        sa.Column("type_id", sa.SmallInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(2), nullable=False),
        sa.Column("active", sa.Integer(), nullable=True),
        sa.Column("term", sa.Integer(), nullable=True),
    )
    op.create_index("ix_mcd_jurisdiction_state", "mcd_jurisdiction", ["release_id", "state"])
    op.create_table(
        "mcd_document",
        _release_key(),
        sa.Column("document_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("display_id", sa.String(16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("effective", sa.Integer(), nullable=True),
        sa.Column("ending", sa.Integer(), nullable=True),
        sa.Column("texts", sa.JSON(), nullable=False),
    )
    op.create_table(
        "mcd_document_contractor",
        *_document(),
        sa.Column("contractor_id", sa.Integer(), nullable=False),
        sa.Column("type_id", sa.SmallInteger(), nullable=False),
        sa.Column("contractor_version", sa.Integer(), nullable=False),
    )
    op.create_index(
        "ix_mcd_document_contractor",
        "mcd_document_contractor",
        ["release_id", "document_id", "version"],
    )
    op.create_table(
        "mcd_link",
        *_document(),
        sa.Column("lcd_id", sa.Integer(), nullable=True),
        sa.Column("article_id", sa.Integer(), nullable=True),
    )
    op.create_index("ix_mcd_link_document", "mcd_link", ["release_id", "document_id", "version"])
    op.create_table(
        "mcd_group",
        *_document(),
        sa.Column("list", sa.String(10), nullable=False),
        sa.Column("group_no", sa.Integer(), nullable=False),
        sa.Column("paragraph", sa.Text(), nullable=False),
    )
    op.create_index("ix_mcd_group_document", "mcd_group", ["release_id", "document_id", "version"])
    op.create_table(
        "ncd_document",
        _release_key(),
        sa.Column("ncd_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("section", sa.String(32), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("effective", sa.Integer(), nullable=True),
        sa.Column("ending", sa.Integer(), nullable=True),
        sa.Column("item_service", sa.Text(), nullable=False),
        sa.Column("indications", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "ncd_document",
        "mcd_group",
        "mcd_link",
        "mcd_document_contractor",
        "mcd_document",
        "mcd_jurisdiction",
        "mcd_contractor",
        "clfs_rate",
        "pfs_locality",
        "gpci_value",
    ):
        op.drop_table(table)
    with op.batch_alter_table("pfs_indicator") as batch:
        for column in ("mp_rvu", "facility_na", "facility_pe_rvu", "nonfacility_na"):
            batch.drop_column(column)
        batch.drop_column("nonfacility_pe_rvu")
