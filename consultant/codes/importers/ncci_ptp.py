"""NCCI procedure-to-procedure edits, practitioner and hospital, as CMS publishes them.

A quarter comes in parts (``ccipra-v323r0-f1.TXT`` ... ``-f4``), each with a
6-line preamble (copyright, title, a column header split over four lines)
and then tab-separated rows: column 1, column 2, ``*`` if in existence before
1996, effective date, deletion date (``*`` for none), modifier indicator
(0 not allowed, 1 allowed, 9 not applicable), rationale. All parts of a
quarter are one release; deleted edits and a pair's several date windows are
kept, because a date of service in the past needs them.

This is the largest file CMS publishes for coders (millions of rows a
quarter), so the lines are validated and loaded in one streaming pass, dates
are kept as ``YYYYMMDD`` integers and rationales as small numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from itertools import islice
from pathlib import Path

from sqlalchemy import Connection, Index

from consultant.codes.bulk import bulk_insert
from consultant.codes.importing import (
    ImportOptions,
    Loaded,
    Progress,
    ReleaseInfo,
    counted,
    yyyymmdd,
)
from consultant.codes.sources import CodeImportError, SourceFile, expect_content, open_source
from consultant.codes.tables import ptp_table

KIND = "ncci-ptp"
MEMBER = re.compile(r"(?i)^cci.*\.txt$")
NAME = re.compile(r"(?i)^cci(pra|oph)-v(\d\d)(\d)r(\d+)-f(\d+)\.txt$")
SETTINGS = {"pra": "practitioner", "oph": "hospital"}
QUARTER_MONTH = {0: 1, 1: 4, 2: 7, 3: 10}
PREAMBLE_LINES = 6
HEADER_LINE = 3
HEADER_START = "Column 1\tColumn 2"
COLUMNS = (
    "column1",
    "column2",
    "pre1996",
    "effective",
    "deletion",
    "modifier_indicator",
    "rationale",
)
INDICATORS = {"0": 0, "1": 1, "9": 9}
CODE = re.compile(r"^[0-9A-Z]{5}$")


def quarter_start(major: int, minor: int) -> date:
    """NCCI version 32.3 is the fourth quarter of 2026: 32 = 2026 - 1994, .0-.3 = quarters."""
    return date(1994 + major, QUARTER_MONTH[minor], 1)


class NcciPtpImporter:
    kind = KIND

    def open(self, paths: list[Path]) -> list[SourceFile]:
        return [open_source(path, MEMBER) for path in paths]

    def identify(self, sources: list[SourceFile], options: ImportOptions) -> ReleaseInfo:
        for source in sources:
            expect_content(source, "Column 1  Column 2", "an NCCI PTP edit file")
        names = [NAME.match(s.name) for s in sources]
        found = {(m.group(1).lower(), m.group(2), m.group(3), m.group(4)) for m in names if m}
        if len(found) > 1:
            raise CodeImportError(
                ", ".join(s.name for s in sources),
                "these files are parts of different releases; import each quarter on its own",
            )
        parts = [m.group(5) for m in names if m]
        if len(parts) != len(set(parts)):
            raise CodeImportError(", ".join(s.name for s in sources), "a part is given twice")
        if found:
            (setting_code, major, minor, revision) = found.pop()
            setting = SETTINGS[setting_code]
            version = f"v{major}{minor}r{revision}"
            if int(minor) not in QUARTER_MONTH:
                raise CodeImportError(sources[0].name, f"version {version} names no quarter")
            effective = quarter_start(int(major), int(minor))
        else:
            setting, version, effective = "", "", None
        setting = options.setting or setting
        version = options.version or version
        effective = options.effective or effective
        if not (setting and version and effective):
            raise CodeImportError(
                sources[0].name,
                "the file name does not say the setting, version and effective date "
                "(expected e.g. ccipra-v323r0-f1.TXT); pass --setting, --version and --effective",
            )
        return ReleaseInfo(KIND, version, effective, setting)

    def load(
        self, conn: Connection, release_id: int, sources: list[SourceFile], progress: Progress
    ) -> Loaded:
        table = ptp_table(release_id)
        # The release id is new, so a table of that name can only be a leftover of a
        # release removed by hand: it belongs to nothing and is replaced.
        table.drop(conn, checkfirst=True)
        table.create(conn)
        rationales: dict[str, int] = {}
        rows = counted(self._rows(sources, rationales), progress)
        bulk_insert(conn, table.name, COLUMNS, rows)
        Index(f"ix_{table.name}_pair", table.c.column1, table.c.column2).create(conn)
        # A code page lists the edits where a code is column 2, too.
        Index(f"ix_{table.name}_column2", table.c.column2).create(conn)
        if conn.dialect.name == "postgresql":
            # Statistics now, not when autovacuum comes by: without them PostgreSQL
            # walks the whole pair index for a column 2 list, to save sorting a hundred rows.
            conn.exec_driver_sql(f'ANALYZE "{table.name}"')
        count = conn.exec_driver_sql(f'SELECT count(*) FROM "{table.name}"').scalar_one()
        return Loaded(
            rows=count,
            details={
                "table": table.name,
                "parts": [s.name for s in sources],
                "rationales": list(rationales),
            },
        )

    def _rows(
        self, sources: list[SourceFile], rationales: dict[str, int]
    ) -> Iterator[tuple[object, ...]]:
        dates: dict[str, int] = {}  # a quarter uses a few hundred distinct dates

        def day(value: str, name: str, line: int, what: str) -> int:
            known = dates.get(value)
            if known is None:
                known = dates[value] = yyyymmdd(value, name, line, what)
            return known

        for source in sources:
            name = source.name
            lines = source.lines()
            preamble = list(islice(lines, PREAMBLE_LINES))
            if len(preamble) < PREAMBLE_LINES:
                raise CodeImportError(name, "the file ends inside its 6-line preamble")
            if not preamble[HEADER_LINE - 1][1].startswith(HEADER_START):
                raise CodeImportError(
                    name,
                    "not an NCCI PTP edit file: line 3 should be the column header "
                    f"starting {HEADER_START!r}",
                    HEADER_LINE,
                )
            for number, line in lines:
                if not line:
                    continue
                fields = line.split("\t")
                if len(fields) != len(COLUMNS):
                    raise CodeImportError(
                        name,
                        f"expected {len(COLUMNS)} tab-separated columns, found {len(fields)}",
                        number,
                    )
                column1, column2, pre, effective, deletion, indicator, rationale = fields
                if not (CODE.match(column1) and CODE.match(column2)):
                    raise CodeImportError(
                        name, f"{column1!r} / {column2!r} are not 5-character codes", number
                    )
                if pre not in ("", "*"):
                    raise CodeImportError(
                        name, f"prior-1996 flag {pre!r} is not * or empty", number
                    )
                value = INDICATORS.get(indicator)
                if value is None:
                    raise CodeImportError(
                        name, f"modifier indicator {indicator!r} is not 0, 1 or 9", number
                    )
                reason = rationales.get(rationale)
                if reason is None:
                    reason = rationales[rationale] = len(rationales)
                yield (
                    column1,
                    column2,
                    pre == "*",
                    day(effective, name, number, "effective date"),
                    None if deletion == "*" else day(deletion, name, number, "deletion date"),
                    value,
                    reason,
                )
