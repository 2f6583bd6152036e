"""From a parsed question to a draft answer: analyse the new text, look up the facts, render.

Processing uses this for every new case and follow-up, and `consultant
analyze` / `consultant draft` show what it would do for one file.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from config.desks import MAIN as MAIN_DESK
from consultant.analysis.analyze import analyze
from consultant.analysis.model import Analysis, Known
from consultant.analysis.modifiers import MODIFIER_SYSTEM
from consultant.analysis.phi import (
    PhiFindings,
    file_name_words,
    find_phi,
    redact,
    redact_file_name,
)
from consultant.analysis.topics import ADDON_SYSTEM
from consultant.cases.guidance import notes_for
from consultant.cases.plain_language import current_for
from consultant.cases.senders import jurisdiction_of
from consultant.codes.lookup import CodeLookup
from consultant.codes.systems import System
from consultant.drafting.automatic import AutomaticAnswer, automatic_answer
from consultant.drafting.draft import Draft, make_draft
from consultant.drafting.facts import Facts, gather
from consultant.drafting.medicare_facts import MEDICARE_TOPICS
from consultant.mail.parse import ParsedMessage
from consultant.services import Services

KNOWN_PER_CODE = 10  # lookups that may settle ambiguous shapes, per code looked up


def known_in(lookup: CodeLookup) -> Known:
    """The analysis's question "does this code (or modifier) exist?", asked of the code data."""

    def known(system: str, code: str) -> bool:
        if system == MODIFIER_SYSTEM:
            return isinstance(lookup.modifier(code).source, dict)  # in the HCPCS release
        if system == ADDON_SYSTEM:
            return lookup.addon(code).is_addon  # in the add-on edits in force today
        return lookup.code(System(system), code).found

    return known


class _CountedKnown:
    """``known`` that stops asking the data after ``limit`` questions (then: not known).

    Analysis asks about every ambiguous token; a message of thousands of
    code-like tokens would otherwise cost thousands of lookups.
    """

    def __init__(self, known: Known, limit: int) -> None:
        self.known, self.limit, self.asked = known, limit, 0

    def __call__(self, system: str, code: str) -> bool:
        self.asked += 1
        return self.asked <= self.limit and self.known(system, code)

    @property
    def exceeded(self) -> bool:
        return self.asked > self.limit


def analyse(
    services: Services, parsed: ParsedMessage, today: date | None = None
) -> tuple[Analysis, Facts]:
    """The analysis of the message's new text and the facts the code data gives for it."""
    # The new text, with a forwarded denial (or other message) below it that it asks about.
    text = parsed.question_text(services.settings.desks.addresses)
    return analyse_text(services, parsed.subject, text, parsed.from_address, today)


def analyse_text(
    services: Services,
    subject: str,
    text: str,
    requester: str | None,
    today: date | None = None,
) -> tuple[Analysis, Facts]:
    """The analysis of a question's ``text`` and the facts the code data gives for it.

    Bounded whatever the text holds: the text analysed, the lookups that
    settle ambiguous shapes, the codes looked up and the pairs checked each
    stop at a setting, and each limit reached is said in the facts.
    ``requester`` (an address) says where the patient is seen when the
    question does not.
    """
    settings = services.settings
    limits: list[str] = []
    if len(text) > settings.max_text_chars:
        limits.append(f"only the first {settings.max_text_chars:,} characters were analysed")
        text = text[: settings.max_text_chars]
    known = _CountedKnown(known_in(services.lookup), settings.max_message_codes * KNOWN_PER_CODE)
    analysis = analyze(subject, text, known, today)
    if known.exceeded:
        limits.append(
            f"{known.asked:,} ambiguous code shapes: only the first {known.limit:,} were "
            "checked against the code data"
        )
    if len(analysis.codes) > settings.max_message_codes:
        limits.append(
            f"{len(analysis.codes):,} codes named: only the first "
            f"{settings.max_message_codes:,} were looked up"
        )
        analysis = replace(analysis, codes=analysis.codes[: settings.max_message_codes])
    jurisdiction = None
    if MEDICARE_TOPICS & set(analysis.topics):  # a query only when a draft will use it
        with services.db.read_session() as session:
            jurisdiction = jurisdiction_of(session, requester)
    with services.db.read_session() as session:
        found = current_for(session, [(c.system, c.code) for c in analysis.codes])
    plain = {key: description.as_fact() for key, description in found.items()}
    facts = gather(analysis, services.lookup, today, settings.max_code_pairs, jurisdiction, plain)
    facts.limits[:0] = limits
    return analysis, facts


def message_phi(parsed: ParsedMessage) -> PhiFindings:
    """PHI anywhere in the message: the new text, the quoted and forwarded parts too (the
    analysis reads the new text only, but a patient named below it is still PHI), and the
    attachments' file names (``Jenkins_Harold_DOB_1962-03-14.pdf``)."""
    names = "\n".join(file_name_words(a.filename) for a in parsed.attachments)
    return find_phi(f"{parsed.subject}\n{parsed.text}\n{names}")


def draft_answer(
    services: Services,
    parsed: ParsedMessage,
    reference: str | None,
    today: date | None = None,
    desk: str = MAIN_DESK,
) -> Draft:
    """The draft reply to ``parsed``, with patient details removed from all it quotes."""
    analysis, facts = analyse(services, parsed, today)
    return compose_draft(services, analysis, facts, parsed, reference, desk=desk)


def answer_message(
    services: Services,
    parsed: ParsedMessage,
    reference: str | None,
    today: date | None = None,
    desk: str = MAIN_DESK,
) -> tuple[Draft, AutomaticAnswer]:
    """The draft reply to ``parsed``, and the automatic answer it gives the requester."""
    analysis, facts = analyse(services, parsed, today)
    draft = compose_draft(services, analysis, facts, parsed, reference, desk=desk)
    return draft, automatic_answer(services.renderer, analysis, facts, draft)


def compose_draft(
    services: Services,
    analysis: Analysis,
    facts: Facts,
    parsed: ParsedMessage | None,
    reference: str | None,
    question: str = "",
    desk: str = MAIN_DESK,
) -> Draft:
    """The draft for an analysed question, with the experts' guidance notes it names.

    Of ``parsed`` (None for a question asked on the web, given as ``question``)
    the draft quotes the subject, text and attachment names without PHI.
    """
    with services.db.read_session() as session:
        notes = notes_for(session, analysis)
    return make_draft(
        services.renderer,
        analysis,
        facts,
        requester_name=parsed.from_name or None if parsed else None,
        subject=redact(parsed.subject) if parsed else "",
        reference=reference,
        question=redact(parsed.new_text if parsed else question),
        attachments=[redact_file_name(a.filename) for a in parsed.attachments] if parsed else [],
        display_name=services.settings.desks.get(desk).display_name,
        notes=notes,
    )
