"""Protected health information in a question: find it, so it is flagged and never quoted.

Looks for what identifies a patient: a name given with a date of birth, a
date of birth, an MRN, an SSN, a Medicare Beneficiary Identifier or member
ID. The spans found are removed from anything we quote back; the kinds (never
the values) are recorded on the case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DATE = (
    r"(?:\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{4}-\d{2}-\d{2}|"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.? \d{1,2},? \d{4})"
)
# Medicare Beneficiary Identifier: 11 characters, letters other than S L O I B Z.
_MBI_LETTER = "[AC-HJKMNP-RT-Y]"
_MBI = (
    rf"[1-9]{_MBI_LETTER}[AC-HJKMNP-RT-Y0-9]\d-?{_MBI_LETTER}[AC-HJKMNP-RT-Y0-9]\d-?"
    rf"{_MBI_LETTER}{{2}}\d{{2}}"
)
_NAME = r"[A-Z][a-z'\u2019-]+(?: [A-Z]\.?)?(?: [A-Z][a-z'\u2019-]+){1,2}"

_LABEL = r"\s*[:#-]?\s*"
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "dob",
        re.compile(
            rf"\b(?:DOB|D\.O\.B\.?|date of birth|birth ?date|born(?: on)?){_LABEL}{_DATE}", re.I
        ),
    ),
    (
        "mrn",
        re.compile(
            rf"\b(?:MRN|MR#|medical record(?: number| no\.?| #)?){_LABEL}[A-Z0-9][A-Z0-9-]{{3,}}",
            re.I,
        ),
    ),
    (
        "ssn",
        re.compile(
            rf"\b(?:SSN|social security(?: number| no\.?)?){_LABEL}\d{{3}}-?\d{{2}}-?\d{{4}}\b",
            re.I,
        ),
    ),
    ("ssn", re.compile(r"\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b")),
    ("member_id", re.compile(rf"\b{_MBI}\b")),
    (
        "member_id",
        re.compile(
            r"\b(?:member|subscriber|medicare|medicaid|policy)\s*(?:id|#|number|no\.?)"
            rf"{_LABEL}[A-Z0-9][A-Z0-9-]{{5,}}",
            re.I,
        ),
    ),
    ("patient_name", re.compile(rf"\b(?:patient|pt|name)\s*(?:name)?\s*[:-]\s*{_NAME}", re.I)),
)


@dataclass(frozen=True)
class PhiMatch:
    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class PhiFindings:
    matches: tuple[PhiMatch, ...]

    @property
    def found(self) -> bool:
        return bool(self.matches)

    @property
    def kinds(self) -> list[str]:
        return sorted({m.kind for m in self.matches})


def find_phi(text: str) -> PhiFindings:
    """Every PHI span in ``text``, overlapping spans merged, in order."""
    spans = sorted(
        (m.start(), m.end(), kind) for kind, pattern in PATTERNS for m in pattern.finditer(text)
    )
    merged: list[PhiMatch] = []
    for start, end, kind in spans:
        if merged and start < merged[-1].end:
            last = merged[-1]
            merged[-1] = PhiMatch(last.kind, last.start, max(last.end, end))
        else:
            merged.append(PhiMatch(kind, start, end))
    return PhiFindings(tuple(merged))


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
