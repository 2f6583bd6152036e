"""Modifiers named in a question, however written, and the code each is tied to.

Coders write modifiers many ways: attached to a code (``99213-25``,
``66984-RT``, ``97110 GP KX``), after the word (``modifier 59``, ``mod XS``,
``modifiers 78 or 79``), before it (``the KX modifier``), alone with a hyphen
(``-59``), after "with" (``66984 with 50``), or as a list (``RT/LT``,
``59 or XS``, ``JW or JZ``). A bare two-character token is taken only where
the text makes it a modifier: numbers such as 25 or 50 are everywhere in
prose, and uppercase pairs such as GO or PO are words or abbreviations too.
So a token counts when it is attached to a code, follows or precedes the word
"modifier", follows "with" or a lone hyphen, is one of the few that mean
nothing else (XS, KX, JW...), is listed with one that already counts, or
follows a word that puts a modifier on a claim ("append 79 to 20610", "use GT
instead of 95", "the 25 when", "is it 58 or 78?", "plus PT?", "physical status
P3") and ends its phrase (so "add 25 units" and "the 50 states" stay numbers).

The built-in list (``_CPT`` and ``_HCPCS`` below):

- CPT: the two-digit modifiers of Appendix A of the CPT code book (numbers only,
  no AMA text): 22 23 24 25 26 27 32 33 47 50-59 62 63 66 73 74 76-82 90-93
  95-97 99, and the anaesthesia physical status modifiers P1-P6.
- HCPCS Level II, the ones coders name most: XE XP XS XU (distinct service);
  E1-E4 FA F1-F9 TA T1-T9 LT RT LC LD LM RC RI (anatomic; NCCI-associated
  with 24 25 57 58 78 79 27 59 91); GP GO GN KX CO CQ (therapy); JW JZ JG TB
  JA JB KO (drugs); GA GX GY GZ (liability notices); GT FQ FR (telehealth); FS FT
  (split/shared and unrelated E/M); PO PN
  (off-campus departments); PT (screening turned diagnostic); QW (CLIA-waived test); GC GE (teaching
  physicians); QK QS QX QY QZ (anaesthesia); NU KH KI KJ KS (DME); TC
  (technical component); FX FY (x-ray); Q7 Q8 Q9 (foot care class findings); GH GV GW Q5
  Q6 SG.

Source: every HCPCS one is in CMS's 2020 HCPCS Level II modifier file
(``../shared/data/cms/HCPCS2020_level2_modifiers_derived.tsv``) except those
CMS added since: FQ, FR (telehealth), FS (split/shared E/M), FT (an unrelated
E/M in a global period) and JZ (no drug wasted); a test checks it. Left out on purpose, because in
clinical prose they are mostly abbreviations: AS, AI, AA, CR, CS, ET, PD, RR,
SA, UE ("RT UE", right upper extremity, is not two modifiers). Those and every
other HCPCS modifier are still accepted where the text says they are one
(hyphenated to a code, or after "modifier") and the caller's ``known``
predicate answers yes to ``(MODIFIER_SYSTEM, code)`` from the loaded data, or in
a table's modifier column before one we ship ("01402   AA P3"). In a message
about modifiers a few that are no word or abbreviation count alone too ("or
has GT come back?"), and so does one weighed ("Is 59 better for Aetna?").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import pairwise

from consultant.analysis.codes import Mention
from consultant.analysis.model import Known
from consultant.codes.systems import System

# The ``system`` a caller's ``known`` predicate is asked about for a modifier.
MODIFIER_SYSTEM = "modifier"

_CPT = (
    "22 23 24 25 26 27 32 33 47 50 51 52 53 54 55 56 57 58 59 62 63 66 73 74 76 77 78 79 "
    "80 81 82 90 91 92 93 95 96 97 99 P1 P2 P3 P4 P5 P6"
)
_HCPCS = (
    "CO CQ E1 E2 E3 E4 F1 F2 F3 F4 F5 F6 F7 F8 F9 FA FQ FR FS FT FX FY GA GC GE GH GN "
    "GO GP GT GV GW GX GY GZ JA JB JG JW JZ KH KI KJ KO KS KX LC LD LM LT NU PN PO Q5 "
    "Q6 Q7 Q8 Q9 QK QS QW QX QY QZ RC PT RI RT SG T1 T2 T3 T4 T5 T6 T7 T8 T9 TA TB TC "
    "XE XP XS XU"
)
# Two letters that mean a modifier even written alone in a sentence.
_UNAMBIGUOUS = "XE XP XS XU JW JZ KX GA GY GZ GP GN QW TC"
CPT_MODIFIERS = frozenset(_CPT.split())
HCPCS_MODIFIERS = frozenset(_HCPCS.split())
MODIFIERS = CPT_MODIFIERS | HCPCS_MODIFIERS
UNAMBIGUOUS = frozenset(_UNAMBIGUOUS.split())
# In a message about modifiers these count alone too: no word or abbreviation is written so
# ("do we use 95, or has GT come back?"). FR and FT are not here: "14 FR", "5 FT".
_SAFE_IN_CONTEXT = frozenset(["GT", "FQ", "GC", "QK", "QX", "QY", "QZ", "JG", "JA", "JB", "KO"])
# Written in lower case ("mod xs"), only these are surely modifiers: "go", "co", "po" are words.
_SAFE_IN_LOWER_CASE = UNAMBIGUOUS | {"LT", "RT"}
_HYPHENS = "-\u2013"  # hyphen-minus and en dash
_PROCEDURE_SYSTEMS = (System.CPT, System.HCPCS)

# A two-character token in upper case or digits, not part of a word, number or date.
# "T1/T2" and "59/XS" are lists; "10/25" is a date, "12:50" a time.
_TOKEN = re.compile(
    r"(?<![\w.$€£])(?<!\d:)(?:(?<!\d/)|(?<=[A-Z]\d/)|(?=[A-Z]{2}))(?:\d{2}|[A-Z][0-9A-Z])"
    r"(?![\w%]|[.,:/-]\d)"
)
_KEYWORD_BEFORE = re.compile(r"(?i:\bmod(?:ifier)?s?)\.?\s*:?\s*#?\s*\Z")
_KEYWORD_AFTER = re.compile(r"\s+(?i:mod(?:ifier)?s?)\b")
_WITH_BEFORE = re.compile(r"(?i:\bwith(?:\s+(?:an?|the))?)\s+\Z")
# Words that put a modifier on a claim, and what may follow the modifier after them.
_CUE_BEFORE = re.compile(
    r"(?i:\b(?:append(?:ed|ing)?|add(?:ed|ing)?|use|using|plus|attach(?:ed|ing)?|is\s+it|"
    r"the|physical\s+status))\s+\Z"
)
# ", or 58?", "and KS for non-insulin" once a modifier was named
_OR_BEFORE = re.compile(r"(?i:\b(?:or|and))\s+\Z")
# In a message about modifiers, words that ask about one more ("do we need 25 on the E/M?",
# "is that 78 or 79?", "put PT on the 45385", "just 59 on the second line", "not 76?").
_CONTEXT_CUE_BEFORE = re.compile(
    r"(?i:\b(?:be|need|needs|put|puts|get|gets|that|just|not|would|want|wants|take|takes|"
    r"apply|applies|report|bill|think|does\s+it\s+need))\s+\Z"
)
# ... or are weighed: "Is 59 better for Aetna?"
IS_BEFORE = re.compile(r"(?i:\bis)\s+\Z")  # also for a code weighed (``topics``)
_BETTER_AFTER = re.compile(r"\s+(?i:(?:the\s+)?(?:better|right|correct)|enough|appropriate|what)\b")
# ... or open a sentence with the reason: "58 because it was staged, or 79?"
_SENTENCE_START = re.compile(r"(?:\A|[.?!]\s+|\n\s*)\Z")
_REASON_AFTER = re.compile(r"\s+(?i:because|since)\b")
# ... or end in a question: "76 maybe?", "59 or 51?".
# ... or put it on what was just said: "still in the 90-day global - 79 on that?"
_ON_IT_AFTER = re.compile(r"\s+(?i:on|to)\s+(?i:that|this|it)\s*\?")
_QUESTION_AFTER = re.compile(r"\s*(?i:maybe|perhaps|instead)?\s*\?")
# After such a word, a question or a code it goes on settles it in any message:
# "does it need 59?", "need 59 or 51?", "put PT on the 45385".
_SETTLED_AFTER = re.compile(
    r"\s*(?:(?i:or)\s+[0-9A-Z]{2}\s*)?(?i:somewhere|here|too|also|as well|at all)?\s*\?"
    r"|\s+(?i:on|to)\s+(?:the\s+)?(?:[A-Z]{2,3}\s+)?"
    r"(?:\d{5}\b|[A-Z]\d{4}\b|(?i:e/m|e&m|visit|second|other|first))"
)
# A message about modifiers: the word, or the things modifiers are asked about.
_MODIFIER_CONTEXT = re.compile(
    r"(?i:\bmod(?:ifier)?s?\b|\bbundl|\bncci\b|\bptp\b|\bedits?\b|\bglobal\b|\bpost-?op|"
    r"\bbypass|\be/m\b|\be&m\b|\bsame (?:day|session|date)\b|\bden(?:ied|ial|y)\b|"
    r"\breturn(?:ed)? to the or\b|\brepeat|\bassist|\bbilateral\b|\bdistinct\b|\bseparate\b|"
    r"\bsurgeon\b|\bsurgery\b)"
)
_CUE_ENDS = re.compile(
    r"\s*(?:[?.,;:!)]|\Z|\n|"
    r"(?i:or|and|instead|rather|to|on|for|when|if|since|because|here|modifiers?|mod|fix|fixes|"
    r"fits?|works?|bypass(?:es)?)\b)"
)
# A number after "with" is a modifier only where nothing follows it ("with 50?"), not
# in "with 50 patients".
_ENDS_PHRASE = re.compile(r"\s*(?:[?.,;:!)]|\Z|\n|(?i:or|and|on the|modifiers?|mod)\b)")
# What may join the items of a list of modifiers.
_JOINER = r"\s*(?:[,/&+]|(?i:and/or|and|or|vs\.?|versus|instead of|rather than|then|plus))\s*"
_JOIN = re.compile(_JOINER)
_SPACE = re.compile(r"[ \t]+")
# A two-character token joined to the one before or after it, as in a list.
_LISTED_BEFORE = re.compile(rf"\b[0-9A-Z]{{2}}{_JOINER}\Z")
_LISTED_AFTER = re.compile(rf"{_JOINER}[0-9A-Z]{{2}}\b")
# A state before its zip code ("Atlanta, GA 30301") is not modifier GA.
_ZIP_AFTER = re.compile(r"\s+\d{5}(?:-\d{4})?\b")
_CITY_BEFORE = re.compile(r"(?:,|\b[A-Z][a-z]+)\s*\Z")

# What follows a modifier the data knows but we do not ship, for it to count after a code.
_NEXT_TOKEN = re.compile(r"(?P<gap>[ \t]{2,}|\t)|[ \t]*[-/]?[ \t]*(?P<mm>[0-9A-Z]{2})(?!\w)")
# Modifiers written right after a code: "-25", "-RT", " GP", then "-59", "/LT", " KX".
# In a table a modifier column may hold digits: "29877   59 LT", "| 93458 | 26 |".
# A table cell between pipes: "| 93458 | 26 |".
_PIPED = r"|[ \t]*\|[ \t]*(?P<piped>\d{2}|[A-Z][0-9A-Z])(?=[ \t]*\|)"
_ATTACHED = re.compile(
    r"[ \t]*[-\u2013][ \t]*(?P<hyphen>[0-9A-Za-z]{2})(?!\w)|[ \t]+(?P<spaced>[A-Z][0-9A-Z])(?!\w)"
    r"|(?:[ \t]{2,}|\t)(?P<column>\d{2})(?=[ \t]+[A-Z][0-9A-Z]\b|[ \t]{2,}|\t)" + _PIPED
)
_ATTACHED_MORE = re.compile(
    r"[ \t]*[-\u2013/][ \t]*(?P<hyphen>[0-9A-Za-z]{2})(?!\w)"
    r"|[ \t]*(?:,|\bor\b|\band\b)?[ \t]*(?P<spaced>[A-Z][0-9A-Z])(?!\w)"
    r"|[ \t]+(?P<column>\d{2})(?=[ \t]{2,}|[ \t]+[A-Z][0-9A-Z]\b)" + _PIPED
)
# "66984 with 50", "66984-LT with modifier 79", "J1100 with the JW modifier".
_WITH_AFTER_CODE = re.compile(
    r"\s+(?:with|w/)\s+(?:(?:an?|the)\s+)?(?P<keyword>mod(?:ifier)?s?\b\.?\s*)?"
    r"(?P<mm>[0-9A-Za-z]{2})(?!\w)",
    re.I,
)
# After "modifier 59": "... on 29877", "... to the CPT 29877".
_ON_CODE = re.compile(r"\s+(?:on|to|for|with)\s+(?:(?:the|code|cpt|hcpcs)\s+)*", re.I)
_KEYWORD_LIST = re.compile(
    r"mod(?<![a-z]mod)(?:ifier)?s?\b\.?\s*:?\s*#?\s*(?P<mm>[0-9a-z]{2})(?!\w)", re.I
)


@dataclass
class ModifierFindings:
    """Every modifier named, in order, and those tied to a code (by mention index)."""

    named: list[str] = field(default_factory=list)
    tied: dict[int, list[str]] = field(default_factory=dict)


def _valid(mm: str, known: Known | None) -> bool:
    """A modifier we ship, or (written in capitals) one the loaded data knows."""
    if not (mm.isupper() or mm.isdigit()):
        return mm.upper() in _SAFE_IN_LOWER_CASE
    return mm in MODIFIERS or (known is not None and known(MODIFIER_SYSTEM, mm))


@dataclass
class _Collector:
    known: Known | None
    at: dict[int, tuple[int, str]] = field(default_factory=dict)  # start -> (end, modifier)
    tied: dict[int, list[str]] = field(default_factory=dict)

    def add(self, start: int, end: int, mm: str, mention: int | None = None) -> None:
        self.at[start] = (end, mm.upper())
        if mention is not None:
            ties = self.tied.setdefault(mention, [])
            if mm.upper() not in ties:
                ties.append(mm.upper())


def _attached(text: str, mentions: list[Mention], found: _Collector) -> None:
    """Modifiers written on a code, and those the code is said to be billed "with"."""
    for index, mention in enumerate(mentions):
        if mention.system not in _PROCEDURE_SYSTEMS:
            continue
        position, pattern = mention.end, _ATTACHED
        while match := pattern.match(text, position):
            group = next(g for g in ("hyphen", "spaced", "column", "piped") if match.group(g))
            mm = match.group(group)
            if not (
                _valid(mm, found.known)
                if group == "hyphen"
                else mm in MODIFIERS
                or (group == "spaced" and _next_listed(text, match) and _valid(mm, found.known))
            ):
                break
            found.add(*match.span(group), mm, index)
            position, pattern = match.end(), _ATTACHED_MORE
        match = _WITH_AFTER_CODE.match(text, position)
        if match is None:
            continue
        mm = match.group("mm")
        if _valid(mm, found.known) and (
            match.group("keyword") is not None
            or (mm.isdigit() and _ENDS_PHRASE.match(text, match.end()))
            or (mm.isupper() and not mm.isdigit())
        ):
            found.add(*match.span("mm"), mm, index)


def _next_listed(text: str, match: re.Match[str]) -> bool:
    """Whether a modifier we ship, or a table's column gap, follows: "01402   AA P3"."""
    after = _NEXT_TOKEN.match(text, match.end())
    return after is not None and (after.group("gap") is not None or after.group("mm") in MODIFIERS)


