"""Whether each code is the one to report on its date of service: not deleted, not yet in
force, and the code Medicare uses for the service (a HCPCS G-code in place of some CPT codes).
"""

from __future__ import annotations

from collections.abc import Iterator

from consultant.rules.model import Citation, Context, Outcome, Rule, rule

# CPT codes Medicare does not take for a service it pays under a HCPCS Level II code.
MEDICARE_CODE_FOR = {
    "97014": {
        "codes": ["G0283"],
        "service": "unattended electrical stimulation (other than wound care)",
    },
    "90471": {
        "codes": ["G0008", "G0009", "G0010"],
        "service": "administering an influenza, pneumococcal or hepatitis B vaccine",
    },
}
NOT_IN_FORCE = ("deleted", "terminated", "not_yet_effective")


@rule(
    "code_in_force",
    "A code deleted, terminated or not yet in force on its date of service",
    Citation("hcpcs", "quarterly and annual updates"),
    Citation("icd10cm-guidelines", "Section I.A, Conventions"),
    answers=("code_selection",),
)
def code_in_force(self: Rule, context: Context) -> Iterator[Outcome]:
    for fact in context.usable("code"):
        data = fact.data
        if data["status"] in NOT_IN_FORCE:
            params = {
                "code": data["code"],
                "system": data["system"],
                "status": data["status"],
                "on": context.facts.day(fact),
                "effective": data.get("effective"),
                "terminated": data.get("terminated"),
            }
            yield self.conclude([data["code"]], params, fact)
    for fact in context.held_back("code"):
        yield self.undecided(
            fact.codes,
            f"{fact.codes[0]} is not in the {fact.data['system']} release on file, which is "
            f"not the one for {context.facts.day(fact)}: whether it is valid is not said",
        )


@rule(
    "medicare_code",
    "The HCPCS code Medicare uses in place of a CPT code for the same service",
    Citation("hcpcs"),
    Citation("pfs-rvu", "status codes and payment indicators"),
    answers=("code_selection",),
)
def medicare_code(self: Rule, context: Context) -> Iterator[Outcome]:
    if context.analysis.setting.payer not in (None, "medicare"):
        return
    for code in context.procedure_codes():
        if code in MEDICARE_CODE_FOR:
            params = {"code": code, **MEDICARE_CODE_FOR[code]}
            yield self.conclude([code, *params["codes"]], params, context.fact("pfs", code))


RULES = (code_in_force, medicare_code)
