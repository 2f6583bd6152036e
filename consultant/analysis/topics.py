"""What a question is about, in the fixed vocabulary of ``model.TOPICS``.

The topics pick the template partials of the draft, the queue's filters and
the guidance notes, so each one fires on what the question asks, not on what
it mentions. It fires on the words a coder uses for it, and on the shape of
the question:

- ncci: two services billed together ("billable together", "an edit between",
  "is the counseling part of the insertion?", "same day?"), a PTP bypass
  modifier (XE/XS/XP/XU, or 59 between two procedures). "Same day" in a
  statement is not a question ("both wrists same session, 64721-50?" is a
  bilateral one), nor is modifier 25 on an E/M with a procedure ("bill
  99213-25 with 11102?" asks about the modifier and the E/M).
- mue: units asked about ("how many units", "11045 x how many?", "96 units
  total?", "once per case or per level?"), not units billed.
- global: the global period, 24/54-58/78/79; "bill global" (both components
  of a test) is not.
- addon: an add-on code asked about ("+22614", the words, or, in a sentence
  that asks, a code the loaded add-on edits list as an add-on:
  ``known(ADDON_SYSTEM, code)``). "29880 + 29877" is a sum, not a mark; "90460
  and 90461 with 90707. Any NCCI issues?" asks about bundling.
- em: an E/M code (99202-99499), modifier 25 or the E/M words; a "visit" is
  not one by itself ("same visit", "nurse visit").
- diagnosis: ICD-10-CM coding asked about: sequencing, excludes, 7th
  characters ("S52.521A or D?"), or diagnosis codes put as a question
  ("T81.41XA + L03.311?").
- coverage: coverage, medical necessity, frequency, cost sharing, prior
  authorisation, supervision rules, what a payer accepts, GA/GY/GZ/KX and the
  foot-care Q7-Q9.
- payment: what Medicare pays, as an amount: the allowed amount, the fee
  schedule or lab rate, RVUs and GPCIs, the limiting charge ("what does
  Medicare pay for 71046-26 in Miami?"). Whether it pays at all is coverage.
- crosswalk: which diagnosis supports a procedure: the words, "does R42
  support 93880", a choice of diagnoses when a procedure is named ("M25.561 vs
  M17.11 on the 20610 line?") or which diagnosis goes on which line.
- code_selection: a choice of codes ("47562 + 74300? Or just 47563?", "G2212
  instead of 99417", "drop G0121"), the words ("which code"), a downcoded
  level. A choice among diagnoses alone is code selection and diagnosis; with a
  procedure named it is the crosswalk.

``tests/data/LABELS.md`` holds the same conventions for the labelled set.
"""

from __future__ import annotations

import re
import sys
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from itertools import pairwise
from typing import overload

from consultant.analysis.codes import Mention
from consultant.analysis.model import TOPICS, Known
from consultant.analysis.modifiers import IS_BEFORE
from consultant.analysis.wording import Phrases, Wording
from consultant.codes.systems import System

# ``known(ADDON_SYSTEM, code)``: is ``code`` an add-on code in the loaded add-on edits?
ADDON_SYSTEM = "add-on"

