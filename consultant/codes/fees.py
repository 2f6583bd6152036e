"""What Medicare pays for a code in a locality on a date: the physician fee schedule amount,
in an office (non-facility) and in a facility, and the lab fee schedule rate.

The amount is (work RVU x work GPCI + PE RVU x PE GPCI + MP RVU x MP GPCI) x
conversion factor, rounded to the cent after the formula, as CMS rounds; the
non-participating amount is 95% of it and the limiting charge 115% of that
(109.25% of the amount), each rounded to the cent. No amount is given from a
release that is not the one for the date (a PFS file starts each quarter,
GPCIs each year), from a release without the RVUs, for a status that is not
paid under the fee schedule, or for a setting where the code is not priced.
Without a locality the amount is the national one (every GPCI 1.000).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from consultant.codes.choice import is_current
from consultant.codes.cms_edits import PFS_INDICATORS, CmsEditLookups
from consultant.codes.importing import date_to_int
from consultant.codes.refs import ReleaseRef
from consultant.codes.states import state_code

CENT = Decimal("0.01")
GPCI_PLACES = "0.001"
CF_PLACES = "0.0001"
NON_PARTICIPATING = Decimal("0.95")
LIMITING_CHARGE = Decimal("1.0925")  # 115% of the non-participating amount
NATIONAL = Decimal("1.000")
BILATERAL = Decimal("1.5")
PAID_STATUSES = frozenset({"A", "R", "T"})
SETTINGS = ("non_facility", "facility")
_GPCI = "SELECT mac, locality, state, name, work, pe, mp FROM gpci_value WHERE release_id = ?"
_LOCALITY_GPCI = (
    "SELECT work, pe, mp FROM gpci_value WHERE release_id = ? AND mac = ? AND locality = ?"
)
_COUNTIES = "SELECT mac, locality, state, area, counties FROM pfs_locality WHERE release_id = ?"
_PFS = (
    "SELECT status, pctc, work_rvu, nonfacility_pe_rvu, nonfacility_na, facility_pe_rvu, "
    "facility_na, mp_rvu, conversion_factor, multiple_procedure, bilateral, global_days "
    "FROM pfs_indicator WHERE release_id = ? AND code = ? AND modifier = ?"
)
_CLFS = (
    "SELECT rate, indicator, effective FROM clfs_rate "
    "WHERE release_id = ? AND code = ? AND modifier = ?"
)
_ALL_OTHER = re.compile(r"(?i)\ball (other )?counties\b|\bstatewide\b")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _decimal(value: object, places: str = "0.01") -> Decimal | None:
    """A stored number as the file wrote it (SQLite hands back floats): RVUs to the
    hundredth, GPCIs to the thousandth, the conversion factor to four places."""
    return None if value is None else Decimal(str(value)).quantize(Decimal(places))


@dataclass(frozen=True)
class Locality:
    """A Medicare payment locality with its GPCIs."""

    mac: str
    number: str
    state: str
    name: str
    work: Decimal
    pe: Decimal
    mp: Decimal
    counties: str = ""

    def describe(self) -> dict[str, Any]:
        return {
            "mac": self.mac,
            "locality": self.number,
            "state": self.state,
            "name": self.name,
            "counties": self.counties,
            "gpci": {"work": str(self.work), "pe": str(self.pe), "mp": str(self.mp)},
            "label": self.label(),
        }

    def label(self) -> str:
        """``MIAMI (FL), locality 04 of MAC 99101``."""
        return f"{self.name} ({self.state}), locality {self.number} of MAC {self.mac}"


@dataclass
class Localities:
    """The localities a place names (one is an answer; several need a choice), and from where."""

    found: list[Locality]
    release: dict[str, Any] | None
    message: str | None = None


@dataclass
class FeeResult:
    code: str
    modifier: str
    on: str
    locality: dict[str, Any] | None
    release: dict[str, Any] | None  # the PFS release
    gpci_release: dict[str, Any] | None = None
    status: str | None = None
    status_meaning: str | None = None
    pctc: str | None = None
    pctc_meaning: str | None = None
    multiple_procedure: str | None = None
    bilateral: str | None = None
    rvus: dict[str, str | None] = field(default_factory=dict)
    conversion_factor: str | None = None
    amounts: dict[str, dict[str, str]] = field(default_factory=dict)  # by setting
    not_priced: dict[str, str] = field(default_factory=dict)  # by setting: why no amount
    clfs: dict[str, Any] | None = None
    message: str | None = None  # why there is no amount at all

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def amount(self, setting: str) -> Decimal | None:
        found = self.amounts.get(setting)
        return Decimal(found["amount"]) if found else None


class FeeLookups:
    """Fee schedule amounts and lab rates from the loaded PFS, GPCI, locality and CLFS files."""

    def __init__(self, lookups: CmsEditLookups) -> None:
        self.lookups = lookups
        self.reader = lookups.reader

    def localities(
        self,
        on: date,
        *,
        place: str | None = None,
        state: str | None = None,
        county: str | None = None,
    ) -> Localities:
        """The localities ``place`` (a locality number, ``MAC/number``, an area or county
        name) or ``state`` and ``county`` name, from the GPCI file in force."""
        release = self.lookups.in_force("gpci", on)
        if release is None:
            return Localities([], None, f"no GPCI file is loaded for {on}")
        counties = self._counties(on)
        every = [
            Locality(
                mac,
                number,
                st,
                name,
                _decimal(work, GPCI_PLACES),
                _decimal(pe, GPCI_PLACES),
                _decimal(mp, GPCI_PLACES),
                counties.get((mac, number), ""),
            )
            for mac, number, st, name, work, pe, mp in self.reader.rows(_GPCI, (release.id,))
        ]
        code = state_code(state) if state else None
        if state and code is None:
            return Localities([], release.describe(), f"{state!r} is not a state")
        if code:
            every = [loc for loc in every if loc.state == code]
        if place:
            found = _by_place(every, place)
        elif county:
            found = _by_county(every, county)
        else:
            found = every if code and len(every) == 1 else []
            if code and not found:
                return Localities(
                    every,
                    release.describe(),
                    f"{code} has {len(every)} localities: name the county",
                )
        if not found:
            where = place or county or state or ""
            return Localities([], release.describe(), f"no locality matches {where!r}")
        return Localities(found, release.describe())

    def _counties(self, on: date) -> dict[tuple[str, str], str]:
        release = self.lookups.in_force("locality", on)
        if release is None:
            return {}
        return {
            (mac, number): counties
            for mac, number, _, _, counties in self.reader.rows(_COUNTIES, (release.id,))
        }

    def fee(
        self,
        code: str,
        modifier: str = "",
        locality: Locality | None = None,
        on: date | None = None,
    ) -> FeeResult:
        """The fee schedule amounts of ``code`` (with ``modifier``) in ``locality`` on ``on``."""
        on = on or date.today()
        code, modifier = code.upper(), modifier.upper()
        result = FeeResult(
            code, modifier, on.isoformat(), locality.describe() if locality else None, None
        )
        result.clfs = self._clfs(code, modifier, on)
        release = self.lookups.in_force("pfs", on)
        if release is None:
            result.message = f"no physician fee schedule file is loaded for {on}"
            return result
        result.release = release.describe()
        rows = self.reader.rows(_PFS, (release.id, code, modifier))
        if not rows:
            result.message = (
                f"{code}{'-' + modifier if modifier else ''} is not in the PFS {release.version}"
            )
            return result
        (
            status,
            pctc,
            work,
            pe_office,
            na_office,
            pe_facility,
            na_facility,
            mp,
            cf,
            mpi,
            bilat,
            _,
        ) = rows[0]
        result.status, result.pctc = status, pctc
        result.status_meaning = PFS_INDICATORS["status"].get(status or "")
        result.pctc_meaning = PFS_INDICATORS["pctc"].get(pctc or "")
        result.multiple_procedure, result.bilateral = mpi, bilat
        values = {
            "work": _decimal(work),
            "pe_non_facility": _decimal(pe_office),
            "pe_facility": _decimal(pe_facility),
            "mp": _decimal(mp),
        }
        result.rvus = {k: None if v is None else str(v) for k, v in values.items()}
        result.conversion_factor = None if cf is None else str(_decimal(cf, CF_PLACES))
        why = _no_amount(release, on, status, cf)
        if why:
            result.message = why
            return result
        gpci = self._gpci(locality, on, result)
        if gpci is None:
            return result
        for setting, pe, na in (
            ("non_facility", values["pe_non_facility"], na_office),
            ("facility", values["pe_facility"], na_facility),
        ):
            if pe is None or na or values["work"] is None or values["mp"] is None:
                result.not_priced[setting] = (
                    f"the PFS {release.version} gives no {setting.replace('_', '-')} PE RVU "
                    f"for {code}{'-' + modifier if modifier else ''} (not priced in that setting)"
                )
                continue
            factor = _decimal(cf, CF_PLACES)
            result.amounts[setting] = _amount(values["work"], pe, values["mp"], gpci, factor)  # type: ignore[arg-type]
        return result

    def current(self, kind: str, on: date) -> ReleaseRef | None:
        """The release of ``kind`` that is the one for ``on`` (``choice.is_current``): no
        amount is worked from a PFS file of another quarter, GPCIs of another year or a lab
        fee schedule of another quarter."""
        release = self.lookups.in_force(kind, on)
        return release if release and is_current(kind, release.effective_from, on) else None

    def _gpci(
        self, locality: Locality | None, on: date, result: FeeResult
    ) -> tuple[Decimal, Decimal, Decimal] | None:
        if locality is None:
            return (NATIONAL, NATIONAL, NATIONAL)
        release = self.current("gpci", on)
        if release is None:
            result.message = (
                f"the GPCIs for {on.year} are not loaded: no amount for {locality.name}"
            )
            return None
        result.gpci_release = release.describe()
        # The locality's GPCIs of this date's year (the locality may have been found for
        # another line's date).
        rows = self.reader.rows(_LOCALITY_GPCI, (release.id, locality.mac, locality.number))
        if not rows:
            result.message = f"the {release.version} GPCIs list no {locality.label()}"
            return None
        work, pe, mp = (_decimal(v, GPCI_PLACES) for v in rows[0])
        return (work, pe, mp)  # type: ignore[return-value]

    def _clfs(self, code: str, modifier: str, on: date) -> dict[str, Any] | None:
        release = self.current("clfs", on)
        if release is None:
            return None
        rows = self.reader.rows(_CLFS, (release.id, code, modifier))
        if not rows:
            return None
        rate, indicator, effective = rows[0]
        if effective is not None and effective > date_to_int(on):
            return None  # this code's rate starts later in the quarter
        return {
            "rate": str(cents(Decimal(str(rate)))),
            "indicator": indicator,
            "release": release.describe(),
        }


def _no_amount(release: ReleaseRef, on: date, status: str | None, cf: object) -> str | None:
    if not is_current("pfs", release.effective_from, on):
        return (
            f"the PFS {release.version} (from {release.effective_from}) is not the release for {on}"
        )
    if not release.details.get("rvus"):
        return f"the PFS {release.version} as loaded gives no practice expense or malpractice RVUs"
    if status not in PAID_STATUSES:
        meaning = PFS_INDICATORS["status"].get(status or "", "not paid under the fee schedule")
        return f"status {status}: {meaning}"
    if cf is None:
        return f"the PFS {release.version} gives no conversion factor"
    return None


def _amount(
    work: Decimal, pe: Decimal, mp: Decimal, gpci: tuple[Decimal, Decimal, Decimal], cf: Decimal
) -> dict[str, str]:
    total = work * gpci[0] + pe * gpci[1] + mp * gpci[2]
    amount = cents(total * cf)
    formula = f"({work} x {gpci[0]} + {pe} x {gpci[1]} + {mp} x {gpci[2]}) x {cf} = {amount}"
    return {
        "amount": str(amount),
        "non_participating": str(cents(amount * NON_PARTICIPATING)),
        "limiting_charge": str(cents(amount * LIMITING_CHARGE)),
        "formula": formula,
    }


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Z0-9.]+", text.upper())


def _by_place(every: list[Locality], place: str) -> list[Locality]:
    text = " ".join(place.upper().split())
    if match := re.fullmatch(r"(\d{5})\s*[/-]\s*(\d{1,2})", text):
        return [loc for loc in every if (loc.mac, loc.number) == (match[1], match[2].zfill(2))]
    if text.isdigit() and len(text) <= 2:
        return [loc for loc in every if loc.number == text.zfill(2)]
    named = [loc for loc in every if loc.name.upper() == text]
    return named or _by_county(every, place, rest_of_state=False)


def _county_names(county: str) -> set[str]:
    """How a county may be written: ``MIAMI-DADE`` is the file's ``DADE`` too."""
    name = " ".join(county.upper().split()).removesuffix(" COUNTY")
    return {name, name.rsplit("-", 1)[-1]} if name else set()


