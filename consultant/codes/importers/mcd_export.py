"""Reading a Medicare Coverage Database download: an outer zip, an inner ``*_csv.zip``, and
in it one CSV per relational table.

The tables are CSV with every cell quoted, CRLF line ends and latin-1 text;
some cells (an LCD's indications, a group's paragraph) run to hundreds of
kilobytes, past the ``csv`` module's default limit, and carry HTML. Columns
are taken by header name, never by position: CMS adds columns between
releases. The inner zip is copied to a temporary file once (a zip inside a
zip cannot be read without seeking), and each table is streamed from it.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from operator import itemgetter
from pathlib import Path, PurePosixPath
from typing import IO

import html_text

from consultant.codes.importing import ImportOptions, ReleaseInfo, int_to_date
from consultant.codes.sources import CodeImportError, SourceFile

INNER = re.compile(r"(?i)_csv\.zip$")
# Larger than any field of the national exports (the largest are a few hundred kilobytes).
MAX_FIELD = 64 * 1024 * 1024
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_MARKUP = re.compile(r"[<&]")
# What reading a damaged zip member raises: a bad header or CRC, a cut stream, bad deflate data.
DAMAGED = (zipfile.BadZipFile, EOFError, zlib.error)


def open_export(path: Path, kind: str) -> SourceFile:
    """The export's inner ``*_csv.zip`` (or ``path`` itself, when it is that inner zip)."""
    if not path.is_file():
        raise CodeImportError(str(path), "no such file")
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]
    except (zipfile.BadZipFile, OSError) as error:
        raise CodeImportError(path.name, f"damaged or not a zip file: {error}") from None
    inner = [n for n in names if INNER.search(n)]
    if len(inner) == 1:
        return SourceFile(path, inner[0])
    if any(PurePosixPath(n).name.lower() == f"{kind}.csv" for n in names):
        return SourceFile(path)
    raise CodeImportError(
        path.name,
        f"not a Medicare Coverage Database {kind} download: expected one *_csv.zip holding "
        f"{kind}.csv (it holds {', '.join(names) or 'nothing'})",
    )


def export_name(source: SourceFile) -> str:
    """``current_article`` of ``current_article_csv.zip``: which download this is."""
    return INNER.sub("", source.name) if INNER.search(source.name) else Path(source.name).stem


def identify_export(
    source: SourceFile, table: str, what: str, kind: str, options: ImportOptions
) -> ReleaseInfo:
    """The release an export is: named by the download and the day of its newest change
    (the latest ``last_updated`` of ``table``), unless ``--version``/``--effective`` say."""
    effective = options.effective
    if effective is None:
        with opened(source) as export:
            export.expect(table, what)
            where = export.where(table)
            newest = max(
                (
                    day(row.get("last_updated", ""), where, line, "last_updated") or 0
                    for line, row in export.rows(table)
                ),
                default=0,
            )
        if not newest:
            raise CodeImportError(
                source.name, f"{table}.csv gives no last_updated date; pass --effective"
            )
        effective = int_to_date(newest)
    assert effective is not None
    version = options.version or f"{export_name(source)} {effective.isoformat()}"
    return ReleaseInfo(kind, version, effective)