_WORDS: dict[str, Phrases] = {
    "ncci": Phrases.of(
        "ncci, cci, ptp, procedure-to-procedure, procedure to procedure, bundl*, unbundl*, "
        "mutually exclusive, billed together, bill together, billable together, billed with, "
        "billable with, bill both, billed both, both be billed, both billed, both billable, "
        "both be paid, both payable, both pay, pay both, go together, goes together, "
        "included in, included with, is included, are included, part of the, edit between, "
        "edits between, the edit, an edit, this edit, that edit, ncci edit, ptp edit, cci edit, "
        "separately billable, separately payable, bill separately, billed separately, "
        "paid separately, also bill, billed in addition, billed on top, bill on top, "
        "column 1, column 2, column one, column two"
    ),
    # "mod" alone is also a table's column header ("CPT Mod Units").
    "modifier": Phrases.of(
        "modifier, modifiers, what mod, which mod, what mods, which mods, a mod, the mod, "
        "any mod, mod needed"
    ),
    "mue": Phrases.of(
        "mue, mues, medically unlikely, how many units, how many uos, number of units, "
        "units allowed, allowed units, max units, maximum units, unit limit, units limit, "
        "too many units, units denied, units per day, units per date, per day limit, "
        "units of service, more than one unit, more units, x how many"
    ),
    "global": Phrases.of(
        "global, post-op, postop, post-operative, postoperative, post operative, pre-op visit, "
        "preop visit, preoperative visit, pre-operative visit, day before surgery, "
        "day before the surgery, decision for surgery"
    ),
    "addon": Phrases.of(
        "add-on, add-ons, addon, addons, add on code, add on codes, primary code, primary codes, "
        "primary procedure, primary procedures, primary service, each additional, "
        "list separately"
    ),
    "em": Phrases.of(
        "e/m, e&m, em level, evaluation and management, prolonged, mdm, "
        "medical decision making, medical decision-making, new patient visit, "
        "established patient visit, new or established, new vs established, office visit, "
        "office visits, problem visit, sick visit, well visit, wellness visit, post-op visit, "
        "postop visit, preventive visit, visit level, level of the visit, level of visit, "
        "bill the visit, bill this visit, bill a visit, separate visit, consult codes, "
        "consultation codes, critical care, level 1, level 2, level 3, level 4, level 5, "
        "time-based, time based, total time"
    ),
    "diagnosis": Phrases.of(
        "sequencing, sequenced, resequence, sequence the, sequence them, sequence these, "
        "sequence it, sequence for, correct sequence, right sequence, first-listed, first listed, "
        "excludes, excludes1, excludes2, excludes 1, "
        "excludes 2, present on admission, poa, principal diagnosis, principal dx, "
        "primary diagnosis, primary dx, secondary diagnosis, secondary dx, code first, "
        "code also, use additional, 7th character, seventh character, placeholder, "
        "manifestation, etiology, valid diagnosis, invalid diagnosis, billable diagnosis, "
        "non-billable, nonbillable, header code, specificity, coded first, listed first, "
        "go first, goes first, put first, reported first, sequenced first, icd-10 guidelines, "
        "icd-10-cm guidelines, coding guidelines, official guidelines, active treatment, "
        "initial encounter, subsequent encounter, sequela, symptom code, confirmed diagnosis, "
        "confirmed dx, combination code, truncated"
    ),
    "coverage": Phrases.of(
        "is covered, are covered, be covered, not covered, covered by, covered under, "
        "covered for, covered benefit, covered service, covered services, still covered, "
        "coverage, non-covered, noncovered, medical necessity, medically necessary, "
        "frequency, how often, abn, advance beneficiary, lcd, lcds, ncd, ncds, once every, "
        "per year, every year, every two years, once a year, once a day, once in a lifetime, "
        "coinsurance*, co-insurance*, deductible*, copay*, co-pay*, cost sharing, cost-sharing, "
        "patient owe, prior auth*, preauth*, pre-auth*, precert*, supervision, incident to, "
        "incident-to, therapy threshold, kx threshold, their policy, payer policy, "
        "medical policy, coverage policy"
    ),
    "payment": Phrases.of(
        "allowed amount, allowable, allowables, fee schedule amount, fee schedule rate, "
        "reimbursement rate, reimbursement amount, payment amount, payment rate, how much does, "
        "how much will, how much would, how much is, how much do, how much can, how much are, "
        "limiting charge, non-par amount, nonpar amount, non-participating amount, par amount, "
        "national rate, national amount, gpci, gpcis, conversion factor, rvu, rvus, "
        "relative value, clfs rate, lab fee schedule, what does medicare pay, "
        "what will medicare pay, what would medicare pay, what medicare pays, "
        "what does medicare allow, what will medicare allow"
    ),
    "crosswalk": Phrases.of(
        "crosswalk, cross-walk, cross walk, diagnosis pointer, diagnosis pointers, dx pointer, "
        "dx pointers, diagnosis to support, dx to support, diagnosis that supports, "
        "diagnoses that support, supporting diagnosis, diagnosis to justify, "
        "covered diagnosis, covered diagnoses, diagnosis linked, link the diagnosis, "
        "pair the diagnosis, on which line, on which lines, goes on which, go on which, "
        "enough to support, enough to justify, which one supports, which one support"
    ),
    "code_selection": Phrases.of(
        "which code, which codes, what code, what codes, which cpt, what cpt, which hcpcs, "
        "what hcpcs, which icd-10, which icd, what icd-10, what icd, which diagnosis code, "
        "what diagnosis code, which procedure code, correct code, right code, proper code, "
        "appropriate code, best code, correct cpt, right cpt, correct diagnosis, "
        "right diagnosis, correct procedure code, how to code, how do i code, how do we code, "
        "how should i code, how should we code, how would you code, downcod*, "
        "upcod*, down-cod*, which is the initial, which is it"
    ),
}
# "which diagnosis goes with 20610", "what dx for a 93000": pairing a diagnosis with a procedure.
_WHICH_DIAGNOSIS = re.compile(
    r" (?:which|what) (?:diagnosis|diagnoses|dx|icd-10|icd)(?: codes?)? (?:\S+ ){0,4}?"
    r"(?:with|for|supports?|justif\S*|goes|go|pairs?|links?) "
)
# "which admin codes" (but "which primary code does 20930 go with" asks about an add-on),
# "please confirm the order and the PCS codes".
_WHICH_CODES = re.compile(r" (?:which|what) (?!primary )\S+ codes? ")
_CONFIRM_CODES = re.compile(r" confirm (?:the )?(?:\S+ ){0,4}codes? ")
# Words that turn a topic's word into another thing: "bill global" is both components of a
# test, "included in the global" is the global package, not a PTP edit.
_NOT_GLOBAL = re.compile(r" (?:bill|bills|billed|billing|bill it) global | global(?:ly| billing) ")
_GLOBAL_PACKAGE = re.compile(r" (?:included in|part of) the global")
# A payer asked what it does: "does BCBS take G0283", "does Medicare still require", "plans
# that pay consults"; not "what does Medicare pay", an amount.
_PAYER_ASKED = re.compile(
    r"(?<!what )(?<!how much )\b(?:does|do|will|would)\s+"
    r"(?:medicare|medicaid|tricare|bcbs|blue cross|aetna|cigna|humana|uhc|"
    r"united(?:\s?healthcare)?|the payers?|payers?|the plan|their plan|"
    r"commercial(?:\s+payers?|\s+plans?)?|insurance|the insurance)\s+"
    r"(?:(?:even|still|actually|ever|really)\s+)*"
    r"(?:take|accept|recogni[sz]e|pay|cover|allow|require|limit)\b"
    r"|\b(?:plans?|payers?)\s+(?:that|which)\s+(?:pays?|accepts?|recogni[sz]es?|covers?)\b",
    re.I,
)

