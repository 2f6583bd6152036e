"""NCCI PTP pair lookups: the hot path of drafting, answered in microseconds.

A question names a handful of codes and every pair of them is checked in
both directions, so this bypasses the ORM: one prepared statement on a
driver connection kept per thread, against the per-release edit table.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from consultant.codes.importing import date_to_int, int_to_date
from consultant.codes.tables import ptp_table_name
from consultant.db import Database

MODIFIER_INDICATOR = {
    0: "no modifier lets both codes be paid: only the column 1 code is payable",
    1: (
        "a modifier may bypass the edit when the services were distinct "
        "(for example 59, XE, XS, XP, XU or an anatomic modifier), if the record supports it"
    ),
    9: "not applicable: the edit was deleted on the day it took effect",
}

SQLITE_MMAP_BYTES = 1 << 30
_COLUMNS = "column1, column2, pre1996, effective, deletion, modifier_indicator, rationale"


@dataclass
class PtpEdit:
    column1: str
    column2: str
    modifier_indicator: int
    modifier_meaning: str
    effective: str
    deletion: str | None
    rationale: str
    pre1996: bool
    release: dict[str, Any]


@dataclass
class PtpResult:
    """Every edit between two codes in force on a date, whichever code is column 1."""

    codes: tuple[str, str]
    setting: str
    on: str
    release: dict[str, Any] | None
    edits: list[PtpEdit] = field(default_factory=list)
    other_windows: list[PtpEdit] = field(default_factory=list)
    message: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def applies(effective: int, deletion: int | None, on: int) -> bool:
    """In force on ``on``: from the effective date through the deletion date.

    An edit deleted on the day it took effect (indicator 9) never applied.
    """
    if deletion is not None and deletion == effective:
        return False
    return effective <= on and (deletion is None or on <= deletion)


class PtpReader:
    """Reads pairs from a release's edit table over one driver connection per thread."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._local = threading.local()

    def _connection(self) -> Any:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self.db.engine.raw_connection()
            if self.db.engine.dialect.name == "postgresql":
                connection.driver_connection.autocommit = True
            else:
                # Read the edit tables through memory-mapped pages: no read() call per
                # lookup once the file is in the page cache.
                connection.cursor().execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
            self._local.connection = connection
        return connection

    def rows(self, release_id: int, a: str, b: str) -> list[tuple[Any, ...]]:
        table = ptp_table_name(release_id)
        mark = "%s" if self.db.engine.dialect.name == "postgresql" else "?"
        sql = (
            f'SELECT {_COLUMNS} FROM "{table}" WHERE column1 = {mark} AND column2 = {mark} '
            f'UNION ALL SELECT {_COLUMNS} FROM "{table}" '
            f"WHERE column1 = {mark} AND column2 = {mark}"
        )
        cursor = self._connection().cursor()
        try:
            cursor.execute(sql, (a, b, b, a))
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None


def to_result(
    a: str,
    b: str,
    setting: str,
    on: date,
    release: dict[str, Any],
    rationales: list[str],
    rows: list[tuple[Any, ...]],
) -> PtpResult:
    result = PtpResult((a, b), setting, on.isoformat(), release)
    day = date_to_int(on)
    for column1, column2, pre1996, effective, deletion, indicator, rationale in rows:
        edit = PtpEdit(
            column1=column1,
            column2=column2,
            modifier_indicator=indicator,
            modifier_meaning=MODIFIER_INDICATOR[indicator],
            effective=int_to_date(effective).isoformat(),  # type: ignore[union-attr]
            deletion=int_to_date(deletion).isoformat() if deletion else None,
            rationale=rationales[rationale],
            pre1996=bool(pre1996),
            release=release,
        )
        (result.edits if applies(effective, deletion, day) else result.other_windows).append(edit)
    return result
