"""CasePilot: a member asks on the web and gets the automatic answer at once; or an expert.

A question is analysed, looked up and answered by the same engine that
drafts replies (``answering.analyse_text``, ``make_draft``), and each
question and answer is kept (``ask_turn``) as the member's history and the
count the hourly limit reads. A conversation keeps its codes, date of
service, payer and state, so a follow-up ("and with modifier 59?") is read
with them. What is kept of a question has patient details removed: it is
shown back to the member and may go to an expert.

"Ask an expert" turns the conversation into a message from the member to
the consult address, stored like mail the poller fetched (a committed row,
then ``process_message``), so it becomes a case exactly as an email would:
acknowledged, analysed, drafted (the first draft is the automatic answer),
queued for review, and answered by email and on the member's pages.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consultant.analysis.phi import redact
from consultant.cases.answering import analyse_text, compose_draft
from consultant.codes.states import STATES, state_code
from consultant.drafting.automatic import AutomaticAnswer, automatic_answer
from consultant.mail.threads import make_message_id, normalise_message_id
from consultant.models import AskConversation, AskTurn, CaseNote, InboundMessage, User, utcnow
from consultant.services import Services

WEB_MAILBOX = "web"  # where questions sent to an expert from the web are stored
MAX_QUESTION = 5_000
MAX_CODES = 20
MAX_PAYER = 60
SUBJECT_WORDS = 12


class Asker(Protocol):
    """Who asks: a signed-in user (the account, or the web session's view of it)."""

    @property
    def id(self) -> int: ...

    @property
    def email(self) -> str: ...


class AskError(ValueError):
    """Raised for a question that cannot be asked as given; the message says what to fix."""


class AskLimited(Exception):
    """Raised when the member asked ``limit`` questions in the past hour."""

    def __init__(self, limit: int, retry_at: Any) -> None:
        super().__init__(
            f"{limit} questions an hour is the limit; ask again after {retry_at:%H:%M} UTC"
        )
        self.limit, self.retry_at = limit, retry_at


class WithAnExpert(AskError):
    """Raised for a follow-up in a conversation already sent to an expert: it would not
    reach them (they answer the case; a reply to their mail joins it)."""


class NotYours(LookupError):
    """Raised for a conversation that does not exist or is another member's (one answer for
    both, so an id tells nobody whether it exists)."""


@dataclass
class Question:
    """What the member typed, and the optional fields beside it."""

    text: str
    codes: list[str] = field(default_factory=list)
    date_of_service: date | None = None
    payer: str | None = None
    state: str | None = None

    def checked(self) -> Question:
        text = self.text.strip()
        if not text:
            raise AskError("Type a question.")
        if len(text) > MAX_QUESTION:
            raise AskError(f"A question may have at most {MAX_QUESTION:,} characters.")
        codes = [c.strip().upper() for c in self.codes if c.strip()]
        if len(codes) > MAX_CODES:
            raise AskError(f"At most {MAX_CODES} codes may be given beside the question.")
        if any(not c.replace(".", "").isalnum() or len(c) > 10 for c in codes):
            raise AskError("Codes are letters, digits and a dot, separated by spaces or commas.")
        state = None
        if self.state and self.state.strip():
            state = state_code(self.state)
            if state is None:
                raise AskError(f"{self.state[:40]!r} is not a US state or territory.")
        payer = redact((self.payer or "").strip()[:MAX_PAYER]) or None
        return Question(text, codes, self.date_of_service, payer, state)


@dataclass
class Asked:
    conversation_id: int
    turn_id: int
    answer: AutomaticAnswer
    context: dict[str, Any]
    elapsed_ms: float


def ask(
    services: Services, user: Asker, question: Question, conversation_id: int | None = None
) -> Asked:
    """Answer ``question`` now (in a new conversation, or as a follow-up in the given one)."""
    question = question.checked()
    started = time.perf_counter()
    with services.db.session() as session:
        _within_limit(services, session, user)
        conversation = _conversation(session, user, conversation_id)
        if conversation is not None and conversation.inbound_message_id is not None:
            raise WithAnExpert(
                "This question is with an expert now. Reply to their email to add to it, or "
                "ask a new question."
            )
        context = _merged(conversation.context if conversation else {}, question)
    kept = redact(question.text)
    text = f"{question.text}\n\n{_context_lines(context)}".strip()
    analysis, facts = analyse_text(services, "", text, user.email)
    draft = compose_draft(services, analysis, facts, None, None, question=kept)
    answer = automatic_answer(services.renderer, analysis, facts, draft)
    context["codes"] = list(dict.fromkeys([*context["codes"], *(c.code for c in analysis.codes)]))
    elapsed = (time.perf_counter() - started) * 1000
    with services.db.session() as session:
        # Counted again under a lock on the member's row: questions sent side by side are
        # kept one at a time, and none past the limit.
        session.get_one(User, user.id, with_for_update=True)
        _within_limit(services, session, user)
        if conversation is None:
            conversation = AskConversation(user_id=user.id, context=context)
            session.add(conversation)
        else:
            conversation = session.get_one(AskConversation, conversation.id)
            conversation.context, conversation.updated_at = context, utcnow()
        session.flush()
        turn = AskTurn(
            conversation_id=conversation.id,
            user_id=user.id,
            question=kept,
            answer=answer.as_dict(),
            elapsed_ms=elapsed,
        )
        session.add(turn)
        session.flush()
        return Asked(conversation.id, turn.id, answer, context, elapsed)


def conversation_of(session: Session, user: Asker, conversation_id: int) -> AskConversation:
    """The member's own conversation ``conversation_id``; ``NotYours`` for any other."""
    found = _conversation(session, user, conversation_id)
    assert found is not None
    return found


def recent_conversations(session: Session, user: Asker, limit: int = 20) -> list[AskConversation]:
    """The member's latest conversations, newest first: their history of questions."""
    return list(
        session.scalars(
            select(AskConversation)
            .where(AskConversation.user_id == user.id)
            .order_by(AskConversation.updated_at.desc(), AskConversation.id.desc())
            .limit(limit)
        )
    )


def ask_an_expert(services: Services, user: Asker, conversation_id: int) -> int:
    """Send the conversation to the experts' queue; the stored message's id (the same one
    however often it is asked: a second click, a retried request)."""
    with services.db.session() as session:
        conversation = _conversation(session, user, conversation_id, lock=True)
        assert conversation is not None
        if conversation.inbound_message_id is not None:
            return conversation.inbound_message_id
        message_id = make_message_id(services.settings.message_id_domain)
        raw = _as_message(services, user, conversation, message_id)
        inbound = InboundMessage(
            mailbox=WEB_MAILBOX,
            dedup_key=f"ask:{conversation.id}",
            message_id=normalise_message_id(message_id),
            sha256=hashlib.sha256(raw).hexdigest(),
            raw=raw,
            size=len(raw),
        )
        try:
            with session.begin_nested():
                session.add(inbound)
                session.flush()
        except IntegrityError:  # another request stored it first
            inbound = session.scalars(
                select(InboundMessage).where(
                    InboundMessage.mailbox == WEB_MAILBOX,
                    InboundMessage.dedup_key == f"ask:{conversation.id}",
                )
            ).one()
        conversation.inbound_message_id, conversation.escalated_at = inbound.id, utcnow()
        inbound_id = inbound.id
    services.dispatch("process_message", inbound_id)
    return inbound_id


def note_answers_seen(session: Session, case_id: int, inbound_id: int) -> None:
    """On the case a conversation became, an internal note of the automatic answers the
    member was shown: the expert sees what they were told, word for word."""
    conversation = session.scalar(
        select(AskConversation).where(AskConversation.inbound_message_id == inbound_id)
    )
    if conversation is None:
        return
    parts = []
    for n, turn in enumerate(conversation.turns, 1):
        answer = turn.answer
        lines = [f"Question {n}: {turn.question}", *(f"- {s}" for s in answer.get("short", []))]
        lines += [f"- left open: {u}" for u in answer.get("unchecked", [])]
        parts.append("\n".join(lines))
    body = "The automatic answers the member was shown on the Ask page:\n\n" + "\n\n".join(parts)
    session.add(CaseNote(case_id=case_id, author="system", body=body))


def _within_limit(services: Services, session: Session, user: Asker) -> None:
    limit = services.settings.ask_hourly_limit
    since = utcnow() - timedelta(hours=1)
    recent = session.execute(
        select(func.count(), func.min(AskTurn.asked_at)).where(
            AskTurn.user_id == user.id, AskTurn.asked_at >= since
        )
    ).one()
    if recent[0] >= limit:
        raise AskLimited(limit, recent[1] + timedelta(hours=1))


def _conversation(
    session: Session, user: Asker, conversation_id: int | None, lock: bool = False
) -> AskConversation | None:
    if conversation_id is None:
        return None
    found = session.get(AskConversation, conversation_id, with_for_update=lock)
    if found is None or found.user_id != user.id:
        raise NotYours(conversation_id)
    return found


def _merged(context: dict[str, Any], question: Question) -> dict[str, Any]:
    """The conversation's context with what this question gives (a new value replaces)."""
    merged = {
        "codes": list(context.get("codes", [])),
        "date_of_service": context.get("date_of_service"),
        "payer": context.get("payer"),
        "state": context.get("state"),
    }
    merged["codes"] = list(dict.fromkeys([*merged["codes"], *question.codes]))
    if question.date_of_service is not None:
        merged["date_of_service"] = question.date_of_service.isoformat()
    merged["payer"] = question.payer or merged["payer"]
    merged["state"] = question.state or merged["state"]
    return merged


def _context_lines(context: dict[str, Any]) -> str:
    """The conversation's context as lines the analysis reads like a question's own words."""
    lines = []
    if context["codes"]:
        lines.append(f"Codes: {', '.join(context['codes'])}.")
    if context["date_of_service"]:
        lines.append(f"Date of service: {date.fromisoformat(context['date_of_service']):%m/%d/%Y}.")
    if context["payer"]:
        lines.append(f"Payer: {context['payer']}.")
    if context["state"]:
        lines.append(f"The patient was seen in {STATES[context['state']]}.")
    return "\n".join(lines)


def _as_message(
    services: Services, user: Asker, conversation: AskConversation, message_id: str
) -> bytes:
    """The conversation as the email it stands for: from the member to the consult address."""
    turns = conversation.turns
    first = " ".join(turns[0].question.split()[:SUBJECT_WORDS]) if turns else "Question"
    message = EmailMessage(policy=SMTP)
    message["From"] = user.email
    message["To"] = services.settings.consult_address
    message["Subject"] = first[:120]
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = message_id
    message["X-Consultant-Source"] = "web"
    questions = [t.question for t in turns]
    if len(questions) > 1:
        body = "\n\n".join(f"Question {n}: {q}" for n, q in enumerate(questions, 1))
    else:
        body = questions[0] if questions else ""
    context = _context_lines(conversation.context)
    message.set_content(f"{body}\n\n{context}".strip() + "\n")
    return message.as_bytes()
