"""What Medicare pays: the fee schedule amount of each code in the locality, the adjustments
of several procedures together (51) and of both sides (50), and the lab fee schedule rate.

Amounts come only from the releases in force on the date of service (the PFS
file of the quarter, the GPCIs of the year, the CLFS of the quarter), are
labelled with them, the locality and the date, and show their formula.
"""

from __future__ import annotations

from collections.abc import Iterator

from consultant.rules.model import Citation, Context, Outcome, Rule, rule

PAYMENT = Citation(
    "pfs-payment",
    "the payment formula: RVUs by GPCIs, times the conversion factor",
)
CLAIMS_MANUAL = Citation("claims-manual", "§40.6 (multiple surgery) and §40.7 (bilateral surgery)")
LAB = Citation("clfs", "national limitation amounts")


@rule(
    "fee_amount",
    "What Medicare pays for a code in a locality on a date",
    PAYMENT,
    answers=("payment",),
)
def fee_amount(self: Rule, context: Context) -> Iterator[Outcome]:
    for fact in context.usable("fee"):
        data = fact.data
        if not data["amounts"]:
            continue
        params = {
            "code": data["code"] + (f"-{data['modifier']}" if data["modifier"] else ""),
            "on": context.facts.day(fact),
            "where": (data["locality"] or {}).get("label") or "nationally (no locality adjustment)",
            "amounts": data["amounts"],
            "not_priced": data["not_priced"],
            "place": data["place"],
            "status": data["status"],
            "pctc": data["pctc"],
            "pctc_meaning": data["pctc_meaning"],
            "release": data["release"]["version"],
            "gpci": (data["gpci_release"] or {}).get("version"),
        }
        yield self.conclude([data["code"]], params, fact)


@rule(
    "fee_adjusted",
    "The multiple procedure and bilateral adjustments of amounts billed together",
    PAYMENT,
    CLAIMS_MANUAL,
    answers=("payment",),
)
def fee_adjusted(self: Rule, context: Context) -> Iterator[Outcome]:
    for fact in context.usable("fee_adjusted"):
        params = {"lines": fact.data["lines"], "unpaid": fact.data["unpaid"]}
        yield self.conclude(fact.codes, params, fact)


@rule(
    "lab_rate", "The Clinical Laboratory Fee Schedule rate of a lab code", LAB, answers=("payment",)
)
def lab_rate(self: Rule, context: Context) -> Iterator[Outcome]:
    for fact in context.usable("fee"):
        clfs = fact.data["clfs"]
        if clfs:
            params = {
                "code": fact.data["code"],
                "modifier": fact.data["modifier"],
                "rate": clfs["rate"],
                "on": context.facts.day(fact),
                "release": clfs["release"]["version"],
            }
            yield self.conclude([fact.data["code"]], params, fact)


RULES = (fee_amount, fee_adjusted, lab_rate)