Spans = list[tuple[int, int]]
# Words one of which a whole-text pattern needs: without them it is not run.
_COVER_WORDS = frozenset({"cover", "covers"})
# "Is 20610 covered with M17.9", "are E0601 and A7030 still covered" (not "exam covered").
_COVERED_ASKED = re.compile(r"\b(?:is|are|be|was|were)\s+(?:\S+\s+){1,5}?covered\b", re.I)
_BILL_WORDS = frozenset({"bill", "billed"})
_PAYER_VERBS = frozenset({"does", "do", "will", "would", "plan", "plans", "payer", "payers"})
_LINE_WORDS = frozenset({"line", "lines", "dx"})
_GLOBAL_MODIFIERS = frozenset({"24", "54", "55", "56", "57", "58", "78", "79"})
_COVERAGE_MODIFIERS = frozenset({"GA", "GY", "GZ", "KX", "Q7", "Q8", "Q9"})
_PTP_MODIFIERS = frozenset({"XE", "XS", "XP", "XU"})
_EM_RANGE = (99202, 99499)
_PROCEDURE_SYSTEMS = frozenset({System.CPT, System.HCPCS})

# Between two codes offered as alternatives: "93010 or 93000-26", "47562 vs 47563",
# "74300? or just 47563", "99214? Or 99213".
_ALTERNATIVE = re.compile(
    r"(?:[-\u2013][0-9A-Z]{2})*(?:\s*x\s*\d+)?\s*\??\s*,?\s*(?:or|vs\.?|versus)\s+"
    r"(?:just\s+|only\s+|the\s+|is it\s+|(?:must|should|do|can|would)\s+(?:we|i)\s+"
    r"(?:use|bill|report|code)\s+)?",
    re.I,
)
_RIGHT_AFTER = re.compile(r"\s+(?:the\s+)?(?:correct|right|appropriate|proper|better)\b", re.I)
# "D63.0 first", "Z12.11 be first", "does the afib, I48.91, go first?"
_FIRST_AFTER = re.compile(
    r",?\s+(?:(?:be|go|goes|is|are|listed|sequenced|come|comes)\s+)?"
    r"(?:first|primary|secondary|principal)\b",
    re.I,
)
# A diagnosis put as a question: "T81.41XA + L03.311?", "Z20.822 only?", "S52.521A or D?"
_ASKED_AFTER = re.compile(
    r"\s*(?:(?:only|too|also|still|instead)\s*)?\?|\s+(?:or|vs\.?)\s+[A-Z]\b(?!\.)"
    r"|\s+(?:the\s+)?only\s+(?:dx|diagnosis)\b"
    r"|\s+(?:is\s+|was\s+)?(?:invalid|truncated|not valid|not billable|non-billable)\b"
)
# "does R42 support 93880", "is M81.0 enough for coverage"
_SUPPORTS_AFTER = re.compile(r",?\s+(?:\w+\s+)?(?:supports?|enough|sufficient|justif\w*)\b", re.I)
# "on the 20610 line", "on the admin lines", "Dx on the 99406"
_ON_LINE = re.compile(r"\bon (?:the|each|which|both) (?:\S+ )?lines?\b|\bdx on the\b", re.I)
_INSTEAD = re.compile(r"(?:\s+for\s+the\s+\w+)?\s+instead\b", re.I)
_DROP_BEFORE = re.compile(
    r"(?i:\b(?:drop|drop to|switch|switch to|change|change to|convert|instead of))\s+\Z"
)
# A 7th character asked about without its code: "and A or D on the post op visits?"
_SEVENTH_CHOICE = re.compile(r"\b[ADS] or [ADS]\b")
_ADDON_MARK = re.compile(r"(?<![\w)])\+\Z")
_COVER_AFTER = re.compile(
    r"(?:[-\u2013][0-9A-Z]{2})*\s+covers?\s+(?:it|both|them|that|this|everything|the)\b", re.I
)
# Where a sentence ends, for the questions only a sentence can show: a dot inside a code
# ("Z12.11") ends none, nor does a line break inside a paragraph. A question mark ends one too;
# the sentences that ask are found from their question marks.
_ENDS = (". ", ".\n", "! ", "!\n", "\n\n")
_QUESTION_ENDS = ("? ", "?\n")
# "same day?", "in the same month as TCM 99495?"; not "the same-day admit/discharge codes".
_SAME_DAY = re.compile(
    r"\bsame[- ](?:day|date|session|encounter|month|period)\b"
    r"(?![- ](?:admit|admission|discharge|surgery|surgical|codes?|appointment))",
    re.I,
)
_UNITS_ASKED = re.compile(
    r"\bunits?\b|\bonce per\b|\bper (?:level|case|session|encounter)\b"
    r"|\bx\s*\d+(?:\s*(?:or|-)\s*\d+)?\s*\?\Z|\bx\s*\d+\b.{0,120}?\bor\b.{0,60}?\bx\s*\d+",
    re.I,
)
_BILL_TOO = re.compile(
    r"\bbill(?:ed)?\b[^.?!]{0,40}\b(?:too|as well)\b[^.!?]{0,200}\?"
    r"|\bbill(?:ed)?\b[^.?!]{0,60}\bin addition\b",
    re.I,
)
# A question of procedure codes and nothing else: "Report 3074F + 3078F + 3044F?"
_ONLY_CODES_WORDS = frozenset({"report", "bill", "code", "use", "so", "just", "then", "and"})
_SENTENCE_WORD = re.compile(r"[^\W_]+")
# A question that starts "Or" and names a code, after one that named another: "... 99238
# even if obs was under 8 hrs? Or the same-day admit/discharge codes (99234, 99235)?"
_OR_QUESTION = re.compile(r"\?\s+Or\b[^.?!]*\?", re.I)
_OR = re.compile(r"\bor\b", re.I)
_ON_CODE = re.compile(r"\s+on\s+(?:the\s+)?(?:[A-Za-z]+\s+)??", re.I)
_SUPPORT_WORD = re.compile(r"\b(?:support\w*|justif\w*|enough|sufficient)\b", re.I)
# "Which one?" asks for a code; "Which one supports the test?" for a diagnosis to link.
_WHICH_ONE = re.compile(r" which one (?!supports? )")
_WHICH_SUPPORTS = re.compile(r" which (?:one|dx|diagnosis|code) (?:\S+ )?supports? ")


