"""Add-on code edits: which primary codes each add-on code may be billed with.

CMS publishes them quarterly as tab-separated text and as Excel, with a
copyright row above the header, dates as Julian ``YYYYDDD``, and ``CCCCC`` as
the primary of a type 2 edit (the contractor decides the primaries).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from sqlalchemy import Connection

from consultant.codes.bulk import bulk_insert
from consultant.codes.importers.csvrows import csv_rows, data_rows, find_columns, find_header
from consultant.codes.importing import ImportOptions, Loaded, Progress, ReleaseInfo, counted
from consultant.codes.sources import CodeImportError, SourceFile, expect_content, open_source

KIND = "aoc"
MEMBER = re.compile(r"(?i)^aoc.*\.(txt|xlsx)$")
VERSION = re.compile(r"(?i)(\d{4})[ _-]?Q([1-4])")
COLUMNS = {
    "addon": ("ADD-ON CODE",),
    "primary": ("PRIMARY CODE",),
    "edit_type": ("EDIT TYPE",),
    "addon_deletion": ("AOC", "DELETION"),
    "primary_deletion": ("PRIMARY", "DELETION"),
    "effective": ("EFFECTIVE",),
    "deletion": ("EDIT", "DELETION"),
    "notes": ("NOTE",),
}
ANY_PRIMARY = "CCCCC"
CODE = re.compile(r"^[0-9A-Z]{5}$")


def julian(value: str, source: str, line: int, what: str) -> int | None:
    """A Julian ``YYYYDDD`` date as a ``YYYYMMDD`` integer; None when empty."""
    if not value:
        return None
    if len(value) == 7 and value.isdigit() and 1 <= int(value[4:]) <= 366:
        day = date(int(value[:4]), 1, 1) + timedelta(days=int(value[4:]) - 1)
        if day.year == int(value[:4]):
            return day.year * 10000 + day.month * 100 + day.day
    raise CodeImportError(source, f"{what} {value!r} is not a Julian date (YYYYDDD)", line)


def _xlsx_rows(source: SourceFile) -> Iterator[tuple[int, list[str]]]:
    try:
        book = load_workbook(io.BytesIO(source.read_bytes()), read_only=True, data_only=True)
    except (InvalidFileException, KeyError, OSError, ValueError) as error:
        raise CodeImportError(source.name, f"not a readable Excel file: {error}") from None
    try:
        sheet = book.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, ["" if v is None else str(v).strip() for v in row]
    finally:
        book.close()


class AddOnImporter:
    kind = KIND

    def open(self, paths: list[Path]) -> list[SourceFile]:
        if len(paths) != 1:
            raise CodeImportError(", ".join(map(str, paths)), "import one add-on file at a time")
        return [open_source(paths[0], MEMBER)]

    def identify(self, sources: list[SourceFile], options: ImportOptions) -> ReleaseInfo:
        if not sources[0].name.lower().endswith(".xlsx"):  # Excel is checked when read
            expect_content(sources[0], "Add-On Code", "an add-on code edit file")
        name = sources[0].name
        match = VERSION.search(name)
        version = options.version or (f"{match.group(1)}Q{match.group(2)}" if match else "")
        effective = options.effective or (
            date(int(match.group(1)), 3 * int(match.group(2)) - 2, 1) if match else None
        )
        if not (version and effective):
            raise CodeImportError(
                name,
                "the file name does not say the quarter (expected e.g. AOC_V2026Q4-MCR.txt); "
                "pass --version and --effective",
            )
        return ReleaseInfo(KIND, version, effective)

    def load(
        self, conn: Connection, release_id: int, sources: list[SourceFile], progress: Progress
    ) -> Loaded:
        source = sources[0]
        excel = source.name.lower().endswith(".xlsx")
        rows = _xlsx_rows(source) if excel else csv_rows(source, delimiter="\t")
        line, header = find_header(rows, "ADD-ON CODE", source.name)
        columns = find_columns(header, COLUMNS, source.name, line, optional=frozenset({"notes"}))
        count = 0

        def values() -> Iterator[tuple[object, ...]]:
            nonlocal count
            for number, row in data_rows(rows, columns, source.name):
                addon, primary = row["addon"].upper(), row["primary"].upper()
                for code in (addon, primary):
                    if not CODE.match(code):
                        raise CodeImportError(
                            source.name, f"{code!r} is not a 5-character code", number
                        )
                if row["edit_type"] not in ("1", "2", "3"):
                    raise CodeImportError(
                        source.name, f"edit type {row['edit_type']!r} is not 1, 2 or 3", number
                    )
                count += 1
                yield (
                    release_id,
                    addon,
                    None if primary == ANY_PRIMARY else primary,
                    int(row["edit_type"]),
                    julian(row["addon_deletion"], source.name, number, "add-on deletion date"),
                    julian(row["primary_deletion"], source.name, number, "primary deletion date"),
                    julian(row["effective"], source.name, number, "effective date"),
                    julian(row["deletion"], source.name, number, "deletion date"),
                    row.get("notes") or None,
                )

        bulk_insert(
            conn,
            "aoc_edit",
            (
                "release_id",
                "addon",
                "primary_code",
                "edit_type",
                "addon_deletion",
                "primary_deletion",
                "effective",
                "deletion",
                "notes",
            ),
            counted(values(), progress),
        )
        return Loaded(rows=count)
