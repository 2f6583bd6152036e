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
- addon: an add-on code asked about ("+22614", the words, or a code the loaded
  add-on edits list as an add-on: ``known(ADDON_SYSTEM, code)``). "29880 +
  29877" is a sum, not a mark.
- em: an E/M code (99202-99499), modifier 25 or the E/M words; a "visit" is
  not one by itself ("same visit", "nurse visit").
- diagnosis: ICD-10-CM coding asked about: sequencing, excludes, 7th
  characters ("S52.521A or D?"), or diagnosis codes put as a question
  ("T81.41XA + L03.311?").
- coverage: coverage, medical necessity, frequency, cost sharing, prior
  authorisation, supervision rules, what a payer accepts, GA/GY/GZ/KX and the
  foot-care Q7-Q9.
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
from collections.abc import Sequence
from itertools import pairwise

from consultant.analysis.codes import Mention
from consultant.analysis.model import TOPICS, Known
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
        "paid separately, also bill, in addition to, billed in addition, column 1, column 2, "
        "column one, column two"
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
        "sequenc*, first-listed, first listed, excludes, excludes1, excludes2, excludes 1, "
        "excludes 2, present on admission, poa, principal diagnosis, principal dx, "
        "primary diagnosis, primary dx, secondary diagnosis, secondary dx, code first, "
        "code also, use additional, 7th character, seventh character, placeholder, "
        "manifestation, etiology, valid diagnosis, invalid diagnosis, billable diagnosis, "
        "non-billable, nonbillable, header code, specificity, coded first, listed first, "
        "go first, goes first, put first, reported first, sequenced first, icd-10 guidelines, "
        "icd-10-cm guidelines, coding guidelines, official guidelines, active treatment, "
        "initial encounter, subsequent encounter, sequela, symptom code, confirmed diagnosis, "
        "confirmed dx, combination code"
    ),
    "coverage": Phrases.of(
        "covered, coverage, non-covered, noncovered, medical necessity, medically necessary, "
        "frequency, how often, abn, advance beneficiary, lcd, lcds, ncd, ncds, once every, "
        "per year, every year, every two years, once a year, once a day, once in a lifetime, "
        "coinsurance*, co-insurance*, deductible*, copay*, co-pay*, cost sharing, cost-sharing, "
        "patient owe, prior auth*, preauth*, pre-auth*, precert*, supervision, incident to, "
        "incident-to, therapy threshold, kx threshold, their policy, payer policy, "
        "medical policy, coverage policy"
    ),
    "crosswalk": Phrases.of(
        "crosswalk, cross-walk, cross walk, diagnosis pointer, diagnosis pointers, dx pointer, "
        "dx pointers, diagnosis to support, dx to support, diagnosis that supports, "
        "diagnoses that support, supporting diagnosis, diagnosis to justify, "
        "covered diagnosis, covered diagnoses, diagnosis linked, link the diagnosis, "
        "pair the diagnosis, on which line, on which lines, goes on which, go on which"
    ),
    "code_selection": Phrases.of(
        "which code, which codes, what code, what codes, which cpt, what cpt, which hcpcs, "
        "what hcpcs, which icd-10, which icd, what icd-10, what icd, which diagnosis code, "
        "what diagnosis code, which procedure code, correct code, right code, proper code, "
        "appropriate code, best code, correct cpt, right cpt, correct diagnosis, "
        "right diagnosis, correct procedure code, how to code, how do i code, how do we code, "
        "how should i code, how should we code, how would you code, which one, downcod*, "
        "upcod*, down-cod*, which is the initial"
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
# that pay consults".
_PAYER_ASKED = re.compile(
    r"\b(?:does|do|will|would)\s+(?:medicare|medicaid|tricare|bcbs|blue cross|aetna|cigna|"
    r"humana|uhc|united(?:\s?healthcare)?|the payers?|payers?|the plan|their plan|"
    r"commercial(?:\s+payers?|\s+plans?)?|insurance|the insurance)\s+(?:still\s+)?"
    r"(?:take|accept|recogni[sz]e|pay|cover|allow|want|require|limit)\b"
    r"|\b(?:plans?|payers?)\s+(?:that|which)\s+(?:pays?|accepts?|recogni[sz]es?|covers?)\b",
    re.I,
)

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
_IS_BEFORE = re.compile(r"(?i:\bis)\s+\Z")
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
)
# "does R42 support 93880", "is M81.0 enough for coverage"
_SUPPORTS_AFTER = re.compile(r"\s+(?:\w+\s+)?(?:supports?|enough|sufficient|justif\w*)\b", re.I)
# "on the 20610 line", "on the admin lines", "Dx on the 99406"
_ON_LINE = re.compile(r"\bon (?:the|each|which|both) (?:\S+ )?lines?\b|\bdx on the\b", re.I)
_INSTEAD = re.compile(r"(?:\s+for\s+the\s+\w+)?\s+instead\b", re.I)
_DROP_BEFORE = re.compile(r"(?i:\b(?:drop|drop to|switch to|change to|instead of))\s+\Z")
_ADDON_MARK = re.compile(r"(?<![\w)])\+\Z")
_COVER_AFTER = re.compile(
    r"(?:[-\u2013][0-9A-Z]{2})*\s+covers?\s+(?:it|both|them|that|this|everything|the)\b", re.I
)
# A sentence that asks (ends in "?"), for the questions only a sentence can show.
_ASKING = re.compile(r"[^.?!\n]*\?")
# "same day?", "in the same month as TCM 99495?"; not "the same-day admit/discharge codes".
_SAME_DAY = re.compile(
    r"\bsame[- ](?:day|date|session|encounter|month|period)\b"
    r"(?![- ](?:admit|admission|discharge|surgery|surgical|codes?|appointment))",
    re.I,
)
_UNITS_ASKED = re.compile(
    r"\bunits?\b|\bonce per\b|\bper (?:level|case|session|encounter)\b"
    r"|\bx\s*\d+(?:\s*(?:or|-)\s*\d+)?\s*\?\Z",
    re.I,
)
_BILL_TOO = re.compile(
    r"\bbill(?:ed)?\b[^.?!]{0,40}\b(?:too|as well)\?|\bbill(?:ed)?\b[^.?!]{0,60}\bin addition\b",
    re.I,
)
# A question of procedure codes and nothing else: "Report 3074F + 3078F + 3044F?"
_ONLY_CODES_WORDS = frozenset({"report", "bill", "code", "use", "so", "just", "then", "and"})
_SENTENCE_WORD = re.compile(r"[^\W_]+")
# A question that starts "Or" and names a code, after one that named another: "... 99238
# even if obs was under 8 hrs? Or the same-day admit/discharge codes (99234, 99235)?"
_OR_QUESTION = re.compile(r"\?\s+Or\b[^.?!]*\?", re.I)


