"""The PFS locality-county file: which counties make up each Medicare locality
(``27LOCCO.csv``), so that a state and county find the locality's GPCIs."""

from __future__ import annotations

import re
from datetime import date
from typing import ClassVar

from consultant.codes.importers.table_file import TableFileImporter
from consultant.codes.sources import CodeImportError
from consultant.codes.states import state_code

NAME = re.compile(r"(?i)(?<!\d)(\d{2})locco")


class LocalityImporter(TableFileImporter):
    kind = "locality"
    what = "a PFS locality-county file"
    member = re.compile(r"(?i)locco.*\.csv$")
    marker = "FEE SCHEDULE AREA"
    example = "27LOCCO.csv"
    table = "pfs_locality"
    table_columns = ("mac", "locality", "state", "area", "counties")
    key_width = 2
    columns: ClassVar[dict[str, tuple[str, ...]]] = {
        "mac": ("CONTRACTOR",),
        "locality": ("LOCALITY",),
        "state": ("STATE",),
        "area": ("FEE SCHEDULE AREA",),
        "counties": ("COUNT",),
    }

    def __init__(self) -> None:
        self._last: dict[str, str] = {}

    def release_of(self, name: str) -> tuple[str, date] | None:
        match = NAME.search(name)
        if not match:
            return None
        year = 2000 + int(match.group(1))
        return str(year), date(year, 1, 1)

    def row(self, values: dict[str, str], source: str, line: int) -> tuple[object, ...] | None:
        # The file leaves the contractor and state empty under the first row of a group.
        for field in ("mac", "state"):
            values[field] = values[field] or self._last.get(field, "")
        self._last = values
        state = state_code(values["state"])
        if state is None:
            raise CodeImportError(source, f"{values['state']!r} is not a state", line)
        if not values["locality"].isdigit():
            raise CodeImportError(
                source, f"locality {values['locality']!r} is not a locality number", line
            )
        return (
            values["mac"],
            values["locality"].zfill(2),
            state,
            values["area"],
            " ".join(values["counties"].split()),
        )
