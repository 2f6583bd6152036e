"""Importing an official file as a release: once, atomically, with the reason when it fails.

``import_release`` recognises a file already loaded (same kind, same
checksum) and does nothing; otherwise it records the release and loads its
rows in one transaction. A file that fails half-way rolls back completely,
so the previous release stays in force, and the error names the file and
the line.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, insert, select, update

from consultant.codes.search_index import index_release
from consultant.codes.sources import CodeImportError, SourceFile, combined_sha256
from consultant.codes.tables import CodeRelease
from consultant.db import Database

Progress = Callable[[int], None]


def no_progress(_rows: int) -> None:
    """Progress callback that shows nothing (tests, non-interactive runs)."""


@dataclass(frozen=True)
class ReleaseInfo:
    """What identifies a release besides its checksum."""

    kind: str
    version: str
    effective_from: date
    setting: str = ""


@dataclass
class Loaded:
    """What an importer loaded: its row count and anything worth keeping on the release."""

    rows: int
    details: dict[str, Any] = field(default_factory=dict)


class Importer(Protocol):
    """One official file format."""

    kind: str

    def open(self, paths: list[Path]) -> list[SourceFile]:
        """The files to read (the right member of each zip); refuses a wrong set of files."""

    def identify(self, sources: list[SourceFile], options: ImportOptions) -> ReleaseInfo:
        """Version, effective date and setting, from the file names or content and options."""

    def load(
        self, conn: Connection, release_id: int, sources: list[SourceFile], progress: Progress
    ) -> Loaded:
        """Load every row of the release; raise CodeImportError on the first bad line."""


@dataclass(frozen=True)
class ImportOptions:
    """What the operator may state when the file name does not say it."""

    version: str | None = None
    effective: date | None = None
    setting: str | None = None


@dataclass(frozen=True)
class ImportResult:
    release: dict[str, Any]
    already_loaded: bool
    rows: int


def import_release(
    db: Database,
    importer: Importer,
    paths: list[Path],
    options: ImportOptions | None = None,
    progress: Progress = no_progress,
) -> ImportResult:
    """Import ``paths`` with ``importer`` as one release, unless that content is loaded."""
    options = options or ImportOptions()
    sources = importer.open(paths)
    info = importer.identify(sources, options)
    sha = combined_sha256(sources)
    with db.session() as session:
        existing = session.scalar(
            select(CodeRelease).where(
                CodeRelease.kind == info.kind,
                CodeRelease.setting == info.setting,
                CodeRelease.sha256 == sha,
            )
        )
        if existing is not None:
            return ImportResult(existing.describe(), already_loaded=True, rows=existing.row_count)
    with db.engine.begin() as conn:
        release_id = conn.execute(
            insert(CodeRelease).values(
                kind=info.kind,
                setting=info.setting,
                version=info.version,
                source=", ".join(s.name for s in sources),
                sha256=sha,
                effective_from=info.effective_from,
                details={},
            )
        ).inserted_primary_key[0]
        loaded = importer.load(conn, release_id, sources, progress)
        index_release(conn, release_id)
        conn.execute(
            update(CodeRelease)
            .where(CodeRelease.id == release_id)
            .values(row_count=loaded.rows, details=loaded.details)
        )
    with db.session() as session:
        release = session.get_one(CodeRelease, release_id)
        return ImportResult(release.describe(), already_loaded=False, rows=loaded.rows)


MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
"""Month number by the first three letters of its English name (file names use both)."""

CODE_ENTRY_COLUMNS = (
    "release_id",
    "code",
    "billable",
    "parent",
    "short_description",
    "long_description",
    "added",
    "effective",
    "terminated",
    "details",
)


def code_entry_row(
    release_id: int,
    code: str,
    billable: bool,
    long_description: str,
    *,
    parent: str | None = None,
    short_description: str | None = None,
    added: str | None = None,
    effective: str | None = None,
    terminated: str | None = None,
    details: dict[str, Any] | None = None,
) -> tuple[object, ...]:
    """One ``code_entry`` row in ``CODE_ENTRY_COLUMNS`` order, for ``bulk_insert``."""
    return (
        release_id,
        code,
        billable,
        parent,
        short_description,
        long_description,
        added,
        effective,
        terminated,
        as_json(details or {}),
    )


def counted(rows: Iterable[Any], progress: Progress, every: int = 50_000) -> Iterator[Any]:
    """Pass ``rows`` through, reporting progress every ``every`` rows and at the end."""
    pending = 0
    for row in rows:
        yield row
        pending += 1
        if pending == every:
            progress(pending)
            pending = 0
    if pending:
        progress(pending)


def as_json(value: dict[str, Any]) -> str:
    """A JSON column value for bulk loading (the drivers take JSON as text)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def yyyymmdd(value: str, source: str, line: int, what: str) -> int:
    """A ``YYYYMMDD`` date as an integer, or CodeImportError naming the bad value."""
    if len(value) == 8 and value.isdigit():
        try:
            date(int(value[:4]), int(value[4:6]), int(value[6:]))
            return int(value)
        except ValueError:
            pass
    raise CodeImportError(source, f"{what} {value!r} is not a date (YYYYMMDD)", line)


def int_to_date(value: int | None) -> date | None:
    """The date of a stored ``YYYYMMDD`` integer."""
    if value is None:
        return None
    return date(value // 10000, value // 100 % 100, value % 100)


def date_to_int(value: date) -> int:
    return value.year * 10000 + value.month * 100 + value.day
