"""Medically unlikely edits: are the units asked within the MUE, and what happens above it.

The MUE adjudication indicator decides what "above" means: 1, per claim line
(more lines with a modifier may be paid); 2, per day by policy (units above
are not paid); 3, per day on clinical grounds (units above may be paid on
appeal with the record). A code the file does not list may still have an MUE
CMS does not publish, so its absence is never called "no limit".
"""

from __future__ import annotations

from collections.abc import Iterator

from consultant.rules.model import Citation, Context, Outcome, Rule, rule


@rule(
    "mue_units",
    "Whether the units asked are within the MUE, by its adjudication indicator",
    Citation("ncci-mue", "adjudication indicators"),
    Citation("ncci-manual", "Chapter I, General Correct Coding Policies"),
    answers=("mue",),
)
def mue_units(self: Rule, context: Context) -> Iterator[Outcome]:
    for fact in context.usable("mue"):
        data = fact.data
        if data.get("units_asked") is None:
            continue
        params = {
            "code": data["code"],
            "units": data["units_asked"],
            "found": data["found"],
            "value": data.get("value"),
            "indicator": data.get("adjudication_indicator"),
            "exceeds": bool(data.get("exceeds")),
            "setting": data["setting"],
            "release": fact.source["version"] if fact.source else "",
        }
        yield self.conclude(fact.codes, params, fact)
    for fact in context.held_back("mue"):
        if fact.data.get("units_asked") is not None:
            yield self.undecided(
                fact.codes,
                f"the MUE file on file is not the one for {context.facts.day(fact)}: the units "
                "asked are not compared",
            )


RULES = (mue_units,)
