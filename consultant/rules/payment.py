"""What the fee schedule's indicators decide: paid or not, bilateral, multiple procedures,
and assistant, co- and team surgeons.

Each rule reads the PFS relative value file's indicators for a code, from the
release in force for its date of service, and speaks only when the question
calls for it (a modifier named, several procedures, or a status that means
the code is not simply paid).
"""

from __future__ import annotations

from collections.abc import Iterator

from consultant.rules.model import Citation, Context, Outcome, Rule, rule

PFS = Citation("pfs-rvu", "status codes and payment indicators")
CLAIMS_MANUAL = Citation("claims-manual", "§40, Surgeons and Global Surgery")
BILATERAL_MODIFIERS = ("50", "RT", "LT")
SURGEON_MODIFIERS = {
    "80": "assistant",
    "81": "assistant",
    "82": "assistant",
    "AS": "assistant",
    "62": "co_surgeon",
    "66": "team_surgery",
}


@rule(
    "pfs_status",
    "Whether Medicare pays a code separately, by its fee schedule status",
    PFS,
)
def pfs_status(self: Rule, context: Context) -> Iterator[Outcome]:
    for code in context.procedure_codes():
        indicators = context.pfs(code)
        if indicators and indicators.get("status") not in (None, "A"):
            params = {"code": code, "status": indicators["status"]}
            yield self.conclude([code], params, context.fact("pfs", code))


@rule(
    "bilateral",
    "Modifier 50 or RT/LT, by the bilateral surgery indicator",
    PFS,
    CLAIMS_MANUAL,
    answers=("modifier",),
)
def bilateral(self: Rule, context: Context) -> Iterator[Outcome]:
    named = [m for m in context.analysis.modifiers if m in BILATERAL_MODIFIERS]
    if not named:
        return
    for code in context.procedure_codes():
        indicators = context.pfs(code)
        if indicators and indicators.get("bilateral") in ("0", "1", "2", "3", "9"):
            params = {"code": code, "indicator": indicators["bilateral"], "named": named}
            yield self.conclude([code], params, context.fact("pfs", code), modifiers=named)


@rule(
    "multiple_procedures",
    "Modifier 51 and the multiple procedure reduction, by the multiple procedure indicator",
    PFS,
    CLAIMS_MANUAL,
    answers=("modifier",),
)
def multiple_procedures(self: Rule, context: Context) -> Iterator[Outcome]:
    by_day: dict[str, list[tuple[str, str]]] = {}
    for code in context.procedure_codes():
        indicators = context.pfs(code)
        if indicators and indicators.get("multiple_procedure") in ("0", "2", "3", "4", "9"):
            day = context.day(code).isoformat()
            by_day.setdefault(day, []).append((code, indicators["multiple_procedure"]))
    asked = "51" in context.analysis.modifiers
    for day, coded in by_day.items():
        reduced = [code for code, mpi in coded if mpi == "2"]
        if len(reduced) < 2 and not asked:
            continue
        codes = [code for code, _ in coded]
        params = {
            "on": day,
            "reduced": reduced,
            "endoscopic": [code for code, mpi in coded if mpi == "3"],
            "exempt": [code for code, mpi in coded if mpi in ("0", "9")],
            "imaging": [code for code, mpi in coded if mpi == "4"],
            "asked": asked,
        }
        facts = [context.fact("pfs", c) for c in codes]
        yield self.conclude(codes, params, *facts, modifiers=["51"] if asked else [])


@rule(
    "surgeons",
    "Assistant, co- and team surgery modifiers, by their fee schedule indicators",
    PFS,
    CLAIMS_MANUAL,
    answers=("modifier",),
)
def surgeons(self: Rule, context: Context) -> Iterator[Outcome]:
    named = [m for m in context.analysis.modifiers if m in SURGEON_MODIFIERS]
    for code in context.procedure_codes():
        indicators = context.pfs(code)
        if not indicators:
            continue
        for modifier in named:
            kind = SURGEON_MODIFIERS[modifier]
            value = indicators.get(kind)
            if value in ("0", "1", "2", "9"):
                params = {"code": code, "modifier": modifier, "kind": kind, "indicator": value}
                fact = context.fact("pfs", code)
                yield self.conclude([code], params, fact, modifiers=[modifier])


RULES = (pfs_status, bilateral, multiple_procedures, surgeons)