def _after_keyword(text: str, mentions: list[Mention], found: _Collector) -> None:
    """After the word: "modifier 59", "mod xs"; tied to the code it is put "on", if any."""
    starts = {m.start: i for i, m in enumerate(mentions)}
    for match in _KEYWORD_LIST.finditer(text):
        mm = match.group("mm")
        if not _valid(mm, found.known):
            continue
        on = _ON_CODE.match(text, match.end())
        found.add(*match.span("mm"), mm, starts.get(on.end()) if on else None)


def _is_state(text: str, start: int, end: int) -> bool:
    return bool(
        _ZIP_AFTER.match(text, end) and _CITY_BEFORE.search(text, max(0, start - 30), start)
    )


def _standing_alone(text: str, found: _Collector) -> list[tuple[int, int, str]]:
    """Tokens that count on their own; returns the rest, which may join a list.

    In a message about modifiers (the word, or one already found) a token also counts
    after a word that asks about one more, or when it ends a question.
    """
    context = bool(found.at) or _MODIFIER_CONTEXT.search(text) is not None
    waiting = []
    for match in _TOKEN.finditer(text):
        start, end = match.span()
        mm = match.group()
        context = context or bool(found.at)  # "is it QK on the MD line and QX on the CRNA line"
        if start in found.at or _is_state(text, start, end):
            continue
        if mm not in MODIFIERS:
            if _asked_for(text, start, end, mm, found.known):
                found.add(start, end, mm)
            elif not mm.isdigit() and _in_a_list(text, start, end) and _valid(mm, found.known):
                waiting.append((start, end, mm))  # counts if listed with one: "QS and G8"
            continue
        hyphen = start > 0 and text[start - 1] in _HYPHENS
        lone_hyphen = hyphen and (
            start < 2 or not (text[start - 2].isalnum() or text[start - 2] in _HYPHENS)
        )
        after_with = _WITH_BEFORE.search(text, max(0, start - 12), start) is not None
        cued = _CUE_ENDS.match(text, end) is not None and (
            _CUE_BEFORE.search(text, max(0, start - 20), start) is not None
            or (any(s < start for s in found.at) and _OR_BEFORE.search(text, start - 4, start))
        )
        cue_word = _CONTEXT_CUE_BEFORE.search(text, max(0, start - 20), start) is not None
        asked = (cue_word and _SETTLED_AFTER.match(text, end) is not None) or (
            context
            and (
                (cue_word and _CUE_ENDS.match(text, end) is not None)
                or _QUESTION_AFTER.match(text, end) is not None
                or _ON_IT_AFTER.match(text, end) is not None
                or mm in _SAFE_IN_CONTEXT
                or (
                    _SENTENCE_START.search(text, max(0, start - 3), start) is not None
                    and _REASON_AFTER.match(text, end) is not None
                )
                or (
                    IS_BEFORE.search(text, max(0, start - 4), start) is not None
                    and _BETTER_AFTER.match(text, end) is not None
                )
            )
        )
        if (
            cued
            or asked
            or mm in UNAMBIGUOUS
            or lone_hyphen
            or _KEYWORD_BEFORE.search(text, max(0, start - 14), start)
            or _KEYWORD_AFTER.match(text, end)
            or (after_with and (not mm.isdigit() or _ENDS_PHRASE.match(text, end)))
        ):
            found.add(start, end, mm)
        elif not hyphen:
            waiting.append((start, end, mm))
    return waiting