class _Mentions(Sequence[Mention]):
    """The mentions in text order, sliced by position in the text without a scan: a text of
    thousands of codes and questions must not cost codes times questions."""

    def __init__(self, mentions: Sequence[Mention]) -> None:
        self.items = tuple(mentions)
        self.starts = [m.start for m in self.items]

    def __len__(self) -> int:
        return len(self.items)

    @overload
    def __getitem__(self, index: int) -> Mention: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Mention]: ...
    def __getitem__(self, index: int | slice) -> Mention | Sequence[Mention]:
        return self.items[index]

    def between(self, start: int, end: int) -> Sequence[Mention]:
        """The mentions that start in ``[start, end)``."""
        return self.items[bisect_left(self.starts, start) : bisect_left(self.starts, end)]


def _inside(spans: Spans, position: int) -> bool:
    """Whether ``position`` falls in one of ``spans`` (in text order, not overlapping)."""
    index = bisect_right(spans, (position, sys.maxsize)) - 1
    return index >= 0 and spans[index][0] <= position < spans[index][1]


def _is_em(mention: Mention) -> bool:
    return (
        mention.system == System.CPT
        and mention.code.isdigit()
        and _EM_RANGE[0] <= int(mention.code) <= _EM_RANGE[1]
    )


def _alternatives(text: str, mentions: _Mentions, asking: Spans) -> list[tuple[Mention, Mention]]:
    """Pairs of different codes offered as alternatives: side by side ("is it X or Y", "X?
    Or Y"), or either side of an "or" in a question, the second one new ("So is that 31237
    or do we stay with 31231?", "G43.709 on the 64615, or does the payer want G43.719?")."""
    pairs = [
        (left, right)
        for left, right in pairwise(mentions)
        if left.code != right.code and _ALTERNATIVE.fullmatch(text, left.end, right.start)
    ]
    for start, end in asking:
        inside = mentions.between(start, end)
        for word in _OR.finditer(text, start, end):
            left = [m for m in inside if m.end <= word.start()]
            before = {m.code for m in left}
            offered = [m for m in inside if m.start >= word.end() and m.code not in before]
            kin = [
                (earlier, new)
                for new in offered[:1]
                for earlier in reversed(left)
                if (earlier.system == System.ICD10CM) == (new.system == System.ICD10CM)
            ]
            pairs += kin[:1]
    # "... N18.31? Or E11.22 first?" offers an order, not another code.
    return [(left, right) for left, right in pairs if not _FIRST_AFTER.match(text, right.end)]