def _by_county(every: list[Locality], county: str, rest_of_state: bool = True) -> list[Locality]:
    """The locality whose county list names ``county`` whole; else, when ``county`` is known
    to be a county and the localities are one state's, the one for all other counties.

    A city is not a county: "Hialeah" names no county, and must not fall into the rest
    of the state (it is in Dade).
    """
    wanted = _county_names(county)
    named = [
        loc
        for loc in every
        if any(
            " ".join(_words(c)) in wanted
            for c in re.split(r"[/,;]", loc.counties)
            if not _ALL_OTHER.search(c)
        )
    ]
    if named or not rest_of_state:
        return named
    states = {loc.state for loc in every}
    rest = [loc for loc in every if _ALL_OTHER.search(loc.counties)]
    return rest if len(states) == 1 and len(rest) == 1 else []


def adjusted(
    results: list[FeeResult],
    modifiers: dict[str, tuple[str, ...]],
    setting: str,
    unpaid: frozenset[str] = frozenset(),
) -> list[dict[str, Any]]:
    """The bilateral (50) and multiple procedure (51) adjustments of amounts billed together.

    A code with bilateral indicator 1 billed with 50 is paid at 150% of its amount;
    then codes with multiple procedure indicator 2 rank by that amount: the highest
    is paid in full, each other at 50%. ``unpaid`` codes (an NCCI edit pays only the
    other code) take no part. Only these standard rules are computed; the others
    (endoscopy families, imaging, therapy) are named by their indicator, not priced.
    """
    bases: dict[str, tuple[Decimal, bool, Decimal]] = {}
    for result in results:
        amount = result.amount(setting)
        if amount is None or result.code in unpaid:
            continue
        both = "50" in modifiers.get(result.code, ()) and result.bilateral == "1"
        bases[result.code] = (amount, both, cents(amount * BILATERAL) if both else amount)
    ranked = sorted(
        (r.code for r in results if r.code in bases and r.multiple_procedure == "2"),
        key=lambda code: bases[code][2],
        reverse=True,
    )
    ranked = ranked if len(ranked) > 1 else []
    order = ranked + [code for code in bases if code not in ranked and bases[code][1]]
    lines = []
    for code in order:
        amount, both, base = bases[code]
        percent = 50 if code in ranked[1:] else 100
        lines.append(
            {
                "code": code,
                "setting": setting,
                "amount": str(amount),
                "bilateral": both,
                "base": str(base),
                "ranked": code in ranked,
                "percent": percent,
                "adjusted": str(cents(base * percent / 100)),
            }
        )
    return lines
