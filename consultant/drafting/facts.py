"""The facts a draft may state: each one looked up in the code data and cited to its release.

Facts are data, not sentences: templates turn them into words. Nothing is
stated that the data does not say; where the data is missing (a CPT code
without the operator's licensed file, no MUE file loaded), the fact says
what is missing, so the draft can say so plainly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from itertools import combinations
from typing import Any

from consultant.analysis.model import Analysis
from consultant.codes.coverage import Jurisdiction
from consultant.codes.entries import Status
from consultant.codes.icd10cm_refs import references
from consultant.codes.lookup import CodeLookup
from consultant.codes.systems import System
from consultant.drafting.medicare_facts import (
    COVERAGE_TOPICS,
    coverage_facts,
    fee_facts,
    jurisdiction_for,
    locality_for,
)
from consultant.drafting.render import cite, series
from consultant.drafting.staleness import cadence, is_stale

PROCEDURE_SYSTEMS = (System.CPT, System.HCPCS)
# The order facts are stated in: the codes, then the edits, then notes, then what is missing.
KIND_ORDER = (
    "code",
    "ptp",
    "ptp_none",
    "ptp_window",
    "mue",
    "addon",
    "not_addon",
    "pfs",
    "coverage",
    "coverage_none",
    "ncd",
    "fee",
    "fee_adjusted",
    "excludes1",
    "icd_note",
    "modifier",
    "missing",
)
SEQUENCING_NOTES = ("code_first", "use_additional_code", "code_also")
GLOBAL_MODIFIERS = {"24", "25", "57", "58", "78", "79"}
GLOBAL_SURGERY_DAYS = {"000", "010", "090"}


@dataclass
class Fact:
    """One thing the data says, about some codes, from one release."""

    # code, ptp, ptp_none, mue, addon, pfs, excludes1, icd_note, modifier: each has
    # a partial templates/replies/facts/<kind>.{txt,html}.j2. "missing" (data not
    # loaded) is the reviewer's panel's alone, never the reply's.
    kind: str
    codes: list[str]
    data: dict[str, Any]
    source: dict[str, Any] | None = None
    on: str | None = None  # the date of service of the fact's line, when not the question's

    def as_dict(self) -> dict[str, Any]:
        # Not dataclasses.asdict: its deep copy costs more than the lookups (data is plain).
        return {
            "kind": self.kind,
            "codes": self.codes,
            "data": self.data,
            "source": self.source,
            "on": self.on,
        }


@dataclass
class Facts:
    """Everything looked up for one question, and the date and setting it was asked for."""

    on: str
    setting: str
    items: list[Fact] = field(default_factory=list)
    limits: list[str] = field(default_factory=list)  # what was left unchecked, and why

    def add(
        self,
        kind: str,
        codes: list[str],
        data: dict[str, Any],
        source: dict[str, Any] | None,
        on: date | None = None,
    ) -> None:
        """Record a fact looked up as of ``on`` (a line's own date; the question's if None)."""
        own = None if on is None or on.isoformat() == self.on else on.isoformat()
        self.items.append(Fact(kind, codes, data, source, own))

    def of(self, kind: str) -> list[Fact]:
        return [f for f in self.items if f.kind == kind]

    def day(self, fact: Fact) -> str:
        """The date of service the fact was looked up for: its line's, else the question's."""
        return fact.on or self.on

    def is_stale(self, fact: Fact) -> bool:
        """The fact's release is not the one for the date of service (``staleness``)."""
        return is_stale(fact.source, date.fromisoformat(self.day(fact)))

    def held_back(self, fact: Fact) -> bool:
        """A negative the data cannot support: from a stale release, or from none at all."""
        if fact.kind == "modifier":
            return not fact.data.get("meaning")
        return _negative(fact) and self.is_stale(fact)

    @property
    def reply_items(self) -> list[Fact]:
        """The facts the reply states: not what could not be checked, nor a negative from
        data that is not in force (those are the panel's)."""
        return [f for f in self.items if not (_unchecked(f) or self.held_back(f))]

    def panel(self) -> list[dict[str, str]]:
        """What only the reviewer sees: data not loaded or stale, codes not checked, what the
        reply leaves out and why, limits reached.

        It may name files, commands and the operator; the reply never does.
        """
        notes = [
            {"kind": "not_loaded", "text": f"{f.data['what']}: {f.data['reason']}"}
            for f in self.items
            if f.kind == "missing"
        ]
        notes += self._stale_notes()
        unchecked = [f.codes[0] for f in self.items if f.kind == "code" and _unchecked(f)]
        if unchecked:
            notes.append(
                {
                    "kind": "not_checked",
                    "text": f"Not checked, so the reply says nothing of them: {series(unchecked)}",
                }
            )
        unknown = [f.codes[0] for f in self.items if f.kind == "modifier" and self.held_back(f)]
        if unknown:
            notes.append(
                {
                    "kind": "not_checked",
                    "text": f"No meaning on file for modifier {series(unknown)}; the reply says "
                    "nothing of it",
                }
            )
        notes += [
            {"kind": "not_checked", "text": f"No amount for {f.codes[0]}: {f.data['message']}"}
            for f in self.items
            if f.kind == "fee" and _unchecked(f) and f.data.get("message")
        ]
        notes += [
            {
                "kind": "confirm",
                "text": f"NCD {f.data['section']} ({f.data['title']}) may apply to "
                f"{f.codes[0]}: its title matches the code's description; confirm",
            }
            for f in self.items
            if f.kind == "ncd" and _unchecked(f)
        ]
        notes += [{"kind": "limit", "text": limit} for limit in self.limits]
        return notes

    def _stale_notes(self) -> list[dict[str, str]]:
        by_release: dict[int, tuple[dict[str, Any], list[str]]] = {}
        for fact in self.items:
            if fact.source and self.is_stale(fact):
                source, left_out = by_release.setdefault(fact.source["id"], (fact.source, []))
                if self.held_back(fact):
                    left_out.append("/".join(fact.codes))
        notes = []
        for source, left_out in by_release.values():
            text = (
                f"{cite(source)} is not the release for {self.on} (updated "
                f"{cadence(source['kind'])}): the reply names it for what it lists"
            )
            if left_out:
                text += f" and leaves out what it does not list ({series(left_out)})"
            notes.append({"kind": "stale", "text": text})
        return notes

    def as_dict(self) -> dict[str, Any]:
        return {
            "on": self.on,
            "setting": self.setting,
            "facts": [f.as_dict() for f in self.items],
            "limits": list(self.limits),
            "panel": self.panel(),
        }


