"""Where the service was given and who pays, where the question says so.

Both change the answer: the fee schedule pays a different rate in a facility
than in an office, and NCCI edits, MUEs and LCDs are Medicare's (Medicaid
uses NCCI too; a commercial payer or Tricare may follow its own rules). The
place comes from a place-of-service code (POS 11 is the office; 02, 19, 21-24,
26, 31, 34, 41, 42, 51-53, 56 and 61 are facility settings in the Medicare
fee schedule, every other POS is paid at the non-facility rate, read here as
"office") or else from the first words that name one ("in the office",
"outpatient hospital", "ASC"). The payer is the first one named.
"""

from __future__ import annotations

import re

from consultant.analysis.model import Setting
from consultant.analysis.wording import Phrases, Wording

FACILITY_POS = frozenset({2, 19, 21, 22, 23, 24, 26, 31, 34, 41, 42, 51, 52, 53, 56, 61})

_POS = re.compile(r"\b(?:POS|place of service)\s*(?:code\s*)?[:#-]?\s*(?P<pos>\d{1,2})\b", re.I)

_PLACES = {
    "office": Phrases.of(
        "non-facility, nonfacility, non facility, in the office, in office, in-office, "
        "office visit, office setting, office procedure, office-based, office based, "
        "physician office, physician's office, doctor's office, at the office, clinic visit"
    ),
    "facility": Phrases.of(
        "facility, hospital, inpatient, outpatient hospital, hospital outpatient, "
        "ambulatory surgery center, ambulatory surgical center, emergency department, "
        "emergency room, skilled nursing, nursing facility, nursing home, operating room, "
        "observation"
    ),
}
# Abbreviations that name a place only when written in capitals ("ASC", not "asc").
_PLACE_CAPITALS = {"ASC": "facility", "SNF": "facility", "ED": "facility"}

_PAYERS = {
    "medicare_advantage": Phrases.of("medicare advantage, ma plan, part c"),
    "medicare": Phrases.of("medicare, noridian, novitas, palmetto, first coast"),
    "medicaid": Phrases.of("medicaid, medi-cal, ahcccs, masshealth"),
    "tricare": Phrases.of("tricare, champva"),
    "commercial": Phrases.of("commercial, private insurance, private payer, private plan"),
}
_PAYER_CAPITALS = {"MAC": "medicare", "WPS": "medicare", "CGS": "medicare", "NGS": "medicare"}
# Commercial payers by the name a reply would use.
_COMPANIES = {
    "Aetna": Phrases.of("aetna"),
    "Anthem": Phrases.of("anthem"),
    "Blue Cross Blue Shield": Phrases.of("bcbs, blue cross, blue shield, bluecross, blueshield"),
    "Cigna": Phrases.of("cigna"),
    "Highmark": Phrases.of("highmark"),
    "Humana": Phrases.of("humana"),
    "Kaiser": Phrases.of("kaiser"),
    "Optum": Phrases.of("optum"),
    "UnitedHealthcare": Phrases.of(
        "unitedhealthcare, united healthcare, united health care, unitedhealth, uhc"
    ),
}


def _first(
    wording: Wording, phrases: dict[str, Phrases], capitals: dict[str, str]
) -> tuple[int, str] | None:
    """(place, name) of the earliest of ``phrases`` (or capitals-only words) in ``wording``."""
    found = [
        (place, name) for name, p in phrases.items() if (place := p.first_in(wording)) is not None
    ]
    found += [
        (wording.joined.find(f" {word.lower()} "), name)
        for word, name in capitals.items()
        if word in wording.capitals
    ]
    return min(found, key=lambda item: item[0]) if found else None


def _place(text: str, wording: Wording) -> tuple[str | None, int | None]:
    pos = (
        _POS.search(text)
        if "pos" in wording.words or "place of service" in wording.joined
        else None
    )
    if pos:
        number = int(pos.group("pos"))
        return ("facility" if number in FACILITY_POS else "office"), number
    first = _first(wording, _PLACES, _PLACE_CAPITALS)
    if first is None and "OR" in wording.capitals and " the or " in wording.joined:
        return "facility", None  # "returns to the OR"
    return (first[1] if first else None), None


def _payer(wording: Wording) -> tuple[str | None, str | None]:
    payer = _first(wording, _PAYERS, _PAYER_CAPITALS)
    company = _first(wording, _COMPANIES, {})
    if company and (payer is None or company[0] < payer[0]):
        return "commercial", company[1]
    return (payer[1] if payer else None), None


def find_setting(text: str, wording: Wording | None = None) -> Setting:
    """The place of service and the payer the question names (``wording``: of ``text``)."""
    wording = wording or Wording.of(text)
    place, pos = _place(text, wording)
    payer, payer_name = _payer(wording)
    return Setting(place=place, payer=payer, pos=pos, payer_name=payer_name)
