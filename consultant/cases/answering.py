"""From a parsed question to a draft answer: analyse the new text, look up the facts, render.

Processing uses this for every new case and follow-up, and `consultant
analyze` / `consultant draft` show what it would do for one file.
"""

from __future__ import annotations

from datetime import date

from consultant.analysis.analyze import analyze
from consultant.analysis.model import Analysis, Known
from consultant.analysis.modifiers import MODIFIER_SYSTEM
from consultant.analysis.phi import redact
from consultant.codes.lookup import CodeLookup
from consultant.codes.systems import System
from consultant.drafting.draft import Draft, make_draft
from consultant.drafting.facts import Facts, gather
from consultant.mail.parse import ParsedMessage
from consultant.services import Services


def known_in(lookup: CodeLookup) -> Known:
    """The analysis's question "does this code (or modifier) exist?", asked of the code data."""

    def known(system: str, code: str) -> bool:
        if system == MODIFIER_SYSTEM:
            return isinstance(lookup.modifier(code).source, dict)  # in the HCPCS release
        return lookup.code(System(system), code).found

    return known


def analyse(
    services: Services, parsed: ParsedMessage, today: date | None = None
) -> tuple[Analysis, Facts]:
    """The analysis of the message's new text and the facts the code data gives for it."""
    analysis = analyze(parsed.subject, parsed.new_text, known_in(services.lookup))
    return analysis, gather(analysis, services.lookup, today)


def draft_answer(
    services: Services, parsed: ParsedMessage, reference: str | None, today: date | None = None
) -> Draft:
    """The draft reply to ``parsed``, with patient details removed from all it quotes."""
    analysis, facts = analyse(services, parsed, today)
    return make_draft(
        services.renderer,
        analysis,
        facts,
        requester_name=parsed.from_name or None,
        subject=redact(parsed.subject),
        reference=reference,
        question=redact(parsed.new_text),
        attachments=[a.filename for a in parsed.attachments],
        display_name=services.settings.display_name,
    )
