"""Tables for official code data: releases, codes, notes, and the CMS edit files.

Every row belongs to a release (one import of one official file, or of all
parts of one quarterly file), so several releases of a kind live side by side
and a lookup reads the one in force on the date of service. The NCCI PTP
edits, millions of rows a quarter, get a table of their own per release
(``ptp_edit_r<release id>``): a new quarter loads into an empty table and
builds its index once, and dropping an old quarter is one statement.

Dates in the CMS edit tables are stored as integers ``YYYYMMDD``: compact,
fast to load in bulk, and compared as numbers.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

import consultant.codes.coverage_tables  # noqa: F401  (the coverage tables: same schema)
from consultant.codes.refs import ReleaseRef
from consultant.models import Base, utcnow


class CodeRelease(Base):
    """One imported release of an official file."""

    __tablename__ = "code_release"
    __table_args__ = (
        UniqueConstraint("kind", "setting", "sha256", name="uq_code_release_content"),
        Index("ix_code_release_in_force", "kind", "setting", "effective_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    setting: Mapped[str] = mapped_column(String(16), default="")
    version: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    effective_from: Mapped[date] = mapped_column(Date)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    def ref(self) -> ReleaseRef:
        return ReleaseRef(
            self.id,
            self.kind,
            self.setting,
            self.version,
            self.source,
            self.effective_from,
            dict(self.details or {}),
        )

    def describe(self) -> dict[str, Any]:
        """The release as a citation (the same as every lookup gives)."""
        return self.ref().describe()


class CodeEntry(Base):
    """A code of ICD-10-CM, ICD-10-PCS, HCPCS Level II or CPT in one release."""

    __tablename__ = "code_entry"
    __table_args__ = (
        Index("ix_code_entry_code", "code"),
        Index("ix_code_entry_parent", "release_id", "parent"),
    )

    release_id: Mapped[int] = mapped_column(
        ForeignKey("code_release.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    billable: Mapped[bool] = mapped_column(Boolean)
    parent: Mapped[str | None] = mapped_column(String(16))
    short_description: Mapped[str | None] = mapped_column(Text)
    long_description: Mapped[str] = mapped_column(Text)
    added: Mapped[date | None] = mapped_column(Date)
    effective: Mapped[date | None] = mapped_column(Date)
    terminated: Mapped[date | None] = mapped_column(Date)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CodeNote(Base):
    """An instructional note of the ICD-10-CM tabular list (Excludes1, code first ...)."""

    __tablename__ = "code_note"
    __table_args__ = (Index("ix_code_note_code", "release_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("code_release.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(24))
    text: Mapped[str] = mapped_column(Text)


class LevelTwoModifier(Base):
    """A HCPCS Level II modifier from the CMS alpha-numeric file."""

    __tablename__ = "hcpcs_modifier"

    release_id: Mapped[int] = mapped_column(
        ForeignKey("code_release.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    short_description: Mapped[str | None] = mapped_column(Text)
    long_description: Mapped[str] = mapped_column(Text)
    added: Mapped[date | None] = mapped_column(Date)
    effective: Mapped[date | None] = mapped_column(Date)
    terminated: Mapped[date | None] = mapped_column(Date)
    action_code: Mapped[str | None] = mapped_column(String(1))


class MueValue(Base):
    """A Medically Unlikely Edit: units per line or per day for a code."""

    __tablename__ = "mue_value"

    release_id: Mapped[int] = mapped_column(
        ForeignKey("code_release.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)
    adjudication_indicator: Mapped[int] = mapped_column(SmallInteger)
    rationale: Mapped[str | None] = mapped_column(Text)


class AddOnEdit(Base):
    """An add-on code edit: an add-on code and one acceptable primary (or none listed)."""

    __tablename__ = "aoc_edit"
    __table_args__ = (
        Index("ix_aoc_addon", "release_id", "addon"),
        Index("ix_aoc_primary", "release_id", "primary_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("code_release.id", ondelete="CASCADE"))
    addon: Mapped[str] = mapped_column(String(5))
    primary_code: Mapped[str | None] = mapped_column(String(5))
    edit_type: Mapped[int] = mapped_column(SmallInteger)
    addon_deletion: Mapped[int | None] = mapped_column(Integer)
    primary_deletion: Mapped[int | None] = mapped_column(Integer)
    effective: Mapped[int | None] = mapped_column(Integer)
    deletion: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str | None] = mapped_column(Text)


class PfsIndicator(Base):
    """Physician fee schedule indicators of a code (and modifier); no descriptors."""

    __tablename__ = "pfs_indicator"

    release_id: Mapped[int] = mapped_column(
        ForeignKey("code_release.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    modifier: Mapped[str] = mapped_column(String(2), primary_key=True, default="")
    status: Mapped[str | None] = mapped_column(String(1))
    work_rvu: Mapped[float | None] = mapped_column(Numeric(8, 2))
    # Practice expense in an office (non-facility) and in a facility, and malpractice. A
    # PE left empty, or marked NA, means the code is not priced in that setting.
    nonfacility_pe_rvu: Mapped[float | None] = mapped_column(Numeric(8, 2))
    nonfacility_na: Mapped[bool] = mapped_column(Boolean, default=False)
    facility_pe_rvu: Mapped[float | None] = mapped_column(Numeric(8, 2))
    facility_na: Mapped[bool] = mapped_column(Boolean, default=False)
    mp_rvu: Mapped[float | None] = mapped_column(Numeric(8, 2))
    pctc: Mapped[str | None] = mapped_column(String(1))
    global_days: Mapped[str | None] = mapped_column(String(3))
    pre_op: Mapped[float | None] = mapped_column(Numeric(6, 4))
    intra_op: Mapped[float | None] = mapped_column(Numeric(6, 4))
    post_op: Mapped[float | None] = mapped_column(Numeric(6, 4))
    multiple_procedure: Mapped[str | None] = mapped_column(String(1))
    bilateral: Mapped[str | None] = mapped_column(String(1))
    assistant: Mapped[str | None] = mapped_column(String(1))
    co_surgeon: Mapped[str | None] = mapped_column(String(1))
    team_surgery: Mapped[str | None] = mapped_column(String(1))
    conversion_factor: Mapped[float | None] = mapped_column(Numeric(10, 4))


class GpciValue(Base):
    """The geographic practice cost indices of one Medicare locality (the PFS GPCI file)."""

    __tablename__ = "gpci_value"

    release_id: Mapped[int] = mapped_column(
        ForeignKey("code_release.id", ondelete="CASCADE"), primary_key=True
    )
    mac: Mapped[str] = mapped_column(String(5), primary_key=True)
    locality: Mapped[str] = mapped_column(String(2), primary_key=True)
    state: Mapped[str] = mapped_column(String(2))
    name: Mapped[str] = mapped_column(Text)
    work: Mapped[float] = mapped_column(Numeric(6, 3))
    pe: Mapped[float] = mapped_column(Numeric(6, 3))
    mp: Mapped[float] = mapped_column(Numeric(6, 3))


class PfsLocality(Base):
    """A Medicare locality and the counties in it (the PFS locality-county file)."""

    __tablename__ = "pfs_locality"

    release_id: Mapped[int] = mapped_column(
        ForeignKey("code_release.id", ondelete="CASCADE"), primary_key=True
    )
    mac: Mapped[str] = mapped_column(String(5), primary_key=True)
    locality: Mapped[str] = mapped_column(String(2), primary_key=True)
    state: Mapped[str] = mapped_column(String(2))
    area: Mapped[str] = mapped_column(Text)
    counties: Mapped[str] = mapped_column(Text)


class ClfsRate(Base):
    """A Clinical Laboratory Fee Schedule payment limit for a code (and modifier)."""

    __tablename__ = "clfs_rate"

    release_id: Mapped[int] = mapped_column(
        ForeignKey("code_release.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    modifier: Mapped[str] = mapped_column(String(2), primary_key=True, default="")
    effective: Mapped[int | None] = mapped_column(Integer)
    indicator: Mapped[str | None] = mapped_column(String(2))
    rate: Mapped[float] = mapped_column(Numeric(10, 2))


PTP_TABLE_PREFIX = "ptp_edit_r"
# The code search index (migration 0013; no model describes them): descriptions, terms and
# modifiers in an FTS5 table in SQLite, a table of weighted English tsvectors with a GIN
# index in PostgreSQL; and each release's words behind a trigram index.
CODE_SEARCH_FTS_TABLE = "code_search_fts"
CODE_SEARCH_WORDS_TABLE = "code_search_words"


def ptp_table_name(release_id: int) -> str:
    return f"{PTP_TABLE_PREFIX}{release_id}"


def ptp_table(release_id: int, metadata: MetaData | None = None) -> Table:
    """The PTP edits of one release: created by its import, outside Alembic's schema."""
    return Table(
        ptp_table_name(release_id),
        metadata or MetaData(),
        Column("column1", String(5), nullable=False),
        Column("column2", String(5), nullable=False),
        Column("pre1996", Boolean, nullable=False),
        Column("effective", Integer, nullable=False),
        Column("deletion", Integer),
        Column("modifier_indicator", SmallInteger, nullable=False),
        Column("rationale", SmallInteger, nullable=False),
    )