def _is_em(mention: Mention) -> bool:
    return (
        mention.system == System.CPT
        and mention.code.isdigit()
        and _EM_RANGE[0] <= int(mention.code) <= _EM_RANGE[1]
    )


def _alternatives(text: str, mentions: Sequence[Mention]) -> list[tuple[Mention, Mention]]:
    """Pairs of different codes offered as alternatives ("is it X or Y", "X? Or Y")."""
    return [
        (left, right)
        for left, right in pairwise(mentions)
        if left.code != right.code
        and _ALTERNATIVE.fullmatch(text, left.end, right.start)
        and not _FIRST_AFTER.match(text, right.end)  # "... N18.31? Or E11.22 first?": an order
    ]


def _queried(text: str, mentions: Sequence[Mention]) -> bool:
    """A code asked about ("is 0DTJ4ZZ correct?", "G2212 instead", "drop G0121", "Report
    3074F + 3078F?"), or one offered in a question of its own ("...? Or 99234?")."""
    if any(
        (_IS_BEFORE.search(text, max(0, m.start - 6), m.start) and _RIGHT_AFTER.match(text, m.end))
        or _INSTEAD.match(text, m.end)
        or _DROP_BEFORE.search(text, max(0, m.start - 12), m.start)
        for m in mentions
    ):
        return True
    if any(_only_codes(text, sentence, mentions) for sentence in _ASKING.finditer(text)):
        return True
    for match in _OR_QUESTION.finditer(text):
        before = {m.code for m in mentions if m.start < match.start()}
        offered = {m.code for m in mentions if match.start() < m.start < match.end()}
        if before and offered - before:
            return True
    return False


def _only_codes(text: str, sentence: re.Match[str], mentions: Sequence[Mention]) -> bool:
    inside = [
        m
        for m in mentions
        if sentence.start() <= m.start < sentence.end() and m.system != System.ICD10CM
    ]
    if not inside:
        return False
    rest = (
        text[sentence.start() : inside[0].start]
        + "".join(text[left.end : right.start] for left, right in pairwise(inside))
        + text[inside[-1].end : sentence.end()]
    )
    return set(_SENTENCE_WORD.findall(rest.lower())) <= _ONLY_CODES_WORDS