def _in_a_list(text: str, start: int, end: int) -> bool:
    """Whether a token stands in a list of two-character tokens: only then is the data asked
    about it (a message in capitals holds hundreds of "IN", "ON", "AT")."""
    return (
        _LISTED_BEFORE.search(text, max(0, start - 16), start) is not None
        or _LISTED_AFTER.match(text, end) is not None
    )


def _asked_for(text: str, start: int, end: int, mm: str, known: Known | None) -> bool:
    """A modifier we do not ship, asked for in so many words ("do we need GG?", "do we
    append PI?", "the GG modifier") and known to the loaded data."""
    if mm.isdigit() or known is None:
        return False
    window = max(0, start - 20)
    cued = (
        _CONTEXT_CUE_BEFORE.search(text, window, start) or _CUE_BEFORE.search(text, window, start)
    ) and _SETTLED_AFTER.match(text, end)
    named = _KEYWORD_BEFORE.search(text, max(0, start - 14), start) or _KEYWORD_AFTER.match(
        text, end
    )
    return bool(cued or named) and _valid(mm, known)


def _joined(text: str, left: tuple[int, int, str], right: tuple[int, int, str]) -> bool:
    """Whether two tokens are items of one list: numbers need a word or sign between them."""
    if _JOIN.fullmatch(text, left[1], right[0]):
        return True
    both_letters = not left[2].isdigit() and not right[2].isdigit()
    return both_letters and _SPACE.fullmatch(text, left[1], right[0]) is not None


