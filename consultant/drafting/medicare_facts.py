"""The Medicare coverage and payment facts of a question: the coverage articles that list its
procedure codes where the patient was seen, and what Medicare pays for them there.

Where the patient was seen comes from the question (a state or a contractor
named), else from the requester's own setting (an admin sets a state or MACs
per allowed sender or domain), else it is not known: the facts then give
every jurisdiction's article and the reviewer confirms which applies. The
amount is for the locality the question names (a city, county or locality),
else the only one of the state's; else it is the national amount, said so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import date
from typing import TYPE_CHECKING, Any

from consultant.analysis.model import Analysis
from consultant.codes.coverage import ArticleCoverage, Jurisdiction
from consultant.codes.fees import FeeResult, Locality, adjusted
from consultant.codes.lookup import CodeLookup
from consultant.codes.systems import System

if TYPE_CHECKING:
    from consultant.drafting.facts import Facts

COVERAGE_TOPICS = frozenset({"coverage", "crosswalk"})
# The topics that need to know where the patient was seen.
MEDICARE_TOPICS = COVERAGE_TOPICS | {"payment"}
Missing = Callable[[str, str], None]


def jurisdiction_for(
    analysis: Analysis, lookup: CodeLookup, on: date, requester: Jurisdiction | None
) -> Jurisdiction:
    """Where coverage is asked for: the question's state or MAC, else the requester's."""
    setting = analysis.setting
    if setting.mac:
        macs = _macs_named(setting.mac, lookup.coverage.macs(on))
        if macs:
            return Jurisdiction(macs=macs, source="question")
    if setting.state:
        return Jurisdiction(state=setting.state, source="question")
    return requester if requester is not None and requester.known else Jurisdiction()


def _macs_named(named: str, macs: dict[str, str]) -> tuple[str, ...]:
    """The contractor numbers ``named`` means: a number, or words of a contractor's name
    ("Novitas", "J-X", "JX")."""
    if named in macs:
        return (named,)
    wanted = named.upper().replace("-", "")
    return tuple(
        sorted(
            number
            for number, name in macs.items()
            if any(wanted == word.replace("-", "") for word in name.upper().split())
            or (len(wanted) > 3 and wanted in name.upper())
        )
    )


def coverage_facts(
    facts: Facts,
    analysis: Analysis,
    lookup: CodeLookup,
    day: Callable[[str], date],
    procedures: list[str],
    jurisdiction: Jurisdiction,
    missing: Missing,
) -> None:
    """A fact per coverage article that lists each procedure code, with the diagnoses asked,
    and the NCDs whose title the code's description matches (for the reviewer)."""
    diagnoses = analysis.codes_of(System.ICD10CM)
    if not jurisdiction.known:
        facts.limits.append(
            "Where the patient was seen is not known (no state or MAC in the question, none "
            "set for this sender): the coverage facts give every jurisdiction's article; "
            "confirm which applies"
        )
    for code in procedures:
        on = day(code)
        entry = lookup.find(code, on)
        description = entry.description if entry is not None and entry.found else None
        result = lookup.coverage.coverage(code, diagnoses, on, jurisdiction, description)
        for ncd in result.ncds:
            facts.add("ncd", [code], ncd | {"code": code}, result.ncd_release, on)
        if result.release is None:
            missing("Medicare coverage articles", result.message or "not loaded")
            continue
        shared = {"jurisdiction": result.jurisdiction, "code": code}
        for article in result.articles:
            data = _article(article) | shared
            facts.add("coverage", [code, *result.diagnoses], data, result.release, on)
        if not result.articles:
            data = shared | {"elsewhere": result.elsewhere, "other_versions": result.other_versions}
            facts.add("coverage_none", [code], data, result.release, on)
            if result.other_versions:
                facts.limits.append(
                    f"Article versions that list {code} but are not in force on {on}: "
                    f"{', '.join(result.other_versions)}"
                )


def _article(article: ArticleCoverage) -> dict[str, Any]:
    return asdict(article) | {"cited": article.cite()}


def locality_for(
    analysis: Analysis, lookup: CodeLookup, on: date, requester: Jurisdiction | None
) -> tuple[Locality | None, bool]:
    """The payment locality the question names (a locality, or a county named as one), else
    the only one of the state's; and whether a place was named that the file does not know
    (a city that is not a locality's name is no locality: the reviewer chooses)."""
    setting = analysis.setting
    state = setting.state or (requester.state if requester else None)
    for place in setting.places:
        if place.endswith(" County"):
            found = lookup.fees.localities(on, state=state, county=place).found
        else:
            found = lookup.fees.localities(on, place=place, state=setting.state).found
        if len(found) == 1:
            return found[0], False
    if state and not setting.places:
        found = lookup.fees.localities(on, state=state).found
        if len(found) == 1:
            return found[0], False
    return None, bool(setting.places)


def fee_facts(
    facts: Facts,
    analysis: Analysis,
    lookup: CodeLookup,
    day: Callable[[str], date],
    procedures: list[str],
    where: tuple[Locality | None, bool],
    missing: Missing,
) -> None:
    """What Medicare pays for each procedure code, and the adjustments of those of one day."""
    locality, unknown_place = where
    results = []
    modifiers = {c.code: c.modifiers for c in analysis.codes}
    for code in procedures:
        on = day(code)
        modifier = next((m for m in modifiers.get(code, ()) if m in ("26", "TC", "53")), "")
        result = lookup.fees.fee(code, modifier, locality, on)
        if result.release is None and result.clfs is None:
            missing("physician fee schedule", result.message or "not loaded")
            continue
        data = result.as_dict() | {
            "place": analysis.setting.place,
        }
        facts.add("fee", [code], data, result.release or result.clfs["release"], on)  # type: ignore[index]
        results.append(result)
    if locality is None and any(r.amounts for r in results):
        facts.limits.append(
            (
                "A place named in the question is not a locality or county of the locality file"
                if unknown_place
                else "No payment locality in the question or for this sender"
            )
            + ": the amounts are the national ones (every GPCI 1.000); confirm the locality"
        )
    if "code_selection" in analysis.topics:
        return  # codes offered as alternatives are not billed together
    setting = "facility" if analysis.setting.place == "facility" else "non_facility"
    # A column 2 code of an edit with indicator 0 is not paid beside its column 1 code.
    unpaid = frozenset(
        f.data["column2"] for f in facts.of("ptp") if f.data["modifier_indicator"] == 0
    )
    by_day: dict[date, list[FeeResult]] = {}
    for result in results:
        by_day.setdefault(date.fromisoformat(result.on), []).append(result)
    for on, same_day in by_day.items():
        lines = adjusted(same_day, modifiers, setting, unpaid)
        if lines:
            data = {"lines": lines, "unpaid": sorted(unpaid & {r.code for r in same_day})}
            codes = [line["code"] for line in lines]
            facts.add("fee_adjusted", codes, data, same_day[0].release, on)
