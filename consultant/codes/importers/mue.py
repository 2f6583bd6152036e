"""Medically Unlikely Edits: practitioner, outpatient hospital and DME supplier files.

CMS publishes each as a CSV (also inside a zip) with a copyright row above a
header whose first cell holds a line break, and the adjudication indicator
written as a digit and its words (``2 Date of Service Edit: Policy``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from sqlalchemy import Connection

from consultant.codes.bulk import bulk_insert
from consultant.codes.importers.csvrows import csv_rows, data_rows, find_columns, find_header
from consultant.codes.importing import ImportOptions, Loaded, Progress, ReleaseInfo, counted
from consultant.codes.sources import CodeImportError, SourceFile, expect_content, open_source

KIND = "mue"
MEMBER = re.compile(r"(?i)mue.*\.csv$")
SETTING_WORDS = (
    ("practitioner", "practitioner"),
    ("hospital", "hospital"),
    ("facility", "hospital"),
    ("dme", "dme"),
)
EFFECTIVE = re.compile(r"(?i)eff[_ -]?(\d{1,2})[-_](\d{1,2})[-_](\d{4})")
COLUMNS = {
    "code": ("CODE",),
    "value": ("MUE VALUE",),
    "indicator": ("ADJUDICATION INDICATOR",),
    "rationale": ("RATIONALE",),
}
INDICATOR = re.compile(r"^\s*([123])\b")
CODE = re.compile(r"^[0-9A-Z]{5}$")


class MueImporter:
    kind = KIND

    def open(self, paths: list[Path]) -> list[SourceFile]:
        if len(paths) != 1:
            raise CodeImportError(", ".join(map(str, paths)), "import one MUE file at a time")
        return [open_source(paths[0], MEMBER)]

    def identify(self, sources: list[SourceFile], options: ImportOptions) -> ReleaseInfo:
        expect_content(sources[0], "Adjudication Indicator", "an MUE file")
        name = sources[0].name
        lowered = name.lower()
        setting = options.setting or next((s for w, s in SETTING_WORDS if w in lowered), "")
        match = EFFECTIVE.search(name)
        effective = options.effective or (
            date(int(match.group(3)), int(match.group(1)), int(match.group(2))) if match else None
        )
        if not (setting and effective):
            raise CodeImportError(
                name,
                "the file name does not say the setting and effective date (expected e.g. "
                "MCR_MUE_PractitionerServices_Eff_10-01-2026.csv); pass --setting and --effective",
            )
        version = options.version or f"Eff {effective:%m-%d-%Y}"
        return ReleaseInfo(KIND, version, effective, setting)

    def load(
        self, conn: Connection, release_id: int, sources: list[SourceFile], progress: Progress
    ) -> Loaded:
        source = sources[0]
        rows = csv_rows(source)
        line, header = find_header(rows, "ADJUDICATION INDICATOR", source.name)
        columns = find_columns(header, COLUMNS, source.name, line)
        count = 0

        def values() -> Iterator[tuple[object, ...]]:
            nonlocal count
            seen: set[str] = set()
            for number, row in data_rows(rows, columns, source.name):
                code = row["code"].upper()
                if not CODE.match(code):
                    raise CodeImportError(
                        source.name, f"{code!r} is not a 5-character code", number
                    )
                if code in seen:
                    raise CodeImportError(source.name, f"{code} is listed twice", number)
                seen.add(code)
                if not row["value"].isdigit():
                    raise CodeImportError(
                        source.name, f"MUE value {row['value']!r} is not a whole number", number
                    )
                indicator = INDICATOR.match(row["indicator"])
                if indicator is None:
                    raise CodeImportError(
                        source.name,
                        f"adjudication indicator {row['indicator']!r} is not 1, 2 or 3",
                        number,
                    )
                count += 1
                yield (
                    release_id,
                    code,
                    int(row["value"]),
                    int(indicator.group(1)),
                    row["rationale"] or None,
                )

        bulk_insert(
            conn,
            "mue_value",
            ("release_id", "code", "value", "adjudication_indicator", "rationale"),
            counted(values(), progress),
        )
        return Loaded(rows=count)