def _sentence_of(text: str, start: int, end: int) -> tuple[int, int]:
    """The bounds of the sentence that holds ``text[start:end]`` (without its end mark)."""
    marks = _ENDS + _QUESTION_ENDS
    befores = [(text.rfind(mark, 0, start), mark) for mark in marks]
    afters = [i for i in (text.find(mark, end) for mark in marks) if i >= 0]
    return (
        max((i + len(mark) for i, mark in befores if i >= 0), default=0),
        min(afters, default=len(text)),
    )


def _queried(text: str, mentions: _Mentions, asking: Spans) -> bool:
    """A code asked about ("is 0DTJ4ZZ correct?", "G2212 instead", "drop G0121", "Report
    3074F + 3078F?"), or one offered in a question of its own ("...? Or 99234?")."""
    if any(
        (IS_BEFORE.search(text, max(0, m.start - 6), m.start) and _RIGHT_AFTER.match(text, m.end))
        or _INSTEAD.match(text, m.end)
        or _DROP_BEFORE.search(text, max(0, m.start - 12), m.start)
        for m in mentions
    ):
        return True
    if any(_only_codes(text, start, end, mentions) for start, end in asking):
        return True
    for match in _OR_QUESTION.finditer(text):
        before = {m.code for m in mentions.between(0, match.start())}
        offered = {m.code for m in mentions.between(match.start(), match.end())}
        if before and offered - before:
            return True
    return False