NEGATIVE_STATUSES = frozenset(
    {Status.NOT_FOUND, Status.DELETED, Status.TERMINATED, Status.NOT_YET_EFFECTIVE}
)


def _negative(fact: Fact) -> bool:
    """A fact that says something is not so: not found, deleted, no edit, no MUE value."""
    if fact.kind == "code":
        return fact.data["status"] in NEGATIVE_STATUSES
    if fact.kind == "mue":
        return not fact.data.get("found")
    return fact.kind in ("ptp_none", "ptp_window", "not_addon", "coverage_none")


def _unchecked(fact: Fact) -> bool:
    """A fact that says only that something could not be checked, or what only the reviewer
    weighs: an amount not computed, an NCD matched by its title alone."""
    if fact.kind == "fee":
        return not (fact.data["amounts"] or fact.data["clfs"])
    if fact.kind == "ncd":
        return fact.data["matched_by"] != "section"
    return fact.kind == "missing" or (fact.kind == "code" and fact.data["status"] == Status.NO_DATA)


def _missing(facts: Facts, what: str, reason: str) -> None:
    if not any(f.kind == "missing" and f.data["what"] == what for f in facts.items):
        facts.add("missing", [], {"what": what, "reason": reason}, None)


def gather(
    analysis: Analysis,
    lookup: CodeLookup,
    today: date | None = None,
    max_pairs: int | None = None,
    requester: Jurisdiction | None = None,
    plain: Mapping[tuple[str, str], dict[str, Any]] | None = None,
) -> Facts:
    """Look up every fact the question's codes, units and modifiers call for.

    As of the date of service the question states, else ``today`` (default: the real today).
    At most ``max_pairs`` pairs of procedure codes are checked for PTP edits (the
    pairs grow with the square of the codes); the rest are named as not checked.
    ``requester`` is where the requester's patients are seen (the sender's setting), for
    coverage and payment when the question does not say. ``plain`` holds the practice's
    plain-language descriptions by (system, code), stated with the code's fact.
    """
    stated = analysis.dates_of_service
    on = stated[0] if stated else (today or date.today())
    setting = "practitioner"
    facts = Facts(on.isoformat(), setting)
    procedures = [c for c in analysis.codes if c.system in PROCEDURE_SYSTEMS]
    diagnoses = analysis.codes_of(System.ICD10CM)

    def day(code: str) -> date:
        return analysis.date_of(code) or on

    for found in analysis.codes:
        result = lookup.code(System(found.system), found.code, day(found.code))
        if result.status == Status.NO_DATA:
            _missing(facts, f"{found.system} data", result.message or "not loaded")
        data = result.as_dict()
        if plain and (found.system, found.code) in plain:
            data["plain_description"] = plain[(found.system, found.code)]
        facts.add("code", [found.code], data, result.release, day(found.code))

    _ptp_facts(facts, analysis, lookup, day, [c.code for c in procedures], max_pairs)
    for found in procedures:
        when = day(found.code)
        _mue_fact(facts, analysis, lookup, when, found.code, found.units)
        _addon_fact(facts, analysis, lookup, when, found.code, [c.code for c in procedures])
        _pfs_fact(facts, analysis, lookup, when, found.code)

    codes = [c.code for c in procedures]

    def missing(what: str, reason: str) -> None:
        _missing(facts, what, reason)

    if codes and COVERAGE_TOPICS & set(analysis.topics):
        where = jurisdiction_for(analysis, lookup, on, requester)
        coverage_facts(facts, analysis, lookup, day, codes, where, missing)
    if codes and "payment" in analysis.topics:
        place = locality_for(analysis, lookup, on, requester)
        fee_facts(facts, analysis, lookup, day, codes, place, missing)

    if len(diagnoses) > 1:
        conflicts = lookup.excludes1_conflicts(diagnoses, on)
        stated: set[frozenset[str]] = set()
        for conflict in conflicts.conflicts:
            # One fact a pair: F17.210 and Z72.0 exclude each other under both codes' notes.
            pair = [conflict.code, conflict.excluded]
            if frozenset(pair) not in stated:
                stated.add(frozenset(pair))
                facts.add("excludes1", pair, asdict(conflict), conflicts.release)
    for code in diagnoses:
        _note_facts(facts, lookup, on, code, [d for d in diagnoses if d != code])

    for modifier in analysis.modifiers:
        result = lookup.modifier(modifier, on)
        source = result.source if isinstance(result.source, dict) else None
        facts.add("modifier", [modifier], result.as_dict(), source)
    facts.items.sort(key=lambda f: KIND_ORDER.index(f.kind))
    return facts


