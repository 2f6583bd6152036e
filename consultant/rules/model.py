"""What a rule is, what it reads, and the two things it can say: a conclusion, or why not.

A rule reads the analysis of the question and the facts looked up for it
(never the database), and returns conclusions (its parameters, the codes they
are about, the releases they rest on) or ``Undecided`` (why it could not
conclude: the reviewer's panel says so). Its words are in
``templates/replies/rules/<name>.txt.j2``; its citations point into
``sources.SOURCES``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

from consultant.analysis.model import Analysis
from consultant.drafting.facts import Fact, Facts
from consultant.rules.sources import SOURCES


@dataclass(frozen=True)
class Citation:
    source: str  # a key of sources.SOURCES
    where: str = ""  # chapter, section: only as precise as is certain

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"citation of an unknown source {self.source!r}")

    def text(self) -> str:
        title = SOURCES[self.source].title
        return f"{title}, {self.where}" if self.where else title

    def as_dict(self) -> dict[str, str]:
        return {"source": self.source, "where": self.where, "text": self.text()}


@dataclass
class Conclusion:
    """A rule's answer for some codes, with what it rests on; its words are rendered later."""

    rule: str
    codes: list[str]
    params: dict[str, Any]
    citations: tuple[Citation, ...]
    releases: list[dict[str, Any]] = field(default_factory=list)  # the facts' releases used
    modifiers: list[str] = field(default_factory=list)  # the modifiers named it speaks to
    note: dict[str, Any] | None = None  # the guidance note this came from, if one did
    answer: str = ""
    why: str = ""
    confirm: str = ""  # what the expert still confirms from the record (else empty)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "codes": self.codes,
            "params": self.params,
            "answer": self.answer,
            "why": self.why,
            "confirm": self.confirm,
            "citations": [c.as_dict() for c in self.citations],
            "releases": self.releases,
            "modifiers": self.modifiers,
            "note": self.note,
        }


@dataclass(frozen=True)
class Undecided:
    """A rule that applies to the question but cannot conclude, and why (for the reviewer)."""

    rule: str
    codes: list[str]
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "codes": self.codes, "reason": self.reason}


Outcome = Conclusion | Undecided


@dataclass(frozen=True)
class Context:
    """What a rule may read: the analysis and the facts, and helpers over them."""

    analysis: Analysis
    facts: Facts
    notes: tuple[dict[str, Any], ...] = ()  # the experts' guidance notes the question names

    @cached_property
    def stated(self) -> list[Fact]:
        """The facts the reply states (worked out once: every rule asks)."""
        return self.facts.reply_items

    def usable(self, kind: str) -> list[Fact]:
        """Facts of ``kind`` a conclusion may rest on: stated in the reply, not held back."""
        return [f for f in self.stated if f.kind == kind]

    def held_back(self, kind: str) -> list[Fact]:
        """Facts of ``kind`` the reply may not state (negatives from a stale release): a rule
        says why it does not conclude from them."""
        return [f for f in self.facts.of(kind) if self.facts.held_back(f)]

    def fact(self, kind: str, code: str) -> Fact | None:
        return next((f for f in self.usable(kind) if f.codes[0] == code), None)

    def pfs(self, code: str) -> dict[str, Any] | None:
        """The fee schedule indicators of ``code``, when a release in force lists it."""
        fact = self.fact("pfs", code)
        return fact.data["indicators"] if fact else None

    def day(self, code: str) -> date:
        return self.analysis.date_of(code) or date.fromisoformat(self.facts.on)

    def modifiers_of(self, code: str) -> tuple[str, ...]:
        return next((c.modifiers for c in self.analysis.codes if c.code == code), ())

    def procedure_codes(self) -> list[str]:
        return [c.code for c in self.analysis.codes if c.system in ("CPT", "HCPCS")]


@dataclass(frozen=True)
class Rule:
    """A named rule: what it reads and concludes is in ``apply``; its words in a partial."""

    name: str
    title: str  # what it decides, for the sources page and the panel
    citations: tuple[Citation, ...]
    apply: Callable[[Rule, Context], Iterable[Outcome]]
    answers: tuple[str, ...] = ()  # the analysis topics a conclusion of it answers

    def run(self, context: Context) -> list[Outcome]:
        return list(self.apply(self, context))

    def conclude(
        self,
        codes: list[str],
        params: dict[str, Any],
        *facts: Fact | None,
        modifiers: list[str] | None = None,
    ) -> Conclusion:
        """A conclusion citing this rule's sources and the releases of ``facts``; ``modifiers``
        are the modifiers named in the question that it answers for."""
        releases: list[dict[str, Any]] = []
        for fact in facts:
            if fact is not None and fact.source and fact.source not in releases:
                releases.append(fact.source)
        return Conclusion(self.name, codes, params, self.citations, releases, list(modifiers or []))

    def undecided(self, codes: list[str], reason: str) -> Undecided:
        return Undecided(self.name, codes, reason)


def rule(
    name: str, title: str, *citations: Citation, answers: tuple[str, ...] = ()
) -> Callable[[Callable[[Rule, Context], Iterable[Outcome]]], Rule]:
    """Make a function ``(rule, context) -> outcomes`` a named ``Rule``."""

    def make(apply: Callable[[Rule, Context], Iterable[Outcome]]) -> Rule:
        return Rule(name, title, citations, apply, answers)

    return make
