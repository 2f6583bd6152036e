"""Codes named in a question: found by their shape, settled by the words around them.

Shapes overlap. ``J1100`` is HCPCS J1100 or ICD-10-CM J11.00 written without
its dot; ``I10`` is a diagnosis or a model number; ``1234567`` is an
ICD-10-PCS code or a phone number without its dashes. ``systems.candidates``
lists every reading of a token; the choice among them is made, in this order,
by:

1. the nearest keyword before the token in the same sentence ("Dx", "diagnosis",
   "ICD-10", "seen for" point to ICD-10-CM; "CPT", "HCPCS" to a procedure code;
   "PCS" to ICD-10-PCS), or else the code the token is listed with ("Dx E11.9
   and I10");
2. the loaded code data, when the caller passes ``known``: a reading that exists
   beats one that does not;
3. the shape: HCPCS before ICD-10-CM for a letter and four digits; for a
   seven-character token starting with a letter, ICD-10-PCS when it holds a Z
   after its first character (no ICD-10-CM code of such a shape does), else
   ICD-10-CM.

Weak shapes need step 1 or 2 to be taken at all: a three-character category
(``I10``, but also ``B12`` vitamins), a code written in lower case (``e119``),
a seven-digit number (a PCS code, or a phone number). A few tokens that are
usually something else (N95 masks, H1N1, X12) need step 1.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from consultant.analysis.lookalikes import is_lookalike
from consultant.analysis.model import Known
from consultant.analysis.wording import lower_keeping_offsets
from consultant.codes.systems import System, candidates


@dataclass(frozen=True)
class Mention:
    """One place a code is named: its reading and where it stands in the text."""

    system: str
    code: str
    start: int
    end: int


# A code-shaped token: CPT category I (5 digits) or II/III/PLA (4 digits + F/T/U),
# ICD-10-PCS (7 characters with a digit), ICD-10-CM with or without its dot, HCPCS.
_TOKEN = re.compile(
    r"(?<![\w.$€£@\\])(?:"
    r"\d{5}"
    r"|\d{4}[FTUftu]"
    r"|(?=[0-9A-Za-z]{0,6}\d)[0-9BCDFGHXbcdfghx][0-9A-HJ-NP-Za-hj-np-z]{6}"
    r"|[A-Za-z]\d[0-9A-Za-z](?:\.[0-9A-Za-z]{1,4}|[0-9A-Za-z]{1,4})?"
    r")(?![\w@]|[.,]\d)"
)

# Keywords that say which system the codes after them belong to, searched in lower case.
# Each branch starts with a literal and there are no groups, so the regex engine can skip
# ahead to the letters that may start one; word boundaries are checked after a match.
_KEYWORD = re.compile(
    r"icd-?10-?pcs|pcs"
    r"|dx|diagnos[ie]s|diagnosed|diagn[oó]stic[oa]s?|icd(?:-?10)?(?:-?cm)?"
    r"|seen for|treated for|admitted for|present(?:s|ed|ing)? with|history of"
    r"|cpt|hcpcs|procedure codes?|level ii|j-?codes?"
)
_PROCEDURE_KEYWORDS = ("cpt", "hcpcs", "procedure", "level", "j")
_CONTEXT_OF = {
    System.ICD10CM: "diag",
    System.CPT: "proc",
    System.HCPCS: "proc",
    System.ICD10PCS: "pcs",
}
_PREFERS = {
    "diag": (System.ICD10CM,),
    "proc": (System.CPT, System.HCPCS),
    "pcs": (System.ICD10PCS,),
}
_KEYWORD_REACH = 120
_SENTENCE_END = re.compile(r"[.?!](?:\s|$)|\n\s*\n")
# Between two codes of one list: "E11.9, I10", "A41.51 and N39.0", "99213-25 or 99214".
_LIST_GAP = re.compile(
    r"(?:-[0-9A-Z]{2})*[\s,;/&+]*(?:(?:and|or|then|plus|vs\.?|versus)[\s,;/&+]+)*", re.I
)

# Tokens that are usually something else when written alone.
# In a message about a remittance, an undotted N or M and digits is a remark code (RARC).
_REMITTANCE_WORDS = ("remit", "remark", "rarc", "eob", " era ", "835", "carc")
_REMARK_SHAPE = re.compile(r"(?:N|M|MA)\d{2,3}")
_USUALLY_NOT_CODES = frozenset({"H1N1", "H5N1", "N95", "X12", "A1C", "B12", "T12"})


def _keyword_kind(word: str) -> str:
    if word == "pcs" or (word.startswith("icd") and word.endswith("pcs")):
        return "pcs"
    return "proc" if word.startswith(_PROCEDURE_KEYWORDS) else "diag"


def _inside_word(text: str, start: int, end: int) -> bool:
    return (start > 0 and text[start - 1].isalnum()) or (end < len(text) and text[end].isalnum())


@dataclass(frozen=True)
class _Keywords:
    """Where each system keyword ends in the text, and which system it names."""

    ends: list[int]
    kinds: list[str]

    @classmethod
    def of(cls, lowered: str) -> _Keywords:
        ends, kinds = [], []
        for match in _KEYWORD.finditer(lowered):
            start, end = match.span()
            if _inside_word(lowered, start, end):
                continue
            word = match.group()
            ends.append(end)
            kinds.append(_keyword_kind(word))
        return cls(ends, kinds)

    def before(self, text: str, start: int) -> tuple[str, int] | None:
        """(kind, end) of the nearest keyword before ``start`` in the same sentence."""
        index = bisect_right(self.ends, start) - 1
        if index < 0:
            return None
        end = self.ends[index]
        if start - end > _KEYWORD_REACH or _SENTENCE_END.search(text, end, start):
            return None
        return self.kinds[index], end


def _context(text: str, start: int, keywords: _Keywords, previous: Mention | None) -> str | None:
    """Which system the words before ``start`` point to, if any.

    A keyword reaches the codes listed right after it ("Dx E11.9, I10"), not a
    code that follows other words ("Dx E11.9 was billed with J1100").
    """
    keyword = keywords.before(text, start)
    joined = previous is not None and _LIST_GAP.fullmatch(text, previous.end, start)
    if previous is not None and (keyword is None or previous.start > keyword[1]):
        return _CONTEXT_OF[System(previous.system)] if joined else None
    return keyword[0] if keyword else None


def _readings(token: str) -> list[tuple[System, str]]:
    """The readings of ``token`` that its exact shape allows."""
    return [
        (system, code)
        for system, code in candidates(token)
        # Category III and PLA codes all start with 0; ICD-10-CM's second character is a digit.
        if not (system is System.CPT and code[4] in "TU" and code[0] != "0")
        and not (system is System.ICD10CM and not code[1].isdigit())
    ]


def _is_weak(token: str, readings: list[tuple[System, str]]) -> bool:
    bare = token.replace(".", "")
    return (
        (token != token.upper() and "." not in token)
        or (len(bare) == 3 and readings[0][0] is System.ICD10CM)
        or (bare.isdigit() and len(bare) == 7)
    )


def _by_shape(token: str, readings: list[tuple[System, str]]) -> tuple[System, str]:
    """The reading the shape favours: the first, except for a letter-first PCS/CM token."""
    systems = {system for system, _ in readings}
    if {System.ICD10PCS, System.ICD10CM} <= systems and len(token) == 7:
        wanted = System.ICD10PCS if "Z" in token[1:].upper() else System.ICD10CM
        return next(r for r in readings if r[0] is wanted)
    return readings[0]


def _overruled(
    token: str,
    preferred: tuple[System, str],
    readings: list[tuple[System, str]],
    known: Known | None,
) -> bool:
    """Whether the data overrules the words: "dx ... J0897 x 60 units" is the HCPCS drug, as
    there is no ICD-10-CM J08.97. Only a diagnosis reading is overruled so: ICD-10-CM ships
    with the product, so "not in it" is sure, where a HCPCS or CPT file may not be loaded."""
    if (
        known is None
        or preferred[0] is not System.ICD10CM
        or known(System.ICD10CM.value, preferred[1])
    ):
        return False
    # "E11.65, A1c up": a weak shape after a diagnosis is no code the data does not hold.
    return _is_weak(token, readings) or any(
        r != preferred and known(r[0].value, r[1]) for r in readings
    )


def _choose(
    token: str,
    readings: list[tuple[System, str]],
    context: str | None,
    known: Known | None,
) -> tuple[System, str] | None:
    """The reading the context, then the data, then the shape favour; None to skip a token.

    The data is asked only where the shape leaves a doubt (several readings, or a
    weak shape): every call may be a lookup.
    """
    if context is not None:
        preferred = [r for r in readings if r[0] in _PREFERS[context]]
        if preferred and not _overruled(token, preferred[0], readings, known):
            return preferred[0]
    if token.upper() in _USUALLY_NOT_CODES:
        return None
    weak = _is_weak(token, readings)
    if known is not None and (weak or len(readings) > 1):
        existing = [r for r in readings if known(r[0].value, r[1])]
        if existing:
            return _by_shape(token, existing)
    return None if weak else _by_shape(token, readings)


def find_mentions(text: str, known: Known | None = None) -> list[Mention]:
    """Every code named in ``text``, in order, repeats included, with where each stands."""
    lowered = lower_keeping_offsets(text)
    keywords = _Keywords.of(lowered)
    remittance = any(word in lowered for word in _REMITTANCE_WORDS)
    found: list[Mention] = []
    for match in _TOKEN.finditer(text):
        start, end = match.span()
        if is_lookalike(text, start, end):
            continue
        token = match.group()
        readings = _readings(token)
        if not readings:
            continue
        context = _context(text, start, keywords, found[-1] if found else None)
        if remittance and context != "diag" and _REMARK_SHAPE.fullmatch(token):
            continue  # "Remit came back with N362": a remark code, not N36.2
        chosen = _choose(token, readings, context, known)
        if chosen is not None:
            found.append(Mention(chosen[0].value, chosen[1], start, end))
    return found


def unique_codes(mentions: list[Mention]) -> list[tuple[str, str]]:
    """(system, code) of each code once, in order of first appearance."""
    return list(dict.fromkeys((m.system, m.code) for m in mentions))


def find_codes(text: str, known: Known | None = None) -> list[tuple[str, str]]:
    """(system, code) of every code named in ``text``, in order of first appearance."""
    return unique_codes(find_mentions(text, known))
