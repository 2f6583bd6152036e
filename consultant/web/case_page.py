"""The case page and the review actions taken on it."""

from __future__ import annotations

import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from consultant.cases import lifecycle, review
from consultant.cases.queries import load_case
from consultant.db_errors import TransientError
from consultant.drafting.render import open_expert_markers
from consultant.models import CaseStatus, InboundMessage
from consultant.web.auth import REVIEWERS, roles_required
from consultant.web.context import services

bp = Blueprint("case", __name__)
REFERENCE = re.compile(r"^[A-Z][A-Z0-9]{0,9}-\d{6,}$")


def _reference(value: str) -> str:
    value = value.upper()
    if not REFERENCE.match(value):
        abort(404)
    return value


def _message_text(message: InboundMessage) -> str:
    """The text stored when the message was processed; pages never parse mail again."""
    if message.text is not None:
        return message.text
    if message.processed_at is None:
        return "(not processed yet)"
    return "(no readable text)"


@bp.route("/cases/<reference>")
@roles_required(*REVIEWERS)
def show(reference: str) -> str:
    with services().db.session() as session:
        case = load_case(session, _reference(reference))
        if case is None:
            abort(404)
        draft = case.drafts[-1] if case.drafts else None
        return render_template(
            "case.html",
            case=case,
            draft=draft,
            markers=open_expert_markers(draft.body_text) if draft else [],
            texts={m.id: _message_text(m) for m in case.messages},
            can_review=case.status == CaseStatus.AWAITING_REVIEW,
            can_retry=case.status == CaseStatus.FAILED,
        )


@bp.route("/cases/<reference>/<action>", methods=["POST"])
@roles_required(*REVIEWERS)
def act(reference: str, action: str) -> Response:
    """Run one review action and come back to the case page with its outcome."""
    ref = _reference(reference)
    actor = current_user.email
    svc = services()
    try:
        if action == "draft":
            # Browsers send a textarea's line ends as CRLF; the draft keeps plain newlines.
            text = request.form.get("text", "").replace("\r\n", "\n")
            flash(review.edit_draft(svc, ref, text, actor).describe(), "ok")
        elif action == "approve":
            review.approve(svc, ref, actor)
            flash(f"{ref} approved; the reply is on its way.", "ok")
        elif action == "reject":
            review.reject(svc, ref, request.form.get("reason", ""), actor)
            flash(f"{ref} rejected.", "ok")
        elif action == "assign":
            review.assign(svc, ref, request.form.get("assignee") or None, actor)
            flash(f"{ref} assignment saved.", "ok")
        elif action == "retry":
            review.retry(svc, ref, actor)
            flash(f"{ref} is being retried.", "ok")
        else:
            abort(404)
    except review.CaseNotFound:
        abort(404)
    except (review.ReviewError, lifecycle.InvalidTransition, TransientError) as error:
        # InvalidTransition: another reviewer acted on the case between our read and our write.
        flash(str(error), "error")
    return redirect(url_for("case.show", reference=ref))
