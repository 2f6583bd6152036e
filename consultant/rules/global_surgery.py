"""Global surgery: the window of a procedure's global period, the visits in it, and the
modifiers that apply inside it.

The window is counted from the procedure's own date of service: a 90-day
global runs from the day before through 90 days after, a 10-day one from the
day of through 10 days after, a 0-day one is the day itself. A visit's own
date says whether it falls inside.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from consultant.rules.model import Citation, Context, Outcome, Rule, rule
from consultant.rules.ptp import is_em

CLAIMS_MANUAL = Citation("claims-manual", "§40, Surgeons and Global Surgery")
BOOKLET = Citation("mln-global-surgery")
SURGICAL = {"000": 0, "010": 10, "090": 90}
GLOBAL_MODIFIERS = ("24", "25", "57", "58", "78", "79", "54", "55", "56")


def window(days: str, procedure: date) -> tuple[date, date]:
    """The first and last day of the global period of a procedure done on ``procedure``."""
    start = procedure - timedelta(days=1) if days == "090" else procedure
    return start, procedure + timedelta(days=SURGICAL[days])


def _surgical(context: Context) -> list[tuple[str, str]]:
    """(code, global days) of each procedure the fee schedule in force lists."""
    found = []
    for code in context.procedure_codes():
        indicators = context.pfs(code)
        if indicators and indicators.get("global_days"):
            found.append((code, indicators["global_days"]))
    return found


def _procedure_day(context: Context, code: str) -> date:
    own = context.analysis.date_of(code)
    if own is not None:
        return own
    procedures = [line.on for line in context.analysis.lines if line.role == "procedure"]
    return procedures[0] if procedures else context.day(code)


def _visits(context: Context, procedure: date) -> list[dict[str, Any]]:
    """The visits on other dates than the procedure's: by the words, or by an E/M code."""
    visits = []
    for line in context.analysis.lines:
        ems = [c for c in line.codes if is_em(c)]
        if line.on != procedure and (line.role == "visit" or ems):
            visits.append({"on": line.on, "codes": ems})
    return visits


@rule(
    "global_period",
    "The global surgical period of a procedure, and whether a visit falls inside it",
    CLAIMS_MANUAL,
    BOOKLET,
    Citation("pfs-rvu", "global days (GLOB DAYS)"),
    answers=("global", "em"),
)
def global_period(self: Rule, context: Context) -> Iterator[Outcome]:
    asked = "global" in context.analysis.topics
    coded = _surgical(context)
    surgery = any(days in SURGICAL for _, days in coded)
    for code, days in coded:
        fact = context.fact("pfs", code)
        if days not in SURGICAL:
            if asked and not surgery:  # beside a surgery, the visit's XXX is no news
                yield self.conclude([code], {"code": code, "days": days, "visits": []}, fact)
            continue
        procedure = _procedure_day(context, code)
        visits = _visits(context, procedure)
        if not (asked or visits):
            continue
        first, last = window(days, procedure)
        params = {
            "code": code,
            "days": days,
            "procedure": procedure.isoformat(),
            "first": first.isoformat(),
            "last": last.isoformat(),
            "visits": [
                {
                    "on": v["on"].isoformat(),
                    "codes": v["codes"],
                    "inside": first <= v["on"] <= last,
                    "day": (v["on"] - procedure).days,
                }
                for v in visits
            ],
        }
        yield self.conclude([code, *[c for v in visits for c in v["codes"]]], params, fact)


@rule(
    "global_modifiers",
    "What each global-surgery modifier named means, and which of two fits",
    CLAIMS_MANUAL,
    BOOKLET,
    answers=("global", "modifier"),
)
def global_modifiers(self: Rule, context: Context) -> Iterator[Outcome]:
    named = [m for m in context.analysis.modifiers if m in GLOBAL_MODIFIERS]
    surgical = [(code, days) for code, days in _surgical(context) if days in SURGICAL]
    if not named or not (surgical or "global" in context.analysis.topics):
        return
    codes = [code for code, _ in surgical]
    facts = [context.fact("pfs", code) for code in codes]
    yield self.conclude(codes, {"named": named, "codes": codes}, *facts, modifiers=named)


@rule(
    "em_with_procedure",
    "An E/M service on the day of a procedure with a global period",
    Citation("ncci-manual", "Chapter I, General Correct Coding Policies"),
    CLAIMS_MANUAL,
    answers=("em", "global"),
)
def em_with_procedure(self: Rule, context: Context) -> Iterator[Outcome]:
    ems = [c for c in context.procedure_codes() if is_em(c)]
    for em in ems:
        for code, days in _surgical(context):
            if days not in SURGICAL or context.day(em) != _procedure_day(context, code):
                continue
            params = {
                "em": em,
                "code": code,
                "days": days,
                "major": days == "090",
                "named": [
                    m
                    for m in context.modifiers_of(em) or context.analysis.modifiers
                    if m in ("25", "57")
                ],
            }
            yield self.conclude(
                [em, code], params, context.fact("pfs", code), modifiers=params["named"]
            )


RULES = (global_period, global_modifiers, em_with_procedure)
