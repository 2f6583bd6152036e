"""The rule library: every shipped rule, in the order the reply states their conclusions,
and the one call that runs them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from consultant.analysis.model import Analysis
from consultant.drafting.facts import Facts
from consultant.rules import (
    addon,
    code_status,
    coverage,
    diagnoses,
    fees,
    global_surgery,
    guidance,
    payment,
    ptp,
    telehealth,
    units,
)
from consultant.rules.model import Conclusion, Context, Rule, Undecided

RULES: tuple[Rule, ...] = (
    *code_status.RULES,
    *ptp.RULES,
    *units.RULES,
    *addon.RULES,
    *payment.RULES,
    *coverage.RULES,
    *fees.RULES,
    *global_surgery.RULES,
    *telehealth.RULES,
    *diagnoses.RULES,
    *guidance.RULES,
)


@dataclass
class Evaluation:
    """What the rules concluded for one question, and where they could not."""

    conclusions: list[Conclusion] = field(default_factory=list)
    undecided: list[Undecided] = field(default_factory=list)

    def answered_topics(self, analysis: Analysis) -> set[str]:
        """The analysis topics the conclusions answer (their prompts to the expert go).

        Modifiers are answered only when every modifier named is spoken to by some
        conclusion: a rule on 79 says nothing about the 50 asked beside it.
        """
        by_name = {r.name: r for r in RULES}
        topics = {t for c in self.conclusions for t in by_name[c.rule].answers}
        topics |= {c.note["answers"] for c in self.conclusions if c.note and c.note["answers"]}
        covered = {m for c in self.conclusions for m in c.modifiers}
        if analysis.modifiers and not set(analysis.modifiers) <= covered:
            topics.discard("modifier")
        return topics

    def as_dict(self) -> dict[str, Any]:
        return {
            "conclusions": [c.as_dict() for c in self.conclusions],
            "undecided": [u.as_dict() for u in self.undecided],
        }


def evaluate(
    analysis: Analysis,
    facts: Facts,
    notes: list[dict[str, Any]] | None = None,
    rules: tuple[Rule, ...] = RULES,
) -> Evaluation:
    """Run every rule on the question, with the guidance ``notes`` it names; a rule that
    raises is a bug, and is not hidden."""
    context = Context(analysis, facts, tuple(notes or ()))
    evaluation = Evaluation()
    for one in rules:
        for outcome in one.run(context):
            if isinstance(outcome, Conclusion):
                evaluation.conclusions.append(outcome)
            else:
                evaluation.undecided.append(outcome)
    return evaluation
