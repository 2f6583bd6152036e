"""The PFS geographic practice cost indices: work, practice expense and malpractice GPCIs
of each Medicare locality, for a calendar year (``GPCI2027.csv``)."""

from __future__ import annotations

import re
from datetime import date
from typing import ClassVar

from consultant.codes.importers.table_file import TableFileImporter, number
from consultant.codes.sources import CodeImportError
from consultant.codes.states import state_code

NAME = re.compile(r"(?i)gpci[ _-]?(\d{4})")


class GpciImporter(TableFileImporter):
    kind = "gpci"
    what = "a PFS GPCI file"
    member = re.compile(r"(?i)gpci.*\.csv$")
    marker = "LOCALITY NAME"
    example = "GPCI2027.csv"
    table = "gpci_value"
    table_columns = ("mac", "locality", "state", "name", "work", "pe", "mp")
    key_width = 2
    # The work GPCI with the 1.0 floor (what is paid) where the file gives it beside the
    # GPCI without it.
    columns: ClassVar[dict[str, tuple[str, ...]]] = {
        "mac": ("CONTRACTOR",),
        "state": ("STATE",),
        "locality": ("LOCALITY", "NUMBER"),
        "name": ("LOCALITY", "NAME"),
        "work_floor": ("PW", "WITH 1.0"),
        "work": ("PW", "GPCI"),
        "pe": ("PE", "GPCI"),
        "mp": ("MP", "GPCI"),
    }
    optional = frozenset({"work_floor", "work"})

    def release_of(self, name: str) -> tuple[str, date] | None:
        match = NAME.search(name)
        return (match.group(1), date(int(match.group(1)), 1, 1)) if match else None

    def row(self, values: dict[str, str], source: str, line: int) -> tuple[object, ...] | None:
        state = state_code(values["state"])
        if state is None:
            raise CodeImportError(source, f"{values['state']!r} is not a state", line)
        work = values.get("work_floor") or values.get("work")
        if work is None:
            raise CodeImportError(source, "no column for the work GPCI (a 'PW GPCI' header)")
        return (
            values["mac"],
            values["locality"].zfill(2),
            state,
            values["name"],
            number(work, "work GPCI", source, line),
            number(values["pe"], "PE GPCI", source, line),
            number(values["mp"], "MP GPCI", source, line),
        )