def _only_codes(text: str, start: int, end: int, mentions: _Mentions) -> bool:
    inside = [m for m in mentions.between(start, end) if m.system != System.ICD10CM]
    if not inside:
        return False
    rest = (
        text[start : inside[0].start]
        + "".join(text[left.end : right.start] for left, right in pairwise(inside))
        + text[inside[-1].end : end]
    )
    return set(_SENTENCE_WORD.findall(rest.lower())) <= _ONLY_CODES_WORDS


def _diagnosis_on_line(text: str, mentions: _Mentions) -> bool:
    """Which diagnosis goes on which line: "Dx on the 99406", "Z23 only on the admin lines?"
    ("just 59 on the second line" puts a modifier there)."""
    for match in _ON_LINE.finditer(text):
        start, _ = _sentence_of(text, match.start(), match.end())
        sentence = text[start : match.end()].lower()
        if "dx" in sentence or "diagnos" in sentence:
            return True
        if any(m.system == System.ICD10CM for m in mentions.between(start, match.end())):
            return True
    return False


def _addon_asked(mentions: Sequence[Mention], asking: Spans, known: Known | None) -> bool:
    """Whether a question asks about a code the loaded add-on edits list as an add-on.

    Asked, not named: "vaccines 90460 and 90461 with 90707. Any NCCI issues?" asks
    about bundling; "99291 x1 and 99292 x how many?" asks about the add-on.
    """
    if known is None:
        return False
    asked = dict.fromkeys(
        m.code for m in mentions if m.system in _PROCEDURE_SYSTEMS and _inside(asking, m.start)
    )
    return any(known(ADDON_SYSTEM, code) for code in asked)


def _asking_spans(text: str) -> Spans:
    """Where the sentences that ask (end in "?") stand: each from the last sentence end
    before its "?" (searched no further back than the previous "?", so a long text costs in
    proportion to its length)."""
    spans: Spans = []
    ends = [end for end in _ENDS if end in text]
    after = 0  # the end of the previous question
    mark = text.find("?")
    while mark >= 0:
        start = max([after] + [text.rfind(end, after, mark) + len(end) for end in ends])
        spans.append((start, mark + 1))
        after = mark + 1
        mark = text.find("?", after)
    return spans


def _ncci_shapes(
    text: str,
    words: frozenset[str],
    mentions: Sequence[Mention],
    named: set[str],
    asking: list[str],
) -> bool:
    procedures = {m.code for m in mentions if m.system == System.CPT and not _is_em(m)}
    return (
        bool(named & _PTP_MODIFIERS)
        or ("59" in named and len(procedures) >= 2)
        or (
            not words.isdisjoint(_COVER_WORDS)
            and any(_COVER_AFTER.match(text, m.end) for m in mentions)
        )
        or ("same" in words and any(_SAME_DAY.search(s) for s in asking))
        or (not words.isdisjoint(_BILL_WORDS) and _BILL_TOO.search(text) is not None)
    )


def _diagnosis_shapes(
    text: str,
    mentions: _Mentions,
    choices: list[tuple[Mention, Mention]],
    asking: Spans,
) -> tuple[bool, bool, bool]:
    """(diagnosis, crosswalk, code_selection) from how diagnosis codes are asked about."""
    diagnoses = [m for m in mentions if m.system == System.ICD10CM]
    # "D63.0 first, or C50.911 first?" asks; "Billing 45385-PT with Z12.11 first" does not.
    asked = any(
        _ASKED_AFTER.match(text, m.end)
        or (_FIRST_AFTER.match(text, m.end) and _inside(asking, m.start))
        for m in diagnoses
    )
    supports = any(_SUPPORTS_AFTER.match(text, m.end) for m in diagnoses)
    # "Z12.31 on the 77067 and N63.10 on the 77065 - right?"
    procedures_at = {m.start for m in mentions if m.system in _PROCEDURE_SYSTEMS}
    placed = any(
        (on := _ON_CODE.match(text, m.end)) is not None
        and on.end() in procedures_at
        and _inside(asking, m.start)
        for m in diagnoses
    )
    # A choice among diagnoses for a procedure named with them ("M25.561 vs M17.11 on the
    # 20610 line?") is the crosswalk; without one ("S42.201A or S42.201D?") choosing a code.
    linked = [
        left.system == right.system == System.ICD10CM
        and _linked(text, mentions, *_sentence_of(text, left.start, right.end))
        for left, right in choices
    ]
    among_diagnoses = any(left.system == System.ICD10CM for left, _ in choices)
    asked = asked or (" or " in text and _SEVENTH_CHOICE.search(text) is not None)
    return asked or among_diagnoses, supports or placed or any(linked), not all(linked)


