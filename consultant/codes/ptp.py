"""NCCI PTP pair lookups: the hot path of drafting, answered in microseconds.

A question names a handful of codes and every pair of them is checked in
both directions, so this bypasses the ORM (see ``readonly``): one statement
on a driver connection kept per thread, against the per-release edit table.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from consultant.codes.importing import date_to_int, int_to_date
from consultant.codes.readonly import Reader
from consultant.codes.tables import ptp_table_name

MODIFIER_INDICATOR = {
    0: "no modifier lets both codes be paid: only the column 1 code is payable",
    1: (
        "a modifier may bypass the edit when the services were distinct "
        "(for example 59, XE, XS, XP, XU or an anatomic modifier), if the record supports it"
    ),
    9: "not applicable: the edit was deleted on the day it took effect",
}

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
    """Reads the pairs of a release's edit table through a read-only driver connection."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader

    def rows(self, release_id: int, a: str, b: str) -> list[tuple[Any, ...]]:
        table = ptp_table_name(release_id)
        return self.reader.rows(
            f'SELECT {_COLUMNS} FROM "{table}" WHERE column1 = ? AND column2 = ? '
            f'UNION ALL SELECT {_COLUMNS} FROM "{table}" WHERE column1 = ? AND column2 = ?',
            (a, b, b, a),
        )


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
