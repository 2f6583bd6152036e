"""NCCI procedure-to-procedure edits: is the pair payable, and which modifier, if any, fits.

The modifier indicator of an edit in force decides: 0, never both; 1, both
when the services were distinct and a modifier says how; 9, the edit never
applied. An edit outside its dates (deleted, or not yet in force on the date
of service) does not apply to that date.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from consultant.rules.model import Citation, Context, Outcome, Rule, rule

ANATOMIC = frozenset(
    {"E1", "E2", "E3", "E4", "FA", "TA", "LT", "RT", "LC", "LD", "LM", "RC", "RI"}
    | {f"F{n}" for n in range(1, 10)}
    | {f"T{n}" for n in range(1, 10)}
)
X_MODIFIERS = {
    "XE": "a separate encounter",
    "XS": "a separate organ or structure",
    "XP": "a different practitioner",
    "XU": "an unusual service that does not overlap the usual parts of the main one",
}
# The modifiers CMS lists as NCCI-associated: the ones that may bypass an edit with indicator 1.
NCCI_ASSOCIATED = (
    ANATOMIC | {"24", "25", "57", "58", "78", "79", "27", "59", "91"} | set(X_MODIFIERS)
)
EM_MODIFIERS = frozenset({"25", "57"})
DISTINCT_MODIFIERS = frozenset({"59", "91", *X_MODIFIERS})

MANUAL = Citation("ncci-manual", "Chapter I, General Correct Coding Policies")
INDICATORS = Citation("ncci-ptp", "modifier indicators")


def is_em(code: str) -> bool:
    """An E/M service code (99202-99499): a modifier 59 or X never goes on one."""
    return code.isdigit() and 99202 <= int(code) <= 99499


def _edit_params(context: Context, data: dict[str, Any]) -> dict[str, Any]:
    named = [m for m in context.analysis.modifiers]
    return {
        "column1": data["column1"],
        "column2": data["column2"],
        "indicator": data["modifier_indicator"],
        "named": named,
        "bypass_named": [m for m in named if m in NCCI_ASSOCIATED],
        "on": context.day(data["column1"]).isoformat(),
        "column2_is_em": is_em(data["column2"]),
    }


@rule(
    "ptp_edit",
    "Whether two codes billed the same day are both paid under an NCCI PTP edit",
    MANUAL,
    INDICATORS,
    answers=("ncci", "modifier"),
)
def ptp_edit(self: Rule, context: Context) -> Iterator[Outcome]:
    for fact in context.usable("ptp"):
        params = _edit_params(context, fact.data)
        answered = params["named"] if params["indicator"] == 0 else params["bypass_named"]
        codes = [params["column1"], params["column2"]]
        yield self.conclude(codes, params, fact, modifiers=answered)
    for fact in context.held_back("ptp_none"):
        yield self.undecided(
            fact.codes,
            f"the PTP release on file is not the one for {context.facts.day(fact)}: whether an "
            "edit applies is not said",
        )


@rule(
    "ptp_clear",
    "Two codes billed the same day that no NCCI PTP edit pairs",
    INDICATORS,
    answers=("ncci",),
)
def ptp_clear(self: Rule, context: Context) -> Iterator[Outcome]:
    for fact in context.usable("ptp_none"):
        pairs = fact.data["pairs"]
        count = len(fact.codes)
        params = {
            "pairs": pairs,
            "codes": fact.codes,
            "every_pair": count > 2 and len(pairs) == count * (count - 1) // 2,
            "on": context.facts.day(fact),
            # Only the modifiers whose one job is to bypass an edit: 25, 78, RT... have others.
            "named": [m for m in context.analysis.modifiers if m in DISTINCT_MODIFIERS],
        }
        yield self.conclude(fact.codes, params, fact, modifiers=params["named"])


@rule(
    "ptp_dates",
    "An NCCI PTP edit that is deleted, not yet in force, or never applied on the date of service",
    INDICATORS,
    answers=("ncci",),
)
def ptp_dates(self: Rule, context: Context) -> Iterator[Outcome]:
    in_force = {frozenset(f.codes) for f in context.usable("ptp")}
    for fact in context.usable("ptp_window"):
        if frozenset(fact.codes) in in_force:
            continue
        data = fact.data
        on = context.facts.day(fact)
        if data["deletion"] and data["deletion"] == data["effective"]:
            state = "never"
        elif data["effective"] > on:
            state = "not_yet"
        else:
            state = "deleted"
        params = {
            "column1": data["column1"],
            "column2": data["column2"],
            "effective": data["effective"],
            "deletion": data["deletion"],
            "on": on,
            "state": state,
        }
        yield self.conclude(fact.codes, params, fact)


@rule(
    "bypass_modifier",
    "Which modifier fits a pair under a PTP edit with indicator 1",
    MANUAL,
    Citation("mln-xepsu"),
    answers=("modifier",),
)
def bypass_modifier(self: Rule, context: Context) -> Iterator[Outcome]:
    for fact in context.usable("ptp"):
        if fact.data["modifier_indicator"] != 1:
            continue
        params = _edit_params(context, fact.data)
        named = params["named"]
        if params["column2_is_em"]:
            choice = "em"
        elif any(m in ANATOMIC for m in named):
            choice = "anatomic"
        elif any(m in X_MODIFIERS for m in named):
            choice = "x"
        elif "59" in named:
            choice = "59"
        else:
            choice = "none_named"
        params |= {
            "choice": choice,
            "anatomic": [m for m in named if m in ANATOMIC],
            "x_named": {m: X_MODIFIERS[m] for m in named if m in X_MODIFIERS},
            "x_modifiers": X_MODIFIERS,
            "em_named": [m for m in named if m in EM_MODIFIERS],
        }
        codes = [params["column1"], params["column2"]]
        yield self.conclude(codes, params, fact, modifiers=params["bypass_named"])


RULES = (ptp_edit, ptp_clear, ptp_dates, bypass_modifier)
