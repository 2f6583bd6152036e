"""The Ask page (CasePilot): a question answered at once, follow-ups, and "Ask an expert".

Every form is a plain POST that redirects to the conversation's page, so a
reload never asks twice. The answer shown is the automatic one, marked so;
once the conversation went to an expert, the page shows the case's status
and the replies sent, from the member's view of their cases.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from consultant.cases.asking import (
    AskError,
    AskLimited,
    NotYours,
    Question,
    ask,
    ask_an_expert,
    conversation_of,
    recent_conversations,
)
from consultant.cases.member_cases import member_case, reference_of_message
from consultant.web.auth import EVERYONE, roles_required
from consultant.web.context import services

bp = Blueprint("ask", __name__, url_prefix="/ask")


def question_from(form: dict[str, str]) -> Question:
    """The question and its optional fields as typed; a bad date is an ``AskError``."""
    typed = form.get("date_of_service", "").strip()
    try:
        on = date.fromisoformat(typed) if typed else None
    except ValueError:
        raise AskError(f"{typed[:20]!r} is not a date: give it as YYYY-MM-DD.") from None
    codes = form.get("codes", "").replace(",", " ").split()
    return Question(form.get("question", ""), codes, on, form.get("payer"), form.get("state"))


def _asked(conversation_id: int | None) -> Response | tuple[str, int]:
    try:
        asked = ask(services(), current_user, question_from(request.form), conversation_id)
    except NotYours:
        abort(404)
    except AskLimited as limited:
        flash(str(limited), "error")
        return _page(conversation_id, request.form), 429
    except AskError as error:
        flash(str(error), "error")
        return _page(conversation_id, request.form), 422
    target = url_for("ask.conversation", conversation_id=asked.conversation_id)
    return redirect(f"{target}#turn-{asked.turn_id}")


def _page(conversation_id: int | None, typed: dict[str, str] | None = None) -> str:
    svc = services()
    with svc.db.read_session() as session:
        history = recent_conversations(session, current_user)
        conversation, case, reference = None, None, None
        if conversation_id is not None:
            try:
                conversation = conversation_of(session, current_user, conversation_id)
            except NotYours:
                abort(404)
            if conversation.inbound_message_id is not None:
                reference = reference_of_message(session, conversation.inbound_message_id)
                if reference is not None:
                    case = member_case(session, current_user.email, reference)
        return render_template(
            "ask.html",
            history=history,
            conversation=conversation,
            case=case,
            reference=reference,
            typed=typed or {},
        )


@bp.route("", methods=["GET", "POST"])
@roles_required(*EVERYONE)
def index() -> str | Response | tuple[str, int]:
    if request.method == "POST":
        return _asked(None)
    return _page(None)


@bp.route("/<int:conversation_id>", methods=["GET", "POST"])
@roles_required(*EVERYONE)
def conversation(conversation_id: int) -> str | Response | tuple[str, int]:
    if request.method == "POST":
        return _asked(conversation_id)
    return _page(conversation_id)


@bp.route("/<int:conversation_id>/expert", methods=["POST"])
@roles_required(*EVERYONE)
def expert(conversation_id: int) -> Response:
    try:
        ask_an_expert(services(), current_user, conversation_id)
    except NotYours:
        abort(404)
    flash("Sent to our experts. Their answer comes by email and shows here.", "ok")
    return redirect(url_for("ask.conversation", conversation_id=conversation_id))
