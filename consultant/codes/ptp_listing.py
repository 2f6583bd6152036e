"""Every NCCI PTP edit of one code, as column 1 or as column 2, a page at a time.

A code page lists them; a common code is in edits with thousands of others,
so the lists come with their counts and in pages, read straight from the
release's edit table (the pair index serves column 1, its own index column 2).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from consultant.codes.importing import date_to_int, int_to_date
from consultant.codes.ptp import MODIFIER_INDICATOR, PtpEdit
from consultant.codes.readonly import Reader
from consultant.codes.refs import ReleaseRef
from consultant.codes.tables import ptp_table_name

COLUMNS = ("column1", "column2")
_FIELDS = "column1, column2, pre1996, effective, deletion, modifier_indicator, rationale"
# ``applies`` in ptp.py, in SQL: in force from the effective date through the deletion
# date, and never when deleted on the day it took effect.
_IN_FORCE = "effective <= ? AND (deletion IS NULL OR (deletion >= ? AND deletion <> effective))"


@dataclass
class PtpListing:
    """One page of the edits where ``code`` is in ``column``, in force on ``on``."""

    code: str
    column: str  # column1 or column2
    setting: str
    on: str
    release: dict[str, Any]
    total: int = 0  # in force on the date
    outside_dates: int = 0  # in the release, but not in force on the date
    offset: int = 0
    in_force: bool = True  # whether ``edits`` are those in force or the others
    edits: list[PtpEdit] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _edit(row: tuple[Any, ...], release: ReleaseRef) -> PtpEdit:
    column1, column2, pre1996, effective, deletion, indicator, rationale = row
    deleted = int_to_date(deletion)
    return PtpEdit(
        column1=column1,
        column2=column2,
        modifier_indicator=indicator,
        modifier_meaning=MODIFIER_INDICATOR[indicator],
        effective=int_to_date(effective).isoformat(),  # type: ignore[union-attr]
        deletion=deleted.isoformat() if deleted else None,
        rationale=release.details["rationales"][rationale],
        pre1996=bool(pre1996),
        release=release.describe(),
    )


def edits_of(
    reader: Reader,
    release: ReleaseRef,
    code: str,
    column: str,
    on: date,
    limit: int = 100,
    offset: int = 0,
    in_force: bool = True,
) -> PtpListing:
    """The edits of ``release`` with ``code`` in ``column``, paged: those in force on ``on``,
    or (``in_force=False``) the release's others: deleted before it, or not yet effective."""
    if column not in COLUMNS:
        raise ValueError(f"column must be one of {COLUMNS}")
    other = COLUMNS[1 - COLUMNS.index(column)]
    table = ptp_table_name(release.id)
    day = date_to_int(on)
    listing = PtpListing(
        code,
        column,
        release.setting,
        on.isoformat(),
        release.describe(),
        offset=offset,
        in_force=in_force,
    )
    where = f'FROM "{table}" WHERE {column} = ?'
    every = reader.rows(f"SELECT count(*) {where}", (code,))[0][0]
    listing.total = reader.rows(f"SELECT count(*) {where} AND {_IN_FORCE}", (code, day, day))[0][0]
    listing.outside_dates = every - listing.total
    window = _IN_FORCE if in_force else f"NOT ({_IN_FORCE})"
    rows = reader.rows(
        f"SELECT {_FIELDS} {where} AND {window} ORDER BY {other}, effective LIMIT ? OFFSET ?",
        (code, day, day, limit, offset),
    )
    listing.edits = [_edit(row, release) for row in rows]
    return listing
