"""The physician fee schedule relative value file (PPRRVU): indicators and RVUs per code.

Title and copyright rows, blank rows, then a header split over two rows
(``GLOB`` above ``DAYS``), then data. The descriptors in the file are the
AMA's and are not stored; only the indicators, the RVUs (work, practice
expense in and out of a facility, malpractice) and the conversion factor.
A release whose RVU columns are all empty says so (``details["rvus"]``), so
no amount is ever computed from it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import Connection

from consultant.codes.bulk import bulk_insert
from consultant.codes.importers.csvrows import csv_rows, data_rows, find_columns, normalise
from consultant.codes.importing import MONTHS, ImportOptions, Loaded, Progress, ReleaseInfo, counted
from consultant.codes.sources import CodeImportError, SourceFile, expect_content, open_source

KIND = "pfs"
MEMBER = re.compile(r"(?i)^pprrvu.*\.csv$")
NAME = re.compile(r"(?i)pprrvu(\d{2}|\d{4})_?([a-z]{3})")
COLUMNS = {
    "code": ("HCPCS",),
    "modifier": ("MOD",),
    "status": ("STATUS",),
    "work_rvu": ("WORK", "RVU"),
    "nonfacility_pe_rvu": ("NON-FAC", "PE"),
    "facility_pe_rvu": ("FACILITY", "PE"),
    "mp_rvu": ("MP", "RVU"),
    "pctc": ("PCTC",),
    "global_days": ("GLOB",),
    "pre_op": ("PRE", "OP"),
    "intra_op": ("INTRA",),
    "post_op": ("POST",),
    "multiple_procedure": ("MULT",),
    "bilateral": ("BILAT",),
    "assistant": ("ASST",),
    "co_surgeon": ("CO-",),
    "team_surgery": ("TEAM",),
    "conversion_factor": ("CONV",),
}
RVUS = ("nonfacility_pe_rvu", "facility_pe_rvu", "mp_rvu")
INDICATORS = ("multiple_procedure", "bilateral", "assistant", "co_surgeon", "team_surgery")
CODE = re.compile(r"^[0-9A-Z]{5}$")


def _find_split_header(rows: Iterator[tuple[int, list[str]]], source: str) -> tuple[int, list[str]]:
    """The header: the row starting ``HCPCS, MOD`` joined cell by cell with the row above."""
    previous: list[str] = []
    for line, row in rows:
        cells = [normalise(c) for c in row]
        if len(cells) > 1 and cells[0] == "HCPCS" and cells[1] == "MOD":
            above = previous + [""] * (len(row) - len(previous))
            return line, [
                f"{top} {bottom}".strip() for top, bottom in zip(above, row, strict=False)
            ]
        previous = row
        if line > 40:
            break
    raise CodeImportError(
        source, "no header row starting HCPCS, MOD near the top: not a PPRRVU file?"
    )


def _na_columns(header: list[str], columns: dict[str, int]) -> dict[str, int]:
    """The NA indicator column just right of each practice expense column, where there is one:
    ``NA`` there means the code is not priced in that setting."""
    found = {}
    for rvu, na in (("nonfacility_pe_rvu", "nonfacility_na"), ("facility_pe_rvu", "facility_na")):
        after = columns.get(rvu, -2) + 1
        if 0 < after < len(header) and normalise(header[after]).startswith("NA"):
            found[na] = after
    return found


class PfsImporter:
    kind = KIND

    def open(self, paths: list[Path]) -> list[SourceFile]:
        if len(paths) != 1:
            raise CodeImportError(", ".join(map(str, paths)), "import one PPRRVU file at a time")
        return [open_source(paths[0], MEMBER)]

    def identify(self, sources: list[SourceFile], options: ImportOptions) -> ReleaseInfo:
        expect_content(sources[0], "HCPCS,MOD", "a PFS relative value (PPRRVU) file")
        name = sources[0].name
        match = NAME.search(name)
        effective = options.effective
        version = options.version
        if match and match.group(2).lower() in MONTHS:
            year = int(match.group(1)) + (2000 if len(match.group(1)) == 2 else 0)
            month = MONTHS[match.group(2).lower()]
            effective = effective or date(year, month, 1)
            qualifier = "-nonQPP" if "nonqpp" in name.lower() else ""
            version = version or f"{year}-{match.group(2).capitalize()}{qualifier}"
        if not (version and effective):
            raise CodeImportError(
                name,
                "the file name does not say the release (expected e.g. PPRRVU26_OCT.csv); "
                "pass --version and --effective",
            )
        return ReleaseInfo(KIND, version, effective)

    def load(
        self, conn: Connection, release_id: int, sources: list[SourceFile], progress: Progress
    ) -> Loaded:
        source = sources[0]
        rows = csv_rows(source)
        line, header = _find_split_header(rows, source.name)
        columns = find_columns(header, COLUMNS, source.name, line, optional=frozenset(RVUS))
        columns |= _na_columns(header, columns)
        count = 0
        priced = False

        def number(value: str, field: str, line: int) -> str | None:
            """The value checked as a number, passed on as text (both drivers take it so)."""
            if not value:
                return None
            try:
                Decimal(value)
                return value
            except InvalidOperation:
                raise CodeImportError(
                    source.name, f"{field} {value!r} is not a number", line
                ) from None

        def values() -> Iterator[tuple[object, ...]]:
            nonlocal count, priced
            seen: set[tuple[str, str]] = set()
            for number_line, row in data_rows(rows, columns, source.name):
                code, modifier = row["code"].upper(), row["modifier"].upper()
                if not CODE.match(code):
                    raise CodeImportError(
                        source.name, f"{code!r} is not a 5-character code", number_line
                    )
                if (code, modifier) in seen:
                    raise CodeImportError(
                        source.name, f"{code} {modifier} is listed twice", number_line
                    )
                seen.add((code, modifier))
                for field in INDICATORS:
                    if row[field] and not (len(row[field]) == 1 and row[field].isdigit()):
                        raise CodeImportError(
                            source.name,
                            f"{field} indicator {row[field]!r} is not a digit",
                            number_line,
                        )
                count += 1
                rvus = [number(row.get(f, ""), f, number_line) for f in RVUS]
                priced = priced or any(v is not None for v in rvus)
                yield (
                    release_id,
                    code,
                    modifier,
                    row["status"] or None,
                    number(row["work_rvu"], "work_rvu", number_line),
                    rvus[0],
                    row.get("nonfacility_na", "").upper() == "NA",
                    rvus[1],
                    row.get("facility_na", "").upper() == "NA",
                    rvus[2],
                    row["pctc"] or None,
                    row["global_days"] or None,
                    *(number(row[f], f, number_line) for f in ("pre_op", "intra_op", "post_op")),
                    *(row[f] or None for f in INDICATORS),
                    number(row["conversion_factor"], "conversion_factor", number_line),
                )

        bulk_insert(
            conn,
            "pfs_indicator",
            (
                "release_id",
                "code",
                "modifier",
                "status",
                "work_rvu",
                "nonfacility_pe_rvu",
                "nonfacility_na",
                "facility_pe_rvu",
                "facility_na",
                "mp_rvu",
                "pctc",
                "global_days",
                "pre_op",
                "intra_op",
                "post_op",
                *INDICATORS,
                "conversion_factor",
            ),
            counted(values(), progress),
        )
        return Loaded(rows=count, details={"rvus": priced})
