"""Telehealth claims: the place of service and the modifiers 95, 93, GT and FQ.

Medicare's professional telehealth claims carry place of service 02 or 10
and, where CMS asks for it, modifier 95; GT is left to critical access
hospitals billing under method II, 93 marks audio-only services, FQ the
audio-only services of rural health clinics and FQHCs. Other payers set
their own rules, so for them the expert confirms.
"""

from __future__ import annotations

from collections.abc import Iterator

from consultant.rules.model import Citation, Context, Outcome, Rule, rule

TELEHEALTH_MODIFIERS = ("95", "93", "GT", "FQ", "FR")
TELEHEALTH_POS = (2, 10)
PAYER_WORDS = {
    "medicare_advantage": "the Medicare Advantage plan",
    "medicaid": "Medicaid",
    "tricare": "Tricare",
    "commercial": "the commercial payer",
}


@rule(
    "telehealth",
    "Place of service and modifiers on a telehealth claim",
    Citation("claims-manual", "§190, Medicare Payment for Telehealth Services"),
    Citation("benefit-manual", "§270, Telehealth Services"),
    answers=("modifier",),
)
def telehealth(self: Rule, context: Context) -> Iterator[Outcome]:
    named = [m for m in context.analysis.modifiers if m in TELEHEALTH_MODIFIERS]
    pos = context.analysis.setting.pos
    if not named and pos not in TELEHEALTH_POS:
        return
    payer = context.analysis.setting.payer
    params = {
        "named": named,
        "pos": pos,
        "medicare": payer in (None, "medicare"),
        "payer": context.analysis.setting.payer_name or PAYER_WORDS.get(payer or "", ""),
        "codes": context.procedure_codes(),
    }
    yield self.conclude(context.procedure_codes(), params, modifiers=named)


RULES = (telehealth,)