def _note_facts(facts: Facts, lookup: CodeLookup, on: date, code: str, others: list[str]) -> None:
    """Code-first, use-additional and code-also notes of ``code`` that name another code asked."""
    notes = lookup.icd10cm_notes(code, on)
    for note in notes.notes:
        if note.kind not in SEQUENCING_NOTES:
            continue
        named = [o for o in others if any(r.matches(o) for r in references(note.text))]
        if named:
            data = {"on": note.source, "kind": note.kind, "text": note.text, "named": named}
            facts.add("icd_note", [code, *named], data, notes.release)


def _ptp_facts(
    facts: Facts,
    analysis: Analysis,
    lookup: CodeLookup,
    day: Callable[[str], date],
    codes: list[str],
    max_pairs: int | None,
) -> None:
    """PTP edits between the codes of each day: an edit binds services on the same date."""
    clear: dict[date, list[list[str]]] = {}
    release = None
    every = list(combinations(codes, 2))
    pairs = [(a, b) for a, b in every if day(a) == day(b)]
    apart = [f"{a}/{b}" for a, b in every if day(a) != day(b)]
    if apart:
        facts.limits.append(
            f"Not checked for NCCI PTP edits, as the text gives them different dates of "
            f"service: {series(apart)}"
        )
    if max_pairs is not None and len(pairs) > max_pairs:
        facts.limits.append(
            f"{len(pairs):,} pairs of procedure codes: only the first {max_pairs:,} were "
            "checked for NCCI PTP edits"
        )
        pairs = pairs[:max_pairs]
    for a, b in pairs:
        on = day(a)
        result = lookup.ptp(a, b, on, facts.setting)
        if result.release is None:
            _missing(facts, "NCCI PTP edits", result.message or "not loaded")
            return
        release = result.release
        if not result.edits:
            clear.setdefault(on, []).append([a, b])
        for window in result.other_windows:
            pair = [window.column1, window.column2]
            facts.add("ptp_window", pair, asdict(window), result.release, on)
        for edit in result.edits:
            bypass = [
                m
                for m in analysis.modifiers
                if edit.modifier_indicator == 1 and lookup.modifier(m, on).ncci_associated
            ]
            data = asdict(edit) | {"named_modifiers_that_may_bypass": bypass}
            pair = [edit.column1, edit.column2]
            facts.add("ptp", pair, data, result.release, on)
    for on, pairs_clear in clear.items():
        codes_clear = sorted({c for pair in pairs_clear for c in pair}, key=codes.index)
        facts.add("ptp_none", codes_clear, {"pairs": pairs_clear}, release, on)


