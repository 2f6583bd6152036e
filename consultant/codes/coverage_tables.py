"""Tables for the Medicare Coverage Database exports: articles, LCDs, NCDs and contractors.

One import of an export (the articles download, the LCDs download, the NCD
download) is one release; every row below carries its release, so a new
export loads beside the old one and a failed import leaves the old one in
force. The exports are relational (one CSV per table); they are kept so,
narrowed to what lookups read: document versions with their dates and status,
the contractors (MACs) of each and the states those cover, the codes of each
article by list and group, each group's paragraph as plain text, and the links
between LCDs and articles.

Dates are integers ``YYYYMMDD``, as in the CMS edit tables. Row ids are
surrogates: the exports repeat rows now and then, and a repeated row must not
fail a national import.

The codes of the articles, a million rows in a national export, get a table
of their own per release (``mcd_code_r<release id>``), as the PTP edits do:
the rows load into an empty table and its indexes are built once, which is
several times faster than updating shared indexes row by row.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from consultant.models import Base

# The lists an article keeps codes in (``mcd_code.list`` and ``mcd_group.list``).
HCPC = "hcpc"
COVERED = "covered"
NONCOVERED = "noncovered"
MODIFIER = "modifier"


class McdContractor(Base):
    """A Medicare Administrative Contractor as an export lists it (per contractor version)."""

    __tablename__ = "mcd_contractor"

    release_id: Mapped[int] = mapped_column(
        ForeignKey("code_release.id", ondelete="CASCADE"), primary_key=True
    )
    contractor_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    type_id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(Text)
    number: Mapped[str] = mapped_column(String(16))
    type_name: Mapped[str] = mapped_column(Text)


class McdJurisdiction(Base):
    """A state (or territory) a contractor covers, from ``contractor_jurisdiction``."""

    __tablename__ = "mcd_jurisdiction"
    __table_args__ = (Index("ix_mcd_jurisdiction_state", "release_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("code_release.id", ondelete="CASCADE"))
    contractor_id: Mapped[int] = mapped_column(Integer)
    type_id: Mapped[int] = mapped_column(SmallInteger)
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(2))
    active: Mapped[int | None] = mapped_column(Integer)
    term: Mapped[int | None] = mapped_column(Integer)


class McdDocument(Base):
    """One version of an article or an LCD: its dates, status and (LCDs) its texts."""

    __tablename__ = "mcd_document"

    release_id: Mapped[int] = mapped_column(
        ForeignKey("code_release.id", ondelete="CASCADE"), primary_key=True
    )
    document_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    display_id: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8))
    effective: Mapped[int | None] = mapped_column(Integer)
    ending: Mapped[int | None] = mapped_column(Integer)
    # Plain text of an LCD's indication, coding guidelines, documentation and utilization.
    texts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class McdDocumentContractor(Base):
    """Which contractor published a document version."""

    __tablename__ = "mcd_document_contractor"
    __table_args__ = (Index("ix_mcd_document_contractor", "release_id", "document_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("code_release.id", ondelete="CASCADE"))
    document_id: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    contractor_id: Mapped[int] = mapped_column(Integer)
    type_id: Mapped[int] = mapped_column(SmallInteger)
    contractor_version: Mapped[int] = mapped_column(Integer)


class McdLink(Base):
    """An LCD and an article that go together (the exports' ``*_related_documents``)."""

    __tablename__ = "mcd_link"
    __table_args__ = (Index("ix_mcd_link_document", "release_id", "document_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("code_release.id", ondelete="CASCADE"))
    document_id: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    lcd_id: Mapped[int | None] = mapped_column(Integer)
    article_id: Mapped[int | None] = mapped_column(Integer)


class McdGroup(Base):
    """The paragraph heading a group of an article's list, as plain text."""

    __tablename__ = "mcd_group"
    __table_args__ = (Index("ix_mcd_group_document", "release_id", "document_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("code_release.id", ondelete="CASCADE"))
    document_id: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    list: Mapped[str] = mapped_column(String(10))
    group_no: Mapped[int] = mapped_column(Integer)
    paragraph: Mapped[str] = mapped_column(Text)


class NcdDocument(Base):
    """One version of a National Coverage Determination (the NCD tracking table)."""

    __tablename__ = "ncd_document"

    release_id: Mapped[int] = mapped_column(
        ForeignKey("code_release.id", ondelete="CASCADE"), primary_key=True
    )
    ncd_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    section: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(Text)
    effective: Mapped[int | None] = mapped_column(Integer)
    ending: Mapped[int | None] = mapped_column(Integer)
    item_service: Mapped[str] = mapped_column(Text)
    indications: Mapped[str] = mapped_column(Text)


MCD_CODE_TABLE_PREFIX = "mcd_code_r"


def mcd_code_table(release_id: int, metadata: MetaData | None = None) -> Table:
    """The codes an article export's versions list: a procedure code, a covered or
    non-covered ICD-10-CM code, or a modifier, in a numbered group. Created by the import."""
    return Table(
        f"{MCD_CODE_TABLE_PREFIX}{release_id}",
        metadata or MetaData(),
        Column("document_id", Integer, nullable=False),
        Column("version", Integer, nullable=False),
        Column("list", String(10), nullable=False),
        Column("group_no", Integer, nullable=False),
        Column("code", String(10), nullable=False),
    )