def _diagnosis_on_line(text: str, mentions: Sequence[Mention]) -> bool:
    """Which diagnosis goes on which line: "Dx on the 99406", "Z23 only on the admin lines?"
    ("just 59 on the second line" puts a modifier there)."""
    for match in _ON_LINE.finditer(text):
        start = max(text.rfind(end, 0, match.start()) for end in ".?!\n") + 1
        sentence = text[start : match.end()].lower()
        if "dx" in sentence or "diagnos" in sentence:
            return True
        if any(m.system == System.ICD10CM and start <= m.start < match.end() for m in mentions):
            return True
    return False


def _asking_sentences(text: str) -> list[str]:
    return [s.strip() for s in _ASKING.findall(text)]


def _ncci_shapes(
    text: str, mentions: Sequence[Mention], named: set[str], asking: list[str]
) -> bool:
    procedures = {m.code for m in mentions if m.system == System.CPT and not _is_em(m)}
    return (
        bool(named & _PTP_MODIFIERS)
        or ("59" in named and len(procedures) >= 2)
        or any(_COVER_AFTER.match(text, m.end) for m in mentions)
        or any(_SAME_DAY.search(s) for s in asking)
        or bool(_BILL_TOO.search(text))
    )


def _diagnosis_shapes(
    text: str, mentions: Sequence[Mention], choices: list[tuple[Mention, Mention]]
) -> tuple[bool, bool, bool]:
    """(diagnosis, crosswalk, code_selection) from how diagnosis codes are asked about."""
    diagnoses = [m for m in mentions if m.system == System.ICD10CM]
    procedure_named = any(m.system in _PROCEDURE_SYSTEMS for m in mentions)
    among_diagnoses = any(left.system == right.system == System.ICD10CM for left, right in choices)
    asked = any(
        _FIRST_AFTER.match(text, m.end) or _ASKED_AFTER.match(text, m.end) for m in diagnoses
    )
    supports = any(_SUPPORTS_AFTER.match(text, m.end) for m in diagnoses)
    diagnosis = asked or among_diagnoses
    crosswalk = supports or (among_diagnoses and procedure_named)
    selection = any(
        not (left.system == right.system == System.ICD10CM and procedure_named)
        for left, right in choices
    )
    return diagnosis, crosswalk, selection


def _from_findings(
    text: str, mentions: Sequence[Mention], modifiers: Sequence[str], known: Known | None
) -> set[str]:
    named = set(modifiers)
    asking = _asking_sentences(text)
    choices = _alternatives(text, mentions)
    diagnosis, crosswalk, selection = _diagnosis_shapes(text, mentions, choices)
    found = {
        "ncci": _ncci_shapes(text, mentions, named, asking),
        "modifier": bool(named),
        "mue": any(_UNITS_ASKED.search(s) for s in asking),
        "global": bool(named & _GLOBAL_MODIFIERS),
        "coverage": bool(named & _COVERAGE_MODIFIERS) or bool(_PAYER_ASKED.search(text)),
        "em": "25" in named or any(_is_em(m) for m in mentions),
        "diagnosis": diagnosis,
        "crosswalk": crosswalk or _diagnosis_on_line(text, mentions),
        "addon": any(_ADDON_MARK.search(text, max(0, m.start - 1), m.start) for m in mentions)
        or (
            known is not None
            and any(
                known(ADDON_SYSTEM, code)
                for code in dict.fromkeys(
                    m.code for m in mentions if m.system in _PROCEDURE_SYSTEMS
                )
            )
        ),
        "code_selection": selection or _queried(text, mentions),
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
    topics = _from_findings(text, mentions, modifiers, known)
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
    return tuple(topic for topic in TOPICS if topic in topics)


def _global_meant(wording: Wording) -> bool:
    """Whether a global-period word means the global period, not "bill global"."""
    return _WORDS["global"].found_in(Wording.of(_NOT_GLOBAL.sub(" ", wording.joined)))


def _ncci_meant(wording: Wording) -> bool:
    """Whether a bundling word means a PTP edit, not "included in the global"."""
    return _WORDS["ncci"].found_in(Wording.of(_GLOBAL_PACKAGE.sub(" ", wording.joined)))
