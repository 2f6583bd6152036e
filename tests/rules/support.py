"""Questions for the rule tests: an analysis and the facts a lookup would give, built as data.

The rules read only these two structures, so each rule is tested on the exact
facts that decide it; tests/drafting runs the same rules on facts looked up in
real and constructed code files.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from consultant.analysis.model import Analysis, FoundCode, Line, Setting
from consultant.drafting.conclusions import word
from consultant.drafting.facts import Fact, Facts
from consultant.drafting.render import Renderer
from consultant.rules.library import Evaluation, evaluate

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
ON = "2026-11-02"


def release(kind: str, version: str, effective: str = "2026-10-01", id_: int = 1) -> dict[str, Any]:
    setting = "practitioner" if kind in ("ncci-ptp", "mue") else None
    return {
        "id": id_,
        "kind": kind,
        "setting": setting,
        "version": version,
        "effective": effective,
        "source": f"{kind}.txt",
    }


PTP = release("ncci-ptp", "v323r0", id_=1)
MUE = release("mue", "2026Q4", id_=2)
AOC = release("aoc", "2026Q4", id_=3)
PFS = release("pfs", "2026-Oct", id_=4)
ICD = release("icd10cm", "2026", "2025-10-01", id_=5)
HCPCS_2020 = release("hcpcs", "2020", "2020-01-01", id_=6)
HCPCS = release("hcpcs", "2026-Oct", id_=7)


def question(
    *codes: str | tuple[str, str],
    modifiers: tuple[str, ...] = (),
    topics: tuple[str, ...] = (),
    lines: tuple[Line, ...] = (),
    setting: Setting | None = None,
    units: dict[str, int] | None = None,
) -> Analysis:
    """An analysis naming ``codes`` (a bare code is CPT; ``(system, code)`` otherwise)."""
    found = []
    for code in codes:
        system, value = code if isinstance(code, tuple) else ("CPT", code)
        found.append(FoundCode(system, value, (), (units or {}).get(value)))
    return Analysis(
        codes=tuple(found),
        modifiers=modifiers,
        topics=topics,
        lines=lines,
        setting=setting or Setting(),
        dates_of_service=tuple(sorted({line.on for line in lines}))[:1] or (date(2026, 11, 2),),
    )


def facts(*items: Fact, on: str = ON) -> Facts:
    return Facts(on, "practitioner", list(items))


def ptp(column1: str, column2: str, indicator: int, **more: Any) -> Fact:
    data = {
        "column1": column1,
        "column2": column2,
        "modifier_indicator": indicator,
        "effective": more.get("effective", "2003-01-01"),
        "deletion": more.get("deletion"),
        "rationale": "Standards of medical / surgical practice",
    }
    kind = more.get("kind", "ptp")
    return Fact(kind, [column1, column2], data, more.get("source", PTP))


def pfs(code: str, **indicators: str) -> Fact:
    values = {"status": "A", "global_days": "XXX", "bilateral": "0", "multiple_procedure": "0"}
    values |= indicators
    return Fact("pfs", [code], {"code": code, "indicators": values}, PFS)


def code(code_: str, system: str, status: str, source: dict[str, Any], **data: Any) -> Fact:
    return Fact(
        "code",
        [code_],
        {"code": code_, "system": system, "status": status, "description": None} | data,
        source,
    )


def conclude(analysis: Analysis, gathered: Facts) -> Evaluation:
    """Run every rule and put its conclusions into words, as a draft does."""
    return word(Renderer(TEMPLATES), evaluate(analysis, gathered))


def by_rule(evaluation: Evaluation, rule: str) -> list[Any]:
    return [c for c in evaluation.conclusions if c.rule == rule]
