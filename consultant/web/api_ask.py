"""CasePilot over the API: ``POST /api/v1/ask``, a conversation, and sending it to an expert.

Routes of the API blueprint (``consultant.web.api``: token authentication,
JSON errors), open to members as to experts. The answer is the same
automatic answer the Ask page shows, marked ``automatic: true``.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import g
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from consultant.cases.asking import (
    MAX_PAYER,
    AskError,
    AskLimited,
    NotYours,
    Question,
    ask,
    ask_an_expert,
    conversation_of,
)
from consultant.cases.member_cases import member_case, reference_of_message
from consultant.models import AskConversation
from consultant.web import api_input, openapi
from consultant.web.api import answer, bp, error, for_members
from consultant.web.auth import seconds_until
from consultant.web.context import services

NOT_YOURS = "no conversation of yours has that id"
FIELDS = frozenset({"question", "codes", "date_of_service", "payer", "state", "conversation"})


def _question(fields: dict[str, Any]) -> Question:
    unknown = sorted(set(fields) - FIELDS)
    if unknown:
        raise api_input.bad_request(
            f"unknown field {unknown[0]!r}; the body takes {sorted(FIELDS)}"
        )
    codes = fields.get("codes", [])
    if not isinstance(codes, list) or not all(
        isinstance(c, str) and re.fullmatch(openapi.CODE_PATTERN, c) for c in codes
    ):
        raise api_input.bad_request("codes must be a list of codes (letters, digits, a dot)")
    payer = api_input.optional_text(fields, "payer")
    if payer is not None and len(payer) > MAX_PAYER:
        raise api_input.bad_request(f"payer may have at most {MAX_PAYER} characters")
    typed = api_input.optional_text(fields, "date_of_service")
    try:
        on = date.fromisoformat(typed) if typed else None
    except ValueError:
        raise api_input.bad_request("date_of_service must be a date, YYYY-MM-DD") from None
    return Question(
        api_input.text(fields, "question"),
        codes,
        on,
        payer,
        api_input.optional_text(fields, "state"),
    )


def _conversation_id(fields: dict[str, Any]) -> int | None:
    value = fields.get("conversation")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 2**31 - 1:
        raise api_input.bad_request("conversation must be the id of one of your conversations")
    return value


@bp.post("/ask")
@for_members
def ask_question() -> Response:
    """Answer a question at once (a new conversation, or a follow-up in ``conversation``)."""
    fields = api_input.body()
    try:
        asked = ask(services(), g.api_owner, _question(fields), _conversation_id(fields))
    except NotYours:
        raise NotFound(NOT_YOURS) from None
    except AskLimited as limited:
        return error(429, str(limited), {"Retry-After": str(seconds_until(limited.retry_at))})
    except AskError as refused:
        return error(422, str(refused))
    return answer(
        {
            "conversation": asked.conversation_id,
            "turn": asked.turn_id,
            "context": asked.context,
            "answer": asked.answer.as_dict(),
            "elapsed_ms": round(asked.elapsed_ms, 1),
        }
    )


@bp.get("/ask/<int:conversation>")
@for_members
def show_conversation(conversation: int) -> Response:
    """The conversation's questions and answers, and its case once sent to an expert."""
    with services().db.read_session() as session:
        try:
            found = conversation_of(session, g.api_owner, conversation)
        except NotYours:
            raise NotFound(NOT_YOURS) from None
        return answer(_conversation(session, found))


@bp.post("/ask/<int:conversation>/expert")
@for_members
def send_to_expert(conversation: int) -> Response:
    """Send the conversation to the experts' queue (once, however often it is asked)."""
    try:
        ask_an_expert(services(), g.api_owner, conversation)
    except NotYours:
        raise NotFound(NOT_YOURS) from None
    with services().db.read_session() as session:
        found = conversation_of(session, g.api_owner, conversation)
        return answer(_conversation(session, found), 202)


def _conversation(session: Any, found: AskConversation) -> dict[str, Any]:
    expert = None
    if found.inbound_message_id is not None:
        reference = reference_of_message(session, found.inbound_message_id)
        case = member_case(session, g.api_owner.email, reference) if reference else None
        expert = {
            "sent_at": found.escalated_at,
            "case": None
            if case is None
            else {
                "reference": case.reference,
                "status": case.status,
                "confirmed_at": case.confirmed_at,
                "replies": [
                    {"sent_at": r.sent_at, "automatic": r.automatic, "text": r.text}
                    for r in case.replies
                ],
            },
        }
    return {
        "conversation": found.id,
        "context": found.context,
        "turns": [
            {"turn": t.id, "question": t.question, "answer": t.answer, "asked_at": t.asked_at}
            for t in found.turns
        ],
        "expert": expert,
    }
