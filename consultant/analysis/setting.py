"""Where the service was given and who pays, where the question says so.

Both change the answer: the fee schedule pays a different rate in a facility
than in an office, and NCCI edits, MUEs and LCDs are Medicare's (Medicaid
uses NCCI too; a commercial payer or Tricare may follow its own rules). The
place comes from a place-of-service code (POS 11 is the office; 02, 19, 21-24,
26, 31, 34, 41, 42, 51-53, 56 and 61 are facility settings in the Medicare
fee schedule, every other POS is paid at the non-facility rate, read here as
"office") or else from the first words that name one ("in the office",
"outpatient hospital", "ASC"). The payer is the first one named.

Where the patient was seen decides which Medicare contractor's coverage
articles apply and which locality's fee schedule amount: a state named after
"in", "for" or "from" (or before "Medicare", "MAC" or "Part B"), a contractor
named ("Novitas", "MAC 99101", "jurisdiction JH"), and the capitalised words
after "in" that may name a city or county ("in Miami"), for the code data to
recognise or ignore.
"""

from __future__ import annotations

import re

from consultant.analysis.model import Setting
from consultant.analysis.wording import Phrases, Wording
from consultant.codes.states import STATES, state_code

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


_NAMES = "|".join(sorted((re.escape(n) for n in STATES.values()), key=len, reverse=True))
# Two letters that are a state but, in a coding question, as often something else: a
# modifier (GA), a test (CT), a title (MD, PA, MA), Medicare Advantage (MA), the VA, a route
# (SC). These are read as a state only before "Medicare" or "MAC", or with a zip code.
_AMBIGUOUS = frozenset(
    [
        "IN",
        "OR",
        "ME",
        "AS",
        "HI",
        "OK",
        "ID",
        "MA",
        "PA",
        "MD",
        "GA",
        "CT",
        "MS",
        "DC",
        "CO",
        "MT",
        "LA",
        "SC",
        "VA",
        "DE",
        "AL",
        "MO",
        "NE",
        "GU",
        "MP",
        "PR",
        "CA",
    ]
)
_CODES = "|".join(c for c in STATES if c not in _AMBIGUOUS)
_ALL_CODES = "|".join(c for c in STATES if c != "MA")
_BEFORE_PLACE = r"(?i:in|from|located in|based in|practice in|practicing in)"
_PAYER_AFTER = r"(?:Medicare|MAC|Part\s+B|Medicaid|DME\s+MAC|jurisdiction)"
_STATE = re.compile(
    rf"\b{_BEFORE_PLACE}\s+(?:the\s+state\s+of\s+)?(?P<name>{_NAMES})\b"
    rf"|\b(?P<before>{_NAMES})\s+{_PAYER_AFTER}\b",
    re.I,
)
_STATE_CODE = re.compile(
    rf"\b{_BEFORE_PLACE}\s+(?P<code>{_CODES})\b(?![-/'\w])"
    rf"|\b(?P<before>{_ALL_CODES})\s+{_PAYER_AFTER}\b"
    # "Tucson, AZ 85710" (not "Jane Doe, MD" nor "Sir, GA is needed")
    rf"|\b[A-Z][a-z]+,\s+(?P<after>{_ALL_CODES})[ \t]+\d{{5}}\b",
    re.M,
)
_MACS = "Novitas|First Coast|Palmetto|Noridian|National Government Services|NGS|WPS|CGS"
_MAC = re.compile(
    rf"\b(?P<name>{_MACS})\b"
    r"|\b(?:MAC|contractor)\s*(?:#|number|no\.?)?\s*(?P<number>\d{5})\b"
    r"|\b(?:jurisdiction|MAC)\s+(?P<after>J-?[A-Z0-9]{1,2})\b"
    r"|\b(?P<before>J-?[A-Z0-9]{1,2})\s+(?:MAC|jurisdiction)\b",
)
# Capitalised words after "in" that may be a city or county: "in Miami", "in Palm Beach County"
# (kept with "County": only a county named so may fall in a state's "all other counties").
_PLACE = re.compile(r"\bin\s+(?P<place>[A-Z][a-z]+(?:[- ][A-Z][a-z]+){0,2})")
_NOT_PLACES = frozenset(
    re.findall(
        r"\w+",
        "January February March April May June July August September October November December "
        "Medicare Medicaid Part The This That These Those Our My Your His Her Their Block Box "
        "Item Column Group Section Chapter Table Appendix Office Hospital Facility Addition "
        "General Advance Total Practice Network Coding Order",
    )
)


def _state(text: str) -> str | None:
    found = [m for m in (_STATE.search(text), _STATE_CODE.search(text)) if m]
    if not found:
        return None
    first = min(found, key=lambda m: m.start())
    return state_code(next(g for g in first.groups() if g))


def _mac(text: str) -> str | None:
    match = _MAC.search(text)
    return next(g for g in match.groups() if g) if match else None


def _places(text: str, state: str | None) -> tuple[str, ...]:
    places = []
    for match in _PLACE.finditer(text):
        words = match.group("place")
        if words.split()[0].split("-")[0] in _NOT_PLACES or state_code(words):
            continue
        if words not in places:
            places.append(words)
    return tuple(places[:3])


def find_setting(text: str, wording: Wording | None = None) -> Setting:
    """The place of service, the payer and where the patient was seen, as the question says
    (``wording``: of ``text``)."""
    wording = wording or Wording.of(text)
    place, pos = _place(text, wording)
    payer, payer_name = _payer(wording)
    state = _state(text)
    return Setting(
        place=place,
        payer=payer,
        pos=pos,
        payer_name=payer_name,
        state=state,
        mac=_mac(text),
        places=_places(text, state),
    )
