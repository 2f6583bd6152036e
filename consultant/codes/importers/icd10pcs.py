"""ICD-10-PCS: the CMS order file (``icd10pcs_order_2023.txt``, or the zip it comes in).

Headers are the 3-character tables (``001``: Central Nervous System, Bypass);
valid codes have all 7 characters, and each one's parent is its table, so a
lookup of a table can name the codes built on it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from sqlalchemy import Connection

from consultant.codes.bulk import bulk_insert
from consultant.codes.importers.order_file import MEMBER, read_order_file
from consultant.codes.importing import (
    CODE_ENTRY_COLUMNS,
    ImportOptions,
    Loaded,
    Progress,
    ReleaseInfo,
    code_entry_row,
    counted,
)
from consultant.codes.sources import CodeImportError, SourceFile, open_source

KIND = "icd10pcs"
_YEAR = re.compile(r"(?<!\d)(20\d\d)(?!\d)")
_TABLE = re.compile(r"^[0-9A-HJ-NP-Z]{3}$")
_CODE = re.compile(r"^[0-9A-HJ-NP-Z]{7}$")


def version_from_name(name: str) -> tuple[str, date] | None:
    """``icd10pcs_order_2023.txt`` → FY2023, in effect from 1 October 2022."""
    found = _YEAR.search(name)
    if found is None:
        return None
    year = int(found[1])
    return f"FY{year}", date(year - 1, 10, 1)


class Icd10PcsImporter:
    kind = KIND

    def open(self, paths: list[Path]) -> list[SourceFile]:
        if len(paths) != 1:
            raise CodeImportError(
                ", ".join(p.name for p in paths) or KIND, "give one ICD-10-PCS order file"
            )
        return [open_source(paths[0], MEMBER)]

    def identify(self, sources: list[SourceFile], options: ImportOptions) -> ReleaseInfo:
        source = sources[0]
        named = version_from_name(source.name)
        effective = options.effective or (named[1] if named else None)
        if effective is None:
            raise CodeImportError(
                source.name,
                "the file name does not say the fiscal year: give --effective YYYY-MM-DD",
            )
        version = options.version or (named[0] if named else effective.isoformat()[:7])
        return ReleaseInfo(KIND, version, effective)

    def load(
        self, conn: Connection, release_id: int, sources: list[SourceFile], progress: Progress
    ) -> Loaded:
        source = sources[0]
        counts = {"codes": 0, "valid": 0}

        def rows() -> Iterator[tuple[object, ...]]:
            for line in read_order_file(source):
                shape = _CODE if line.billable else _TABLE
                if not shape.match(line.code):
                    what = "a valid code has 7" if line.billable else "a header has 3"
                    raise CodeImportError(
                        source.name,
                        f"{line.code!r} is not an ICD-10-PCS "
                        f"{'code' if line.billable else 'table'} ({what} characters)",
                        line.line,
                    )
                counts["codes"] += 1
                counts["valid"] += line.billable
                parent = line.code[:3] if line.billable else None
                yield code_entry_row(
                    release_id,
                    line.code,
                    line.billable,
                    line.long,
                    parent=parent,
                    short_description=line.short,
                )

        bulk_insert(conn, "code_entry", CODE_ENTRY_COLUMNS, counted(rows(), progress))
        return Loaded(counts["codes"], counts)