def _linked(text: str, mentions: _Mentions, start: int, end: int) -> bool:
    """Whether a sentence ties its diagnoses to a procedure: names one, or says "supports"."""
    return _SUPPORT_WORD.search(text, start, end) is not None or any(
        m.system in _PROCEDURE_SYSTEMS for m in mentions.between(start, end)
    )


def _from_findings(
    text: str,
    wording: Wording,
    mentions: _Mentions,
    modifiers: Sequence[str],
    known: Known | None,
) -> set[str]:
    """The topics the shapes of the question show. Each pattern that reads the whole text
    runs only where a word it needs is there: most questions hold none of them."""
    named, words = set(modifiers), wording.words
    spans = _asking_spans(text)
    asking = [text[start:end].strip() for start, end in spans]
    choices = _alternatives(text, mentions, spans)
    diagnosis, crosswalk, selection = _diagnosis_shapes(text, mentions, choices, spans)
    found = {
        "ncci": _ncci_shapes(text, words, mentions, named, asking),
        "modifier": bool(named),
        "mue": any(_UNITS_ASKED.search(s) for s in asking),
        "global": bool(named & _GLOBAL_MODIFIERS),
        "coverage": bool(named & _COVERAGE_MODIFIERS)
        or (not words.isdisjoint(_PAYER_VERBS) and _PAYER_ASKED.search(text) is not None)
        or ("covered" in words and any(_COVERED_ASKED.search(s) for s in asking)),
        "em": "25" in named or any(_is_em(m) for m in mentions),
        "diagnosis": diagnosis,
        "crosswalk": crosswalk
        or (not words.isdisjoint(_LINE_WORDS) and _diagnosis_on_line(text, mentions)),
        "addon": any(_ADDON_MARK.search(text, max(0, m.start - 1), m.start) for m in mentions)
        or _addon_asked(mentions, spans, known),
        "code_selection": (bool(choices) and selection) or _queried(text, mentions, spans),
    }
    return {topic for topic, yes in found.items() if yes}


def find_topics(
    text: str,
    mentions: Sequence[Mention],
    modifiers: Sequence[str],
    wording: Wording | None = None,
    known: Known | None = None,
) -> tuple[str, ...]:
    """The topics of the question, in the order of ``TOPICS`` (``wording``: of ``text``)."""
    wording = wording or Wording.of(text)
    topics = _from_findings(text, wording, _Mentions(mentions), modifiers, known)
    for topic, phrases in _WORDS.items():
        if topic in topics or not phrases.found_in(wording):
            continue
        if topic == "global" and not _global_meant(wording):
            continue
        if topic == "ncci" and not _ncci_meant(wording):
            continue
        topics.add(topic)
    asks_which = "which" in wording.words or "what" in wording.words
    if asks_which and "crosswalk" not in topics and _WHICH_DIAGNOSIS.search(wording.joined):
        topics.add("crosswalk")
    if (asks_which and _WHICH_CODES.search(wording.joined)) or (
        "confirm" in wording.words and _CONFIRM_CODES.search(wording.joined)
    ):
        topics.add("code_selection")
    if "one" in wording.words and _WHICH_ONE.search(wording.joined):
        topics.add("code_selection")
    # Which of the diagnoses named supports the procedure: a choice among them too.
    which_supports = asks_which and _WHICH_SUPPORTS.search(wording.joined)
    if which_supports and len({m.code for m in mentions if m.system == System.ICD10CM}) > 1:
        topics.add("diagnosis")
    return tuple(topic for topic in TOPICS if topic in topics)


def _global_meant(wording: Wording) -> bool:
    """Whether a global-period word means the global period, not "bill global"."""
    if not _NOT_GLOBAL.search(wording.joined):
        return True
    return _WORDS["global"].found_in(Wording.of(_NOT_GLOBAL.sub(" ", wording.joined)))


def _ncci_meant(wording: Wording) -> bool:
    """Whether a bundling word means a PTP edit, not "included in the global"."""
    if not _GLOBAL_PACKAGE.search(wording.joined):
        return True
    return _WORDS["ncci"].found_in(Wording.of(_GLOBAL_PACKAGE.sub(" ", wording.joined)))