def _mue_fact(
    facts: Facts,
    analysis: Analysis,
    lookup: CodeLookup,
    on: date,
    code: str,
    units: int | None,
) -> None:
    asked = units or next((u.count for u in analysis.units if u.code == code), None)
    if asked is None and "mue" not in analysis.topics:
        return
    result = lookup.mue(code, on, facts.setting)
    if result.release is None:
        _missing(facts, "MUE values", result.message or "not loaded")
        return
    data = result.as_dict() | {"units_asked": asked}
    if result.found and asked is not None:
        data["exceeds"] = asked > (result.value or 0)
    facts.add("mue", [code], data, result.release, on)


def _addon_fact(
    facts: Facts, analysis: Analysis, lookup: CodeLookup, on: date, code: str, codes: list[str]
) -> None:
    result = lookup.addon(code, on)
    if result.release is None:
        _missing(facts, "add-on code edits", result.message or "not loaded")
        return
    if not result.is_addon:
        if "addon" in analysis.topics:  # asked: that it is not one is part of the answer
            facts.add("not_addon", [code], {"code": code}, result.release, on)
        return
    present = [c for c in codes if c in result.primaries]
    data = result.as_dict() | {"primaries_present": present}
    facts.add("addon", [code], data, result.release, on)


def _pfs_fact(facts: Facts, analysis: Analysis, lookup: CodeLookup, on: date, code: str) -> None:
    modifiers = next((c.modifiers for c in analysis.codes if c.code == code), ())
    result = lookup.pfs(code, next((m for m in modifiers if m in ("26", "TC")), ""), on)
    if result.release is None:
        _missing(facts, "physician fee schedule indicators", result.message or "not loaded")
        return
    if not result.found:
        return
    data = result.as_dict()
    data["surgical_global"] = result.indicators.get("global_days") in GLOBAL_SURGERY_DAYS
    data["global_modifiers_named"] = sorted(set(analysis.modifiers) & GLOBAL_MODIFIERS)
    facts.add("pfs", [code], data, result.release, on)
