"""Medicare coverage: what the billing and coding article in force says of the diagnoses given
for a procedure or supply, and the modifiers it lists.

An article lists the diagnoses that support medical necessity for its codes,
group by group, and sometimes the ones that do not. A diagnosis in a covered
group covers the code (where the group's paragraph pairs it with another
diagnosis, only with that one too); one in a non-covered group does not, and
an Advance Beneficiary Notice given before the service is then what lets the
provider bill the patient; one in neither list is only that, not listed, and
never called not covered. Each article is its contractor's: without a known
state or MAC, every jurisdiction's answer is given and the reviewer confirms.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from consultant.rules.model import Citation, Context, Outcome, Rule, rule

MCD = Citation("mcd", "billing and coding articles")
ABN = Citation("abn", "when an ABN may be issued")
COVERAGE_MODIFIERS = frozenset({"GA", "GZ", "GY", "KX"})


def _where(fact_data: dict[str, Any]) -> dict[str, Any]:
    """Who the article is for: its contractors and their states, and whether that was asked."""
    contractors = fact_data["contractors"]
    return {
        "article": fact_data["cited"],
        "states": sorted({s for c in contractors for s in c["states"]}),
        "known": bool(fact_data["jurisdiction"]["state"] or fact_data["jurisdiction"]["macs"]),
    }


@rule(
    "coverage_diagnosis",
    "Whether a diagnosis covers a procedure under the coverage article in force",
    MCD,
    ABN,
    answers=("coverage", "crosswalk"),
)
def coverage_diagnosis(self: Rule, context: Context) -> Iterator[Outcome]:
    asked = set(context.analysis.codes_of("ICD-10-CM"))
    stale = {id(f) for f in context.facts.of("coverage") if context.facts.is_stale(f)}
    for fact in context.usable("coverage"):
        data = fact.data
        for diagnosis in data["diagnoses"]:
            groups = diagnosis["groups"]
            params = {
                "code": data["code"],
                "dx": diagnosis["code"],
                "status": diagnosis["status"],
                "groups": [g["group"] for g in groups],
                "paragraph": groups[0]["paragraph"] if groups else "",
                # The paragraph asks for one of these beside it; none named means it is needed.
                "needs": [] if asked & set(diagnosis["with_codes"]) else diagnosis["with_codes"],
                "other_groups": diagnosis["other_groups"],
                "lcds": [lcd["id"] for lcd in data["lcds"]],
                **_where(data),
            }
            if diagnosis["status"] != "covered" and id(fact) in stale:
                says = (
                    f"lists {diagnosis['code']} as not covered"
                    if diagnosis["status"] == "noncovered"
                    else f"does not list {diagnosis['code']}"
                )
                yield self.undecided(
                    fact.codes,
                    f"{data['cited']} {says}, but the coverage export on file is not the one "
                    f"for {context.facts.day(fact)}: not said",
                )
                continue
            yield self.conclude([data["code"], diagnosis["code"]], params, fact)


@rule(
    "coverage_modifiers",
    "The modifiers a coverage article lists for a code, and which the question names",
    MCD,
    answers=("modifier",),
)
def coverage_modifiers(self: Rule, context: Context) -> Iterator[Outcome]:
    named = set(context.analysis.modifiers)
    for fact in context.usable("coverage"):
        data = fact.data
        listed = sorted({m for group in data["modifiers"] for m in group["modifiers"]})
        if not listed:
            continue
        paragraphs = [g["paragraph"] for g in data["code_groups"] if g["paragraph"]]
        params = {
            "code": data["code"],
            "listed": listed,
            "named": sorted(named & set(listed)),
            "missing": [m for m in listed if m not in named],
            "paragraph": paragraphs[0] if paragraphs else "",
            **_where(data),
        }
        yield self.conclude([data["code"]], params, fact, modifiers=sorted(named & set(listed)))


RULES = (coverage_diagnosis, coverage_modifiers)
