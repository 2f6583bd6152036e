"""Units of service a question names, and the code each count belongs to.

The facts compare these counts with the MUE of the code, so a count is tied to
a code only where the text says so: "4 units of J1885", "J1885 4 units",
"20610 x 2", "units for 27447 were reduced from 4 to 1". A count with no code
("40 units") is kept untied. Doses ("10 mg") are not units; "x 3" is read only
right after a code, since elsewhere it is as often a size ("3 x 4 cm").
"""

from __future__ import annotations

import re

from consultant.analysis.codes import Mention
from consultant.analysis.model import Units
from consultant.codes.systems import System

_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "twelve": 12,
}
_COUNT = rf"(?:\d{{1,4}}|{'|'.join(_WORDS)})"
# "3 units", "two units", "1 unit", "3 UOS".
_N_UNITS = re.compile(rf"(?<![\w.,$])(?P<count>{_COUNT})\s*(?:units?|uos)\b", re.I)
# "units for 27447 were reduced from 4 to 1".
_FROM_TO = re.compile(
    r"\bunits?\b[^.?!]{0,60}?\bfrom\s+(?P<before>\d{1,4})\s+to\s+(?P<after>\d{1,4})\b", re.I
)
# What may stand between a code and a count: its modifiers ("20610-RT", "97110 GP KX").
_MODIFIERS_AFTER = r"(?:[ \t]*[-\u2013]?[ \t]*[0-9A-Z]{2}(?!\w))*"
# After a code and its modifiers: "20610-RT x 2", "J1885 x3", "J1885 \u00d7 3".
_TIMES = re.compile(rf"{_MODIFIERS_AFTER}[ \t]*(?P<said>[xX\u00d7][ \t]*(?P<count>\d{{1,3}}))\b")
# Between a count and the code it is of: "4 units of J1885", "2 units for the 96372".
_OF_CODE = re.compile(r"\s+(?:of|for|on)\s+(?:(?:the|code|cpt|hcpcs)\s+)*", re.I)
# Between a code and its count: "J1885 4 units", "96372, 2 units", "J1100-JW x 3 units".
_CODE_THEN_COUNT = re.compile(rf"{_MODIFIERS_AFTER}[ \t]*[,:(-]?[ \t]*(?:[xX\u00d7][ \t]*)?")
_FROM_TO_WORDS = {"before": "from", "after": "to"}


def _count(word: str) -> int:
    return int(word) if word.isdigit() else _WORDS[word.lower()]


def _code_of(text: str, start: int, end: int, mentions: list[Mention]) -> str | None:
    """The code a count at ``text[start:end]`` is said to be of, before or after it."""
    after = _OF_CODE.match(text, end)
    for mention in mentions:
        if after and mention.start == after.end():
            return mention.code
    before = [m for m in mentions if m.end <= start]
    if before and _CODE_THEN_COUNT.fullmatch(text, before[-1].end, start):
        return before[-1].code
    return None


def _counted(text: str, mentions: list[Mention]) -> list[tuple[int, Units]]:
    """Counts said in words: "3 units", "units ... from 4 to 1"."""
    found: list[tuple[int, Units]] = []
    for match in _N_UNITS.finditer(text):
        code = _code_of(text, match.start(), match.end(), mentions)
        found.append(
            (match.start("count"), Units(_count(match.group("count")), code, match.group()))
        )
    for match in _FROM_TO.finditer(text):
        inside = [m.code for m in mentions if match.start() <= m.start < match.end()]
        for group, word in _FROM_TO_WORDS.items():
            said = f"{word} {match.group(group)}"
            found.append(
                (match.start(group), Units(int(match.group(group)), next(iter(inside), None), said))
            )
    return found


def find_units(text: str, mentions: list[Mention]) -> list[Units]:
    """Every count of units in ``text``, in order, with its code where the text ties one.

    Units are of services, so only a procedure or supply code takes a count; a diagnosis
    next to "155 units" leaves the count untied rather than wrongly tied.
    """
    mentions = [m for m in mentions if m.system != System.ICD10CM]
    lowered = text.lower()
    found = _counted(text, mentions) if "unit" in lowered or "uos" in lowered else []
    taken = {start for start, _ in found}
    for mention in mentions:
        match = _TIMES.match(text, mention.end)
        if match and match.start("count") not in taken:
            units = Units(int(match.group("count")), mention.code, match.group("said"))
            found.append((match.start("count"), units))
    return [units for _, units in sorted(found, key=lambda item: item[0])]
