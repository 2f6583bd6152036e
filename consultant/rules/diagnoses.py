"""Diagnosis coding: which of two excluded codes to report, in what order, and to how many
characters.

Excludes1 pairs among the codes named are grouped (F17.210, Z72.0 and
Z87.891 are one choice, not three); a "code first" or "use additional code"
note that names another code asked gives the order; a header code is never
reported, and the full code (7th character, placeholder X) is.
"""

from __future__ import annotations

from collections.abc import Iterator

from consultant.rules.model import Citation, Context, Outcome, Rule, rule

GUIDELINES = "icd10cm-guidelines"


def _groups(pairs: list[list[str]]) -> list[list[str]]:
    """Connected groups of codes: each pair joins its two codes' groups."""
    groups: list[list[str]] = []
    for a, b in pairs:
        joined = [g for g in groups if a in g or b in g]
        merged = [c for g in joined for c in g]
        merged += [c for c in (a, b) if c not in merged]
        groups = [g for g in groups if g not in joined] + [merged]
    return groups


def _description(context: Context, code: str) -> str:
    fact = context.fact("code", code)
    return (fact.data.get("description") or "") if fact else ""


@rule(
    "excludes1",
    "Which of the diagnoses an Excludes1 note keeps apart to report",
    Citation(GUIDELINES, "Section I.A.12.a, Excludes1"),
    answers=("diagnosis",),
)
def excludes1(self: Rule, context: Context) -> Iterator[Outcome]:
    facts = context.usable("excludes1")
    for group in _groups([f.codes for f in facts]):
        order = [c for c in context.analysis.codes_of("ICD-10-CM") if c in group]
        used = [f for f in facts if set(f.codes) <= set(group)]  # one fact a pair
        params = {
            "codes": order,
            "descriptions": {c: _description(context, c) for c in order},
            "notes": [
                {"on": f.data["note_on"], "note": f.data["note"], "codes": f.codes} for f in used
            ],
        }
        yield self.conclude(order, params, *used)


@rule(
    "sequencing",
    "The order of two diagnoses a code-first or use-additional note names",
    Citation(GUIDELINES, "Section I.A.13, Etiology/manifestation convention"),
    answers=("diagnosis",),
)
def sequencing(self: Rule, context: Context) -> Iterator[Outcome]:
    for fact in context.usable("icd_note"):
        code, named = fact.codes[0], fact.data["named"]
        kind = fact.data["kind"]
        if kind == "code_first":
            first, then = named, [code]
        elif kind == "use_additional_code":
            first, then = [code], named
        else:
            first, then = [code], named
        params = {"kind": kind, "first": first, "then": then, "on": fact.data["on"]}
        yield self.conclude([*first, *then], params, fact)


@rule(
    "icd_specificity",
    "A diagnosis header is not reported: the full code, with its 7th character, is",
    Citation(GUIDELINES, "Section I.A, Conventions"),
    Citation(GUIDELINES, "Section I.B, General Coding Guidelines"),
    answers=("diagnosis", "code_selection"),
)
def icd_specificity(self: Rule, context: Context) -> Iterator[Outcome]:
    for fact in context.usable("code"):
        data = fact.data
        if data["system"] != "ICD-10-CM" or data["status"] != "header":
            continue
        children = [c["code"] for c in data.get("children", [])]
        longest = max((len(c.replace(".", "")) for c in children), default=0)
        params = {
            "code": data["code"],
            "examples": children[:4],
            "seventh": longest == 7,
            "placeholder": any("X" in c.split(".")[-1] for c in children if "." in c),
        }
        yield self.conclude([data["code"]], params, fact)


RULES = (excludes1, sequencing, icd_specificity)