class Export:
    """The tables of one opened export, read by name."""

    def __init__(self, archive: zipfile.ZipFile, label: str) -> None:
        self.archive = archive
        self.label = label
        self.members = {
            PurePosixPath(n).stem.lower(): n for n in archive.namelist() if n.endswith(".csv")
        }

    def expect(self, table: str, kind: str) -> None:
        """Refuse an export of another kind (an LCD download given as articles)."""
        if table not in self.members:
            held = ", ".join(sorted(self.members)) or "no table"
            raise CodeImportError(
                self.label,
                f"not a Medicare Coverage Database {kind} download: no {table}.csv "
                f"(it holds {held})",
            )

    def where(self, table: str) -> str:
        """How errors name a table: the inner zip and the CSV in it."""
        return f"{self.label}/{self.members.get(table, table + '.csv')}"

    def _read(self, table: str, required: bool) -> Iterator[tuple[int, list[str], list[str]]]:
        """(line where the row starts, the lower-case header, the row) for each row."""
        if table not in self.members:
            if required:
                raise CodeImportError(self.label, f"the export has no {table}.csv table")
            return
        csv.field_size_limit(MAX_FIELD)
        with self.archive.open(self.members[table]) as handle:
            reader = csv.reader(io.TextIOWrapper(handle, encoding="latin-1", newline=""))
            start = 1
            try:
                header = [h.strip().lower() for h in next(reader, [])]
                start = reader.line_num + 1
                for row in reader:
                    yield start, header, row
                    start = reader.line_num + 1
            except csv.Error as error:
                raise CodeImportError(
                    self.where(table), f"unreadable row: {error}", start
                ) from None
            except DAMAGED as error:
                raise CodeImportError(
                    self.where(table), f"damaged zip file: {error}", start
                ) from None

    def rows(self, table: str, required: bool = True) -> Iterator[tuple[int, dict[str, str]]]:
        """(line, {lower-case header: value}) for each row of ``table``, streamed."""
        for line, header, row in self._read(table, required):
            if any(row):
                yield line, dict(zip(header, row, strict=False))

    def cells(
        self, table: str, names: tuple[str, ...], required: bool = True
    ) -> Iterator[tuple[int, tuple[str, ...]]]:
        """(line, the cells of ``names`` in that order) for each row: the fast path for the
        large tables (a national export has a million rows of codes)."""
        pick = None
        for line, header, row in self._read(table, required):
            if pick is None:
                missing = [n for n in names if n not in header]
                if missing:
                    raise CodeImportError(
                        self.where(table), f"no column {', '.join(missing)} in the header", 1
                    )
                pick = itemgetter(*(header.index(n) for n in names))
            try:
                yield line, pick(row)
            except IndexError:
                if any(row):
                    raise CodeImportError(
                        self.where(table), f"{len(row)} cells, fewer than the header's", line
                    ) from None

    def columns(self, table: str, *names: str) -> None:
        """Refuse a table that lacks any of ``names`` in its header, before reading rows."""
        if table not in self.members:
            return
        with self.archive.open(self.members[table]) as handle:
            first = io.TextIOWrapper(handle, encoding="latin-1", newline="").readline()
        header = {h.strip().lower() for h in next(csv.reader([first]), [])}
        missing = [n for n in names if n not in header]
        if missing:
            raise CodeImportError(
                self.where(table), f"no column {', '.join(missing)} in the header", 1
            )


@contextmanager
def opened(source: SourceFile) -> Iterator[Export]:
    """The export's tables; an inner zip is copied to a temporary file first."""
    label = source.name
    if source.member is None:
        try:
            with zipfile.ZipFile(source.path) as archive:
                yield Export(archive, label)
        except zipfile.BadZipFile as error:
            raise CodeImportError(label, f"damaged zip file: {error}") from None
        return
    with tempfile.TemporaryFile() as copy:
        with source.open_binary() as inner:
            _copy(inner, copy, label)
        copy.seek(0)
        try:
            with zipfile.ZipFile(copy) as archive:
                yield Export(archive, label)
        except zipfile.BadZipFile as error:
            raise CodeImportError(label, f"damaged zip file: {error}") from None


def _copy(source: IO[bytes], target: IO[bytes], label: str) -> None:
    try:
        shutil.copyfileobj(source, target, 1 << 20)
    except (*DAMAGED, OSError) as error:
        raise CodeImportError(label, f"damaged zip file: {error}") from None


def day(value: str, where: str, line: int, what: str) -> int | None:
    """A date cell (``2026-07-01`` or ``2026-07-01 00:00:00``) as ``YYYYMMDD``; None if empty."""
    value = value.strip()
    if not value:
        return None
    match = _DATE.match(value)
    if match:
        try:
            return int(date(*map(int, match.groups())).strftime("%Y%m%d"))
        except ValueError:
            pass
    raise CodeImportError(where, f"{what} {value!r} is not a date (YYYY-MM-DD)", line)


def whole(value: str, where: str, line: int, what: str) -> int:
    """A cell that must hold a whole number (an id, a version, a group)."""
    try:
        return int(value.strip())
    except ValueError:
        raise CodeImportError(where, f"{what} {value!r} is not a number", line) from None


def plain(html: str) -> str:
    """A paragraph of the export as plain text, a line per block and list item.

    html-text (lxml underneath) rather than the mail's inscriptis: these are
    CMS's own paragraphs, not hostile mail, and need no table layout, and a
    national LCD export holds some 60 MB of HTML, which inscriptis takes over
    a minute to read and html-text about eight seconds. Cells without markup
    are kept as they are.
    """
    if not _MARKUP.search(html):
        return html.strip()
    return html_text.extract_text(html, guess_layout=True).strip()
