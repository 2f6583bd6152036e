"""Add-on codes: reported only with a primary procedure, and which primaries count.

The add-on code edit type decides: 1, payable only with a listed primary;
2, no primaries are listed and the contractor decides; 3, the listed
primaries are the usual ones and the contractor may allow others. Asked about
add-ons when none of the codes is one, the answer says so (from the file in
force only).
"""

from __future__ import annotations

from collections.abc import Iterator

from consultant.rules.model import Citation, Context, Outcome, Rule, rule


@rule(
    "addon_primary",
    "Whether an add-on code has its primary procedure, by edit type",
    Citation("ncci-aoc", "edit types 1, 2 and 3"),
    Citation("ncci-manual", "Chapter I, General Correct Coding Policies"),
    answers=("addon",),
)
def addon_primary(self: Rule, context: Context) -> Iterator[Outcome]:
    addons = context.usable("addon")
    for fact in addons:
        data = fact.data
        params = {
            "code": data["code"],
            "types": data["edit_types"],
            "primaries": data["primaries"],
            "present": data["primaries_present"],
            "others": [c for c in context.procedure_codes() if c != data["code"]],
            "none": [],
        }
        yield self.conclude(fact.codes, params, fact)
    not_addons = context.usable("not_addon")
    if not addons and not_addons and len(not_addons) == len(context.procedure_codes()):
        codes = [f.codes[0] for f in not_addons]
        yield self.conclude(codes, {"none": codes}, *not_addons)
    for fact in context.held_back("not_addon"):
        yield self.undecided(
            fact.codes,
            f"the add-on code edits on file are not the ones for {context.facts.day(fact)}: "
            "whether it is an add-on is not said",
        )


RULES = (addon_primary,)
