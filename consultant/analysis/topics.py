"""What a question is about, in the fixed vocabulary of ``model.TOPICS``.

The topics pick the facts and the template partials of the draft, so each one
fires on what a coder would say about it, and on what was found: a modifier
named makes the question about modifiers (units only when asked about); 78 or 79
about the global period; an E/M code (99202-99499) or modifier 25 about E/M;
GA, GY or GZ about coverage; two different codes offered as alternatives
("is it 93010 or 93000-26?") about choosing the code. Plain mentions do not:
"Dx M23.221" names a diagnosis but asks nothing about diagnosis coding, and
"bill 99213-25 with 11102" is a modifier-25 question, not a bundling one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import pairwise

from consultant.analysis.codes import Mention
from consultant.analysis.model import TOPICS
from consultant.analysis.wording import Phrases, Wording
from consultant.codes.systems import System

_WORDS: dict[str, Phrases] = {
    "ncci": Phrases.of(
        "ncci, cci, ptp, procedure-to-procedure, procedure to procedure, bundl*, unbundl*, "
        "mutually exclusive, same day, same-day, same date, same session, same encounter, "
        "billed together, billed with, column 1, column 2, column one, column two"
    ),
    "modifier": Phrases.of("modifier, modifiers"),
    # Asked about units, not units mentioned: "billed J1100 x 10 units, do we need JW?" is not.
    "mue": Phrases.of(
        "mue, mues, medically unlikely, how many units, how many uos, number of units, "
        "units allowed, allowed units, max units, maximum units, unit limit, units limit, "
        "too many units, units denied, units per day, units per date, per day limit, "
        "units of service, more than one unit, more units"
    ),
    "global": Phrases.of(
        "global, post-op, postop, post-operative, postoperative, post operative, pre-op, "
        "preop, preoperative, pre-operative"
    ),
    "addon": Phrases.of(
        "add-on, addon, add on code, primary code, primary codes, primary procedure, "
        "primary procedures, primary service"
    ),
    "em": Phrases.of(
        "e/m, e&m, em level, evaluation and management, visit, visits, prolonged, mdm, "
        "medical decision making, medical decision-making, new patient, established patient, "
        "level 1, level 2, level 3, level 4, level 5, time-based, time based, total time"
    ),
    "diagnosis": Phrases.of(
        "sequenc*, first-listed, first listed, excludes, excludes1, excludes2, excludes 1, "
        "excludes 2, present on admission, poa, principal diagnosis, principal dx, "
        "primary diagnosis, primary dx, secondary diagnosis, secondary dx, code first, "
        "code also, use additional, 7th character, seventh character, placeholder, "
        "manifestation, etiology, valid diagnosis, invalid diagnosis, billable diagnosis, "
        "non-billable, nonbillable, header code, specificity, coded first, listed first, "
        "go first, goes first, put first, reported first, sequenced first, icd-10 guidelines, "
        "icd-10-cm guidelines, coding guidelines, official guidelines"
    ),
    "coverage": Phrases.of(
        "cover, covers, covered, coverage, non-covered, noncovered, medical necessity, "
        "medically necessary, frequency, how often, abn, advance beneficiary, lcd, lcds, ncd, "
        "ncds, once per, once every, per year, every year, every two years, once a year, "
        "once a day, once in a lifetime"
    ),
    "crosswalk": Phrases.of(
        "crosswalk, cross-walk, cross walk, diagnosis pointer, diagnosis pointers, dx pointer, "
        "dx pointers, diagnosis to support, dx to support, diagnosis that supports, "
        "diagnoses that support, supporting diagnosis, diagnosis to justify, "
        "covered diagnosis, covered diagnoses, diagnosis linked, link the diagnosis, "
        "pair the diagnosis"
    ),
    "code_selection": Phrases.of(
        "which code, which codes, what code, what codes, which cpt, what cpt, which hcpcs, "
        "what hcpcs, which icd-10, which icd, what icd-10, what icd, which diagnosis code, "
        "what diagnosis code, which procedure code, correct code, right code, proper code, "
        "appropriate code, best code, correct cpt, right cpt, correct diagnosis, "
        "right diagnosis, correct procedure code, how to code, how do i code, how do we code, "
        "how should i code, how should we code, how would you code"
    ),
}
# "which diagnosis goes with 20610", "what dx for a 93000": pairing a diagnosis with a procedure.
_WHICH_DIAGNOSIS = re.compile(
    r" (?:which|what) (?:diagnosis|diagnoses|dx|icd-10|icd)(?: codes?)? (?:\S+ ){0,4}?"
    r"(?:with|for|supports?|justif\S*|goes|go|pairs?|links?) "
)

_GLOBAL_MODIFIERS = frozenset({"24", "54", "55", "56", "57", "58", "78", "79"})
_COVERAGE_MODIFIERS = frozenset({"GA", "GY", "GZ"})
_EM_RANGE = (99202, 99499)

# Between two codes offered as alternatives: "93010 or 93000-26", "47562 vs 47563".
_ALTERNATIVE = re.compile(r"(?:[-\u2013][0-9A-Z]{2})*\s*,?\s*(?:or|vs\.?|versus)\s+", re.I)
_IS_BEFORE = re.compile(r"(?i:\bis)\s+\Z")
_RIGHT_AFTER = re.compile(r"\s+(?:the\s+)?(?:correct|right|appropriate|proper)\b", re.I)
_FIRST_AFTER = re.compile(r"\s+(?:first|primary|secondary|principal)\b", re.I)
_ADDON_MARK = re.compile(r"\+\s?\Z")


def _offers_alternatives(text: str, mentions: Sequence[Mention]) -> bool:
    """Whether two different codes are offered ("is it X or Y", "X vs Y"), or one is queried."""
    for left, right in pairwise(mentions):
        if left.code != right.code and _ALTERNATIVE.fullmatch(text, left.end, right.start):
            return True
    return any(
        _IS_BEFORE.search(text, max(0, m.start - 6), m.start) and _RIGHT_AFTER.match(text, m.end)
        for m in mentions
    )


def _is_em(mention: Mention) -> bool:
    return (
        mention.system == System.CPT
        and mention.code.isdigit()
        and _EM_RANGE[0] <= int(mention.code) <= _EM_RANGE[1]
    )


def _from_findings(text: str, mentions: Sequence[Mention], modifiers: Sequence[str]) -> set[str]:
    named = set(modifiers)
    found = {
        "modifier": bool(named),
        "global": bool(named & _GLOBAL_MODIFIERS),
        "coverage": bool(named & _COVERAGE_MODIFIERS),
        "em": "25" in named or any(_is_em(m) for m in mentions),
        "diagnosis": any(
            m.system == System.ICD10CM and _FIRST_AFTER.match(text, m.end) for m in mentions
        ),
        "addon": any(_ADDON_MARK.search(text, max(0, m.start - 2), m.start) for m in mentions),
        "code_selection": _offers_alternatives(text, mentions),
    }
    return {topic for topic, yes in found.items() if yes}


def find_topics(
    text: str,
    mentions: Sequence[Mention],
    modifiers: Sequence[str],
    wording: Wording | None = None,
) -> tuple[str, ...]:
    """The topics of the question, in the order of ``TOPICS`` (``wording``: of ``text``)."""
    wording = wording or Wording.of(text)
    topics = _from_findings(text, mentions, modifiers)
    topics.update(topic for topic, phrases in _WORDS.items() if phrases.found_in(wording))
    asks_which = "which" in wording.words or "what" in wording.words
    if "crosswalk" not in topics and asks_which and _WHICH_DIAGNOSIS.search(wording.joined):
        topics.add("crosswalk")
    return tuple(topic for topic in TOPICS if topic in topics)
