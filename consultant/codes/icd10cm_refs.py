"""The codes an ICD-10-CM instructional note names, and whether a given code is among them.

Notes name codes for people, in a handful of forms: a code or category
(``(R73.9)``, ``(E10.-)``, ``(O24.4-)``), a range (``(E08-E13)``,
``(I70.2--I70.7-)``, ``S06.1- to S06.6-``), lists of these, and sometimes a
condition after ``with``: a character in a position (``with 7th character
B``, ``with fifth character 1``), the part after the dot (``with .44``,
``with .51-.52``), the final characters (``with final characters -23``), or
words of the title (``with ketoacidosis``, ``with open fracture 7th
character``), matched against the code's description.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# A code as notes write it: a letter, then a digit (or QA0's letter and digit), then more.
_REF = re.compile(r"(?<![A-Za-z0-9])[A-Z](?:\d[0-9A-Z]|[A-Z]\d)(?:\.[0-9A-Z]*)?(?:\.?-)?")
_RANGE_GAP = re.compile(r"\s*(?:-{1,2}|to)?\s*")
_POSITION = re.compile(
    r"(?:(\d)(?:st|nd|rd|th)|(fourth|fifth|sixth|seventh))(?: to \S+)?[- ]characters? "
    r"\.?([0-9A-Z]+(?:(?:,| or) [0-9A-Z]+)*)\b",
    re.IGNORECASE,
)
_TAIL = re.compile(r"^with (\.[0-9A-Z]+)(?:-(\.[0-9A-Z]+)|-)?")
_FINAL = re.compile(r"final characters? -?([0-9A-Z]+)", re.IGNORECASE)
_CHARACTER_WORDS = re.compile(r"\b(?:7th|seventh) character\b", re.IGNORECASE)
_POSITION_WORDS = {"fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7}


@dataclass(frozen=True)
class Condition:
    """What the ``with ...`` after a reference asks of a code."""

    position: int = 0  # 1-based, in the code without its dot
    values: tuple[str, ...] = ()
    tail_low: str = ""  # the part from the dot: ".51"
    tail_high: str = ""
    final: str = ""
    words: str = ""

    def holds(self, code: str, description: str) -> bool:
        bare = code.replace(".", "")
        if self.position:
            start = self.position - 1
            return any(bare[start : start + len(v)] == v for v in self.values)
        if self.tail_low:
            tail = code[3:]
            return self.tail_low <= tail[: len(self.tail_low)] and (
                tail[: len(self.tail_high)] <= self.tail_high
            )
        if self.final:
            return bare.endswith(self.final)
        return self.words in description.lower()


@dataclass(frozen=True)
class Reference:
    """Codes a note names: ``low`` to ``high`` (equal for one code or category)."""

    text: str
    low: str
    high: str
    condition: Condition | None = None

    def matches(self, code: str, description: str = "") -> bool:
        """Whether ``code`` (with its dot) is one of the codes named."""
        named = code[: len(self.low)] >= self.low and code[: len(self.high)] <= self.high
        return named and (self.condition is None or self.condition.holds(code, description))


def _stem(text: str) -> str:
    return text.rstrip("-.")


def _condition(text: str) -> Condition | None:
    text = text.strip(" ,;:")
    if not text.lower().startswith("with"):
        return None
    if position := _POSITION.search(text):
        where = int(position[1]) if position[1] else _POSITION_WORDS[position[2].lower()]
        return Condition(position=where, values=tuple(re.split(r",? or |, ", position[3])))
    if tail := _TAIL.match(text):
        return Condition(tail_low=tail[1], tail_high=tail[2] or tail[1])
    if final := _FINAL.search(text):
        return Condition(final=final[1])
    words = " ".join(_CHARACTER_WORDS.sub("", text[4:]).split()).lower()
    return Condition(words=words) if words else None


def _group(text: str) -> list[Reference]:
    """The references in one parenthesis (or one note without any)."""
    found = list(_REF.finditer(text))
    condition = _condition(text[found[-1].end() :])
    references, index = [], 0
    while index < len(found):
        first = found[index]
        following = found[index + 1] if index + 1 < len(found) else None
        if following and _RANGE_GAP.fullmatch(text[first.end() : following.start()]):
            written = text[first.start() : following.end()]
            references.append(Reference(written, _stem(first[0]), _stem(following[0]), condition))
            index += 2
        else:
            references.append(Reference(first[0], _stem(first[0]), _stem(first[0]), condition))
            index += 1
    return references


@lru_cache(maxsize=4096)
def references(note: str) -> tuple[Reference, ...]:
    """Every code reference in ``note``: those in parentheses, else those in the text."""
    groups = [g for g in re.findall(r"\(([^()]*)\)", note) if _REF.search(g)]
    if not groups and _REF.search(note):
        groups = [note]
    return tuple(reference for group in groups for reference in _group(group))
