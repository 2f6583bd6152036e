"""Protected health information in a question: find it, so it is flagged and never quoted.

Looks for what identifies a patient: a name given with a date of birth, after
"patient" or "pt" (with or without a colon; after a label also last name first,
"Patient: HOLLOWAY, JUNE") or after Mr./Ms./Mrs.; a date of birth, an MRN, an
SSN, a Medicare Beneficiary Identifier or another member ID (a bare "ID:" too,
where a patient or member was just named); and a phone number said to be the
patient's (or a relative's, or "on file"). A phone number alone is not PHI:
every signature has one.
The spans found are removed from anything we quote back; the kinds (never the
values) are recorded on the case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE = (
    r"(?:\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{4}-\d{2}-\d{2}|"
    rf"{_MONTH} \d{{1,2}},? \d{{4}}|\d{{1,2}}[ -]{_MONTH}[ ,-]+\d{{2,4}})"
)
# Medicare Beneficiary Identifier: 11 characters, letters other than S L O I B Z, not inside
# a longer word (the check comes after the first digit so the search can skip to digits).
_MBI_LETTER = "[AC-HJKMNP-RT-Y]"
_MBI = (
    rf"[1-9](?<!\w[1-9]){_MBI_LETTER}[AC-HJKMNP-RT-Y0-9]\d-?{_MBI_LETTER}[AC-HJKMNP-RT-Y0-9]\d-?"
    rf"{_MBI_LETTER}{{2}}\d{{2}}"
)
_NAME = r"[A-Z][a-z'\u2019-]+(?: [A-Z]\.?)?(?: [A-Z][a-z'\u2019-]+){1,2}"
# After a label a name may be written last name first: "Patient: HOLLOWAY, JUNE", "Doe, Jane".
_LISTED_NAME = rf"(?:{_NAME}|[A-Z][A-Za-z'\u2019-]+, ?[A-Z][A-Za-z'\u2019-]+)"
# The words that announce a date of birth (dates.py uses them to tell a DOB from a DOS).
DOB_LABEL = r"(?:DOB|D\.O\.B\.?|date of birth|birth ?date|born(?: on)?)"
# A member ID: a label, then a value with at least one digit ("policy number pending" is not).
_MEMBER_LABEL = (
    r"(?:member|subscriber|insurance|ins\.?|beneficiary|policy|medicare|medicaid|tricare|"
    r"health plan|plan)\s*(?:id|#|number|no\.?|identifier)|MBI|HICN"
)
# A US phone number: (555) 123-4567, 555-123-4567, 555.123.4567, +1 555 123 4567.
PHONE = re.compile(r"(?<![\w+-])(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?!\w)")
# Whose phone number it is, said just before it on the same line: the patient's or a
# relative's. A phone number alone is the sender's: every signature has one.
_PHONE_OWNER = re.compile(
    r"(?i:\b(?:patient|pt|patient's|pt's|member|beneficiary|subscriber|guardian|mother|father|"
    r"parent|caregiver|spouse|wife|husband|daughter|son|his|her|their|home|on file|cb|"
    r"call ?back)\b)"
    r"[^\n]*\Z"
)
_OWNER_REACH = 40
_DOB_CUES = ("dob", "d.o.b", "birth", "born")

_LABEL = r"\s*[:#-]?\s*"


@dataclass(frozen=True)
class _Rule:
    """A kind of PHI, its pattern, and words one of which the text must hold for it to run.

    The cues are plain substring tests of the lower-cased text: most questions hold
    none of them, and skipping a case-insensitive pattern is what keeps finding PHI
    cheap enough to run on every message.
    """

    kind: str
    pattern: re.Pattern[str]
    cues: tuple[str, ...] = ()


RULES: tuple[_Rule, ...] = (
    # After the label a date may be written without separators: "DOB 040561", "DOB 19610405".
    _Rule(
        "dob",
        re.compile(rf"\b{DOB_LABEL}{_LABEL}(?:{_DATE}|\d{{6}}(?:\d{{2}})?\b)", re.I),
        _DOB_CUES,
    ),
    _Rule(
        "mrn",
        re.compile(
            rf"\b(?:MRN|MR#|medical record(?: number| no\.?| #)?){_LABEL}[A-Z0-9][A-Z0-9-]{{3,}}",
            re.I,
        ),
        ("mrn", "mr#", "medical record"),
    ),
    _Rule(
        "ssn",
        re.compile(
            rf"\b(?:SSN|social(?: security)?(?: number| no\.?| #)?){_LABEL}"
            r"\d{3}[- ]?\d{2}[- ]?\d{4}\b",
            re.I,
        ),
        ("ssn", "social"),
    ),
    # Written as 123-45-6789, without the numbers never issued (000, 666, 9xx; 00; 0000).
    _Rule(
        "ssn",
        re.compile(r"\d(?<!\w\d)\d\d(?<!000)(?<!666)(?<!9\d\d)-\d\d(?<!00)-\d{4}(?<!0000)\b"),
    ),
    _Rule("member_id", re.compile(rf"{_MBI}\b")),
    _Rule(
        "member_id",
        re.compile(rf"\b(?:{_MEMBER_LABEL}){_LABEL}(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{{5,}}", re.I),
        (
            "member",
            "subscriber",
            "ins",
            "beneficiary",
            "policy",
            "medica",
            "tricare",
            "plan",
            "hicn",
        ),
    ),
    _Rule(
        "patient_name",
        re.compile(
            rf"(?i:\b(?:patient|pt|name|member|subscriber|insured|beneficiary)\s*(?:name)?)"
            rf"\s*[:-]\s*{_LISTED_NAME}"
        ),
        ("patient", "name", "pt:", "pt -", "pt-", "member", "subscriber", "insured", "benefic"),
    ),
    _Rule("patient_name", re.compile(rf"\b{_NAME}(?=,?\s*\(?(?i:{DOB_LABEL})\b)"), _DOB_CUES),
    # "Our patient Harold Jenkins had ...", "pt Linda Moreau": a name with no date of birth.
    _Rule(
        "patient_name",
        re.compile(rf"(?i:\b(?:patient|pt)(?:'s|\u2019s)?\.?\s+(?:name\s+)?(?:is\s+)?){_NAME}"),
        ("patient", "pt"),
    ),
    # "Mr. John Carter", "Ms. Alvarez": someone the sender writes about.
    _Rule(
        "patient_name",
        re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx)\.?\s+[A-Z][a-z'\u2019-]+(?: [A-Z][a-z'\u2019-]+)?"),
        ("mr", "ms", "miss", "mx"),
    ),
)


@dataclass(frozen=True)
class PhiMatch:
    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class PhiFindings:
    matches: tuple[PhiMatch, ...]  # overlapping spans merged, for removing them
    found_kinds: frozenset[str]  # every kind found, those of merged spans too

    @property
    def found(self) -> bool:
        return bool(self.matches)

    @property
    def kinds(self) -> list[str]:
        return sorted(self.found_kinds)


def _patient_phones(text: str) -> list[tuple[int, int, str]]:
    found = []
    for match in PHONE.finditer(text):
        start = match.start()
        line = text.rfind("\n", 0, start) + 1
        if _PHONE_OWNER.search(text, max(line, start - _OWNER_REACH), start):
            found.append((start, match.end(), "phone"))
    return found


# "ID: QAB7730291" under "Member: Jacob Stein DOB: ...": a bare ID label is a member's ID
# where a patient or member was just named.
_BARE_ID = re.compile(r"\bID\s*[:#]\s*(?=[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])[A-Z0-9][A-Z0-9-]{5,}")
_ID_OWNER = re.compile(r"(?i:\b(?:patient|pt|member|subscriber|beneficiary|dob)\b)")
_ID_OWNER_REACH = 120


def _patient_ids(text: str) -> list[tuple[int, int, str]]:
    return [
        (match.start(), match.end(), "member_id")
        for match in _BARE_ID.finditer(text)
        if _ID_OWNER.search(text, max(0, match.start() - _ID_OWNER_REACH), match.start())
    ]


# A file name written in the text: "Report attached (Coleman_Bryce_DOB_040561_panel.pdf)".
_FILE_EXTENSIONS = ("pdf", "doc", "xls", "csv", "txt", "png", "jpg", "jpeg", "tif", "rtf", "htm")
_FILE_NAME = re.compile(rf"\b[\w+.-]+\.(?i:{'|'.join(_FILE_EXTENSIONS)})[a-z]?\b")


def find_phi(text: str) -> PhiFindings:
    """Every PHI span in ``text``, overlapping spans merged, in order; file names named in
    it are read as words too (same length, so the spans stand where they did)."""
    lowered = text.lower()
    if any(f".{extension}" in lowered for extension in _FILE_EXTENSIONS):
        text = _FILE_NAME.sub(lambda m: file_name_words(m.group()), text)
    spans = sorted(
        [
            (match.start(), match.end(), rule.kind)
            for rule in RULES
            if not rule.cues or any(cue in lowered for cue in rule.cues)
            for match in rule.pattern.finditer(text)
        ]
        + _patient_phones(text)
        + (_patient_ids(text) if "ID" in text else [])
    )
    merged: list[PhiMatch] = []
    for start, end, kind in spans:
        if merged and start < merged[-1].end:
            last = merged[-1]
            merged[-1] = PhiMatch(last.kind, last.start, max(last.end, end))
        else:
            merged.append(PhiMatch(kind, start, end))
    return PhiFindings(tuple(merged), frozenset(kind for _, _, kind in spans))


REDACTED = "[patient details removed]"


def redact(text: str, findings: PhiFindings | None = None) -> str:
    """``text`` with every PHI span replaced by a marker that says something was removed."""
    findings = findings or find_phi(text)
    pieces, position = [], 0
    for match in findings.matches:
        pieces.extend((text[position : match.start], REDACTED))
        position = match.end
    pieces.append(text[position:])
    return "".join(pieces)


_NAME_SEPARATORS = str.maketrans({"_": " ", "+": " "})


def file_name_words(name: str) -> str:
    """A file name read as words: ``_`` and ``+`` as spaces, one for one (same offsets)."""
    return name.translate(_NAME_SEPARATORS)


def redact_file_name(name: str) -> str:
    """A file name with PHI replaced, found as if its ``_`` and ``+`` were spaces.

    Scanners and EHR exports name files ``John_Smith_DOB_1962-03-14_MRN12345678.pdf``;
    the separators are swapped one for one, so the spans found fit the original.
    """
    return redact(name, find_phi(file_name_words(name)))


def segments(text: str) -> list[tuple[str, str | None]]:
    """``text`` cut into pieces, each with the PHI kind it is (None for ordinary text), so a
    page can mark patient details, or hide them until an expert asks to see them."""
    pieces: list[tuple[str, str | None]] = []
    position = 0
    for match in find_phi(text).matches:
        if match.start > position:
            pieces.append((text[position : match.start], None))
        pieces.append((text[match.start : match.end], match.kind))
        position = match.end
    if position < len(text):
        pieces.append((text[position:], None))
    return pieces
