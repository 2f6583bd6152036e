"""One CSV table under title rows, loaded into one table: the shape of the GPCI, locality
and lab fee schedule files.

Each of those files is a title, a notice, blank rows, one header row, then
data; columns are found by words in the header (``csvrows``), the release by
the file's name (or ``--version`` and ``--effective``). A subclass says which
file it is and turns each data row into a table row.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import ClassVar

from sqlalchemy import Connection

from consultant.codes.bulk import bulk_insert
from consultant.codes.importers.csvrows import csv_rows, data_rows, find_columns, find_header
from consultant.codes.importing import ImportOptions, Loaded, Progress, ReleaseInfo, counted
from consultant.codes.sources import CodeImportError, SourceFile, expect_content, open_source


class TableFileImporter:
    kind: ClassVar[str]
    what: ClassVar[str]  # "a GPCI file": for errors
    member: ClassVar[re.Pattern[str]]  # the file inside a zip
    marker: ClassVar[str]  # words only the header row has
    example: ClassVar[str]  # a file name that says its release, for the error
    table: ClassVar[str]
    table_columns: ClassVar[tuple[str, ...]]  # after release_id
    columns: ClassVar[dict[str, tuple[str, ...]]]
    optional: ClassVar[frozenset[str]] = frozenset()
    key_width: ClassVar[int]  # the first table columns that no two rows may share

    def open(self, paths: list[Path]) -> list[SourceFile]:
        if len(paths) != 1:
            raise CodeImportError(", ".join(map(str, paths)), f"import one {self.kind} file")
        return [open_source(paths[0], self.member)]

    def release_of(self, name: str) -> tuple[str, date] | None:
        """Version and first day, from the file's name; None when it does not say."""
        raise NotImplementedError

    def identify(self, sources: list[SourceFile], options: ImportOptions) -> ReleaseInfo:
        expect_content(sources[0], self.marker, self.what)
        named = self.release_of(sources[0].name)
        version = options.version or (named[0] if named else None)
        effective = options.effective or (named[1] if named else None)
        if not (version and effective):
            raise CodeImportError(
                sources[0].name,
                f"the file name does not say the release (expected e.g. {self.example}); "
                "pass --version and --effective",
            )
        return ReleaseInfo(self.kind, version, effective)

    def row(self, values: dict[str, str], source: str, line: int) -> tuple[object, ...] | None:
        """The table row (without release_id) of one data row; None to skip it."""
        raise NotImplementedError

    def load(
        self, conn: Connection, release_id: int, sources: list[SourceFile], progress: Progress
    ) -> Loaded:
        source = sources[0]
        rows = csv_rows(source)
        line, header = find_header(rows, self.marker, source.name)
        columns = find_columns(header, self.columns, source.name, line, self.optional)
        count = 0
        keys: dict[tuple[object, ...], int] = {}

        def values() -> Iterator[tuple[object, ...]]:
            nonlocal count
            for number, cells in data_rows(rows, columns, source.name):
                made = self.row(cells, source.name, number)
                if made is None:
                    continue
                key = made[: self.key_width]
                if key in keys:
                    raise CodeImportError(
                        source.name,
                        f"{' '.join(map(str, key))} is listed twice (first on line {keys[key]})",
                        number,
                    )
                keys[key] = number
                count += 1
                yield (release_id, *made)

        bulk_insert(
            conn, self.table, ("release_id", *self.table_columns), counted(values(), progress)
        )
        if not count:
            raise CodeImportError(source.name, f"no data rows under the header on line {line}")
        return Loaded(rows=count)


def number(value: str, what: str, source: str, line: int) -> str:
    """``value`` checked as a decimal number, passed on as text (both drivers take it so)."""
    text = value.replace(",", "").replace("$", "").strip()
    if not re.fullmatch(r"-?\d+(\.\d+)?|-?\.\d+", text):
        raise CodeImportError(source, f"{what} {value!r} is not a number", line)
    return text
