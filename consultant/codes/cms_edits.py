"""Lookups in the CMS edit files: PTP pairs, MUEs, add-on code edits, PFS indicators.

Release choice is cached for a few seconds: a draft asks dozens of questions
about the same date, and a newly imported release only has to be seen soon,
not within the same millisecond.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from consultant.codes.choice import choose
from consultant.codes.importing import date_to_int
from consultant.codes.ptp import PtpReader, PtpResult, to_result
from consultant.codes.readonly import Reader
from consultant.codes.refs import ReleaseRef, read_releases
from consultant.db import Database

RELEASE_CACHE_SECONDS = 10.0
_MUE = (
    "SELECT value, adjudication_indicator, rationale FROM mue_value "
    "WHERE release_id = ? AND code = ?"
)
_AOC_IN_FORCE = "(effective IS NULL OR effective <= ?) AND (deletion IS NULL OR deletion >= ?)"
_AOC_AS_ADDON = (
    "SELECT primary_code, edit_type, notes FROM aoc_edit WHERE release_id = ? AND addon = ? "
    f"AND {_AOC_IN_FORCE}"
)
_AOC_AS_PRIMARY = (
    f"SELECT addon FROM aoc_edit WHERE release_id = ? AND primary_code = ? AND {_AOC_IN_FORCE}"
)
_PFS_FIELDS = (
    "status",
    "global_days",
    "pre_op",
    "intra_op",
    "post_op",
    "multiple_procedure",
    "bilateral",
    "assistant",
    "co_surgeon",
    "team_surgery",
    "pctc",
    "work_rvu",
    "conversion_factor",
)
_PFS_NUMBERS = ("pre_op", "intra_op", "post_op", "work_rvu", "conversion_factor")
_PFS = (
    f"SELECT {', '.join(_PFS_FIELDS)} FROM pfs_indicator "
    "WHERE release_id = ? AND code = ? AND modifier = ?"
)

MUE_ADJUDICATION = {
    1: "line edit: the units on one claim line are limited to the MUE value",
    2: (
        "date of service edit, policy: the units for the day are limited to the MUE value; "
        "the limit comes from policy, and units above it are not paid"
    ),
    3: (
        "date of service edit, clinical: the units for the day are limited to the MUE value; "
        "more units may be paid on appeal when the record supports them"
    ),
}
AOC_EDIT_TYPE = {
    1: "the add-on is payable only with one of the listed primary codes",
    2: "the add-on has no listed primaries: the Medicare contractor decides which apply",
    3: "the listed primaries are the usual ones; the contractor may allow others",
}
GLOBAL_DAYS = {
    "000": "0-day global period: the day of the procedure",
    "010": "10-day global period: the day of the procedure and 10 days after",
    "090": "90-day global period: the day before, the day of the procedure and 90 days after",
    "MMM": "maternity code: the usual global concept does not apply",
    "XXX": "the global concept does not apply",
    "YYY": "the contractor sets the global period",
    "ZZZ": "add-on code: falls within the global period of its primary procedure",
}
GLOBAL_MODIFIERS = {
    "24": "an unrelated E/M service during the postoperative period",
    "25": "a significant, separately identifiable E/M service on the day of a minor procedure",
    "57": "the E/M service at which the decision for major surgery was made",
    "58": "a staged, related or more extensive procedure by the same physician",
    "78": "an unplanned return to the operating room for a related procedure",
    "79": "an unrelated procedure by the same physician during the postoperative period",
}
PFS_INDICATORS = {
    "status": {
        "A": "active: paid separately under the fee schedule",
        "B": "bundled: paid as part of other services, never separately",
        "C": "contractor priced: the Medicare contractor sets the payment",
        "D": "deleted, with a grace period for claims",
        "E": "excluded from the fee schedule by regulation",
        "F": "deleted, without a grace period",
        "G": "not valid for Medicare: another code is used instead",
        "H": "this code and modifier combination was deleted",
        "I": "not valid for Medicare: another code is used instead",
        "J": "anesthesia service: paid under the anesthesia rules",
        "M": "measurement code: reported for quality programmes, not paid",
        "N": "not covered by Medicare",
        "P": "bundled or excluded: no separate payment",
        "R": "restricted coverage: special coverage instructions apply",
        "T": "paid only when no other service is paid on the same day",
        "X": "excluded from the physician fee schedule by law: not paid under it (a lab test "
        "is paid under the lab fee schedule)",
    },
    "pctc": {
        "0": "a physician service: the professional/technical split does not apply",
        "1": "a diagnostic test with a professional (26) and a technical (TC) component",
        "2": "a professional component only code",
        "3": "a technical component only code",
        "4": "a global test only code: the components have codes of their own",
        "5": "an incident-to service: modifiers 26 and TC do not apply",
        "6": "a laboratory physician interpretation code: modifier TC does not apply",
        "7": "a physical therapy service with its own payment rules",
        "8": "a physician interpretation code: only the professional part is paid here",
        "9": "the professional/technical concept does not apply",
    },
    "multiple_procedure": {
        "0": "no payment adjustment for multiple procedures",
        "2": "standard multiple-procedure payment rules apply",
        "3": "special rules for multiple endoscopic procedures apply",
        "4": "diagnostic imaging multiple-procedure rules apply",
        "5": "therapy multiple-procedure reduction applies",
        "6": "diagnostic cardiovascular multiple-procedure reduction applies",
        "7": "diagnostic ophthalmology multiple-procedure reduction applies",
        "9": "the concept does not apply",
    },
    "bilateral": {
        "0": "the 150% bilateral payment adjustment does not apply",
        "1": "the 150% bilateral payment adjustment applies (modifier 50 or RT/LT)",
        "2": "already describes both sides: no bilateral adjustment",
        "3": "each side is paid at 100%",
        "9": "the concept does not apply",
    },
    "assistant": {
        "0": "an assistant at surgery may be paid with documentation of medical necessity",
        "1": "an assistant at surgery may not be paid",
        "2": "an assistant at surgery may be paid",
        "9": "the concept does not apply",
    },
    "co_surgeon": {
        "0": "co-surgeons not permitted",
        "1": "co-surgeons may be paid with supporting documentation",
        "2": "co-surgeons permitted",
        "9": "the concept does not apply",
    },
    "team_surgery": {
        "0": "a surgical team is not permitted",
        "1": "a surgical team may be paid with supporting documentation",
        "2": "a surgical team is permitted",
        "9": "the concept does not apply",
    },
}


@dataclass
class MueResult:
    code: str
    setting: str
    on: str
    found: bool
    release: dict[str, Any] | None
    value: int | None = None
    adjudication_indicator: int | None = None
    adjudication_meaning: str | None = None
    rationale: str | None = None
    message: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class AddOnResult:
    """A code's add-on edits: its primaries if it is an add-on, its add-ons if a primary."""

    code: str
    on: str
    release: dict[str, Any] | None
    is_addon: bool = False
    edit_types: list[int] = field(default_factory=list)
    edit_type_meanings: list[str] = field(default_factory=list)
    primaries: list[str] = field(default_factory=list)
    contractor_defined_primaries: bool = False
    addons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    message: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PfsResult:
    code: str
    modifier: str
    on: str
    found: bool
    release: dict[str, Any] | None
    indicators: dict[str, Any] = field(default_factory=dict)
    meanings: dict[str, str] = field(default_factory=dict)
    global_modifiers: dict[str, str] = field(default_factory=dict)
    message: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class CmsEditLookups:
    """PTP, MUE, add-on and PFS answers as of a date of service."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.reader = Reader(db.url)
        self._ptp = PtpReader(self.reader)
        self._releases: dict[tuple[str, str], tuple[float, list[ReleaseRef]]] = {}
        self._lock = threading.Lock()

    def _release(self, kind: str, on: date, setting: str = "") -> ReleaseRef | None:
        key = (kind, setting)
        with self._lock:
            cached = self._releases.get(key)
        if cached is None or time.monotonic() - cached[0] > RELEASE_CACHE_SECONDS:
            found = read_releases(self.reader, kind, setting)
            cached = (time.monotonic(), found)
            with self._lock:
                self._releases[key] = cached
        return choose(cached[1], on)

    def in_force(self, kind: str, on: date, setting: str = "") -> ReleaseRef | None:
        """The release of ``kind`` that answers for ``on`` (``choice.choose``), or None."""
        return self._release(kind, on, setting)

    def forget_releases(self) -> None:
        """Drop the cached release lists (after an import in this process)."""
        with self._lock:
            self._releases.clear()

    def ptp(
        self, a: str, b: str, on: date | None = None, setting: str = "practitioner"
    ) -> PtpResult:
        """Every PTP edit between ``a`` and ``b`` in force on ``on``, in either order."""
        on = on or date.today()
        release = self._release("ncci-ptp", on, setting)
        if release is None:
            return PtpResult(
                (a, b),
                setting,
                on.isoformat(),
                None,
                message=f"no NCCI PTP edits ({setting}) are loaded for {on.isoformat()}",
            )
        rows = self._ptp.rows(release.id, a, b)
        return to_result(a, b, setting, on, release.describe(), release.details["rationales"], rows)

    def mue(self, code: str, on: date | None = None, setting: str = "practitioner") -> MueResult:
        """The MUE of ``code`` for ``setting`` (practitioner, hospital or dme)."""
        on = on or date.today()
        release = self._release("mue", on, setting)
        if release is None:
            return MueResult(
                code,
                setting,
                on.isoformat(),
                False,
                None,
                message=f"no MUE file ({setting}) is loaded for {on.isoformat()}",
            )
        rows = self.reader.rows(_MUE, (release.id, code))
        if not rows:
            return MueResult(
                code,
                setting,
                on.isoformat(),
                False,
                release.describe(),
                message=f"{code} has no MUE in {release.version}",
            )
        value, indicator, rationale = rows[0]
        return MueResult(
            code,
            setting,
            on.isoformat(),
            True,
            release.describe(),
            value=value,
            adjudication_indicator=indicator,
            adjudication_meaning=MUE_ADJUDICATION[indicator],
            rationale=rationale,
        )

    def addon(self, code: str, on: date | None = None) -> AddOnResult:
        """Add-on code edits for ``code`` in force on ``on``, as add-on and as primary."""
        on = on or date.today()
        release = self._release("aoc", on)
        if release is None:
            return AddOnResult(
                code,
                on.isoformat(),
                None,
                message=f"no add-on code edit file is loaded for {on.isoformat()}",
            )
        day = date_to_int(on)
        result = AddOnResult(code, on.isoformat(), release.describe())
        as_addon = self.reader.rows(_AOC_AS_ADDON, (release.id, code, day, day))
        result.addons = sorted(
            {row[0] for row in self.reader.rows(_AOC_AS_PRIMARY, (release.id, code, day, day))}
        )
        if as_addon:
            result.is_addon = True
            result.edit_types = sorted({edit_type for _, edit_type, _ in as_addon})
            result.edit_type_meanings = [AOC_EDIT_TYPE[t] for t in result.edit_types]
            result.primaries = sorted({primary for primary, _, _ in as_addon if primary})
            result.contractor_defined_primaries = any(primary is None for primary, _, _ in as_addon)
            result.notes = sorted({notes for _, _, notes in as_addon if notes})
        return result

    def pfs(self, code: str, modifier: str = "", on: date | None = None) -> PfsResult:
        """Fee schedule indicators of ``code`` (with ``modifier``, e.g. 26 or TC, if given)."""
        on = on or date.today()
        release = self._release("pfs", on)
        if release is None:
            return PfsResult(
                code,
                modifier,
                on.isoformat(),
                False,
                None,
                message=f"no physician fee schedule file is loaded for {on.isoformat()}",
            )
        rows = self.reader.rows(_PFS, (release.id, code, modifier))
        if not rows:
            return PfsResult(
                code,
                modifier,
                on.isoformat(),
                False,
                release.describe(),
                message=f"{code}{'-' + modifier if modifier else ''} is not in {release.version}",
            )
        indicators = dict(zip(_PFS_FIELDS, rows[0], strict=True))
        for name in _PFS_NUMBERS:
            indicators[name] = _number(indicators[name])
        meanings = {
            name: PFS_INDICATORS[name][value]
            for name, value in indicators.items()
            if name in PFS_INDICATORS and value in PFS_INDICATORS[name]
        }
        days = indicators["global_days"]
        if days in GLOBAL_DAYS:
            meanings["global_days"] = GLOBAL_DAYS[days]
        surgical = days in ("000", "010", "090")
        return PfsResult(
            code,
            modifier,
            on.isoformat(),
            True,
            release.describe(),
            indicators=indicators,
            meanings=meanings,
            global_modifiers=dict(GLOBAL_MODIFIERS) if surgical else {},
        )


def _number(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]