def _lists(text: str, waiting: list[tuple[int, int, str]], found: _Collector) -> None:
    """Tokens listed with a modifier that counts ("59 or XS"), and lists of letter pairs."""
    tokens = sorted([(s, e, mm) for s, (e, mm) in found.at.items()] + waiting)
    counted = {s for s in found.at}
    for left, right in pairwise(tokens):
        if _joined(text, left, right) and not left[2].isdigit() and not right[2].isdigit():
            counted.update((left[0], right[0]))
    changed = True
    while changed:
        changed = False
        for left, right in pairwise(tokens):
            if (left[0] in counted) != (right[0] in counted) and _joined(text, left, right):
                counted.update((left[0], right[0]))
                changed = True
    for start, end, mm in waiting:
        if start in counted:
            found.add(start, end, mm)


def find_modifiers(
    text: str, mentions: list[Mention], known: Known | None = None
) -> ModifierFindings:
    """Every modifier named in ``text`` (in order, once) and the ones tied to each mention."""
    found = _Collector(known)
    _attached(text, mentions, found)
    _after_keyword(text, mentions, found)
    _lists(text, _standing_alone(text, found), found)
    named = list(dict.fromkeys(mm for _, (_, mm) in sorted(found.at.items())))
    return ModifierFindings(named, found.tied)
