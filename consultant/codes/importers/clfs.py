"""The Clinical Laboratory Fee Schedule: the national payment limit of each lab code (and
modifier) for a quarter (``CLFS2026Q4.csv``; CMS also names it ``26CLABQ4.csv``).

The descriptors in the file are the AMA's (CPT) and are not stored.
"""

from __future__ import annotations

import re
from datetime import date
from typing import ClassVar

from consultant.codes.importers.table_file import TableFileImporter, number
from consultant.codes.importing import yyyymmdd
from consultant.codes.sources import CodeImportError

NAMES = (
    re.compile(r"(?i)clfs[ _-]?(\d{4})[ _-]?q([1-4])"),
    re.compile(r"(?i)(?<!\d)(\d{2})clabq([1-4])"),
)
CODE = re.compile(r"^[0-9A-Z]{5}$")


class ClfsImporter(TableFileImporter):
    kind = "clfs"
    what = "a Clinical Laboratory Fee Schedule file"
    member = re.compile(r"(?i)(clfs|clab).*\.csv$")
    marker = "EFF_DATE"
    example = "CLFS2026Q4.csv"
    table = "clfs_rate"
    table_columns = ("code", "modifier", "effective", "indicator", "rate")
    key_width = 2
    columns: ClassVar[dict[str, tuple[str, ...]]] = {
        "code": ("HCPCS",),
        "modifier": ("MOD",),
        "effective": ("EFF_DATE",),
        "indicator": ("INDICATOR",),
        "rate": ("RATE",),
    }
    optional = frozenset({"indicator"})

    def release_of(self, name: str) -> tuple[str, date] | None:
        for pattern in NAMES:
            if match := pattern.search(name):
                year = int(match.group(1)) + (2000 if len(match.group(1)) == 2 else 0)
                quarter = int(match.group(2))
                return f"{year} Q{quarter}", date(year, 3 * quarter - 2, 1)
        return None

    def row(self, values: dict[str, str], source: str, line: int) -> tuple[object, ...] | None:
        code = values["code"].upper()
        if not CODE.match(code):
            raise CodeImportError(source, f"{code!r} is not a 5-character code", line)
        effective = values["effective"]
        return (
            code,
            values["modifier"].upper(),
            yyyymmdd(effective, source, line, "effective date") if effective else None,
            values.get("indicator") or None,
            number(values["rate"], "rate", source, line),
        )
