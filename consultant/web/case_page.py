"""The case page and the review actions taken on it.

Every action goes through the services in ``consultant.cases`` (the CLI and
the API call the same ones). The editor's form carries the version it shows;
"Approve and send" posts the editor's text with it, so what goes out is
exactly what is on the screen, and a stale page is refused with the changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from sqlalchemy import func, or_, select
from werkzeug.utils import secure_filename

from consultant.analysis.phi import find_phi, redact_file_name
from consultant.cases import lifecycle, presence, review
from consultant.cases.diffs import side_by_side
from consultant.cases.events import record
from consultant.cases.queries import load_case
from consultant.cases.similar import sent_reply_text
from consultant.cases.snippets import SnippetError, list_snippets, render_snippet
from consultant.db_errors import TransientError
from consultant.mail.html_text import html_to_text
from consultant.mail.message_parts import attachment_file, html_version, safe_html
from consultant.mail.parse_limits import ParseLimits
from consultant.models import Case, CaseStatus, Draft, InboundMessage, utcnow
from consultant.web.auth import REVIEWERS, roles_required
from consultant.web.case_view import build, conflict_view
from consultant.web.context import services
from consultant.web.desk_access import desks_for_viewer, guard_case

bp = Blueprint("case", __name__)
bp.before_request(guard_case)  # a desk's cases are its team's
REFERENCE = re.compile(r"^[A-Z][A-Z0-9]{0,9}-\d{6,}$")
REVEAL_MINUTES = 10
# Refusals a reviewer reads as a sentence on the page.
REFUSALS = (review.ReviewError, lifecycle.InvalidTransition, TransientError)


def _reference(value: str) -> str:
    value = value.upper()
    if not REFERENCE.match(value):
        abort(404)
    return value


def _form_text(name: str = "text") -> str:
    # Browsers send a textarea's line ends as CRLF; drafts keep plain newlines.
    return request.form.get(name, "").replace("\r\n", "\n")


def _form_version(name: str) -> int:
    value = request.form.get(name, "")
    if not value.isdigit():
        abort(400, f"the form did not say which draft version it was based on ({name})")
    return int(value)


def _revealed(reference: str) -> bool:
    until = session.get("revealed", {}).get(reference)
    return until is not None and until > utcnow().timestamp()


def _page(reference: str, status: int = 200, **extra: Any) -> tuple[str, int] | Response:
    with services().db.session() as db_session:
        case = load_case(db_session, reference)
        if case is None:
            abort(404)
        view = build(db_session, case, current_user.email, _revealed(case.reference))
        snippets = [s.name for s in list_snippets(db_session)]
        desks = services().settings.desks
        desk = desks.get(case.desk) if len(desks) > 1 else None  # who answers, under what name
        return render_template(
            "case.html", view=view, case=case, snippets=snippets, desk=desk, **extra
        ), status


@bp.route("/cases/<reference>")
@roles_required(*REVIEWERS)
def show(reference: str) -> tuple[str, int] | Response:
    """The case page; opening it counts as being present on the case."""
    ref = _reference(reference)
    try:
        presence.report(services(), ref, current_user.email, editing=False)
    except review.CaseNotFound:
        abort(404)
    return _page(ref)


def _back(reference: str, anchor: str = "") -> Response:
    return redirect(url_for("case.show", reference=reference) + anchor)


def _act(reference: str, action: Callable[[], str | None], anchor: str = "") -> Response:
    """Run one action; flash its outcome (or the refusal) and come back to the case page."""
    try:
        done = action()
        if done:
            flash(done, "ok")
    except review.CaseNotFound:
        abort(404)
    except REFUSALS as error:
        flash(str(error), "error")
    return _back(reference, anchor)


def _refused(reference: str, error: Exception, text: str | None, base: int) -> Any:
    """Say why; keep the expert's unsaved text in the editor when the refusal would lose it."""
    flash(str(error), "error")
    with services().db.read_session() as db_session:
        current = db_session.scalar(
            select(Draft.body_text)
            .join(Case, Case.id == Draft.case_id)
            .where(Case.reference == reference, Case.status == CaseStatus.AWAITING_REVIEW)
            .order_by(Draft.version.desc())
            .limit(1)
        )
    if text is None or current is None or current == text:
        return _back(reference, "#draft")
    return _page(reference, 422, unsaved=text, unsaved_base=base)


def _conflict_page(reference: str, refused: review.DraftConflict) -> tuple[str, int] | Response:
    flash(str(refused), "error")
    return _page(reference, 409, conflict=conflict_view(refused))


@bp.route("/cases/<reference>/draft", methods=["POST"])
@roles_required(*REVIEWERS)
def save_draft(reference: str) -> tuple[str, int] | Response:
    ref = _reference(reference)
    base = _form_version("base_version")
    try:
        saved = review.edit_draft(
            services(), ref, _form_text(), current_user.email, base_version=base
        )
    except review.DraftConflict as refused:
        return _conflict_page(ref, refused)
    except review.CaseNotFound:
        abort(404)
    except REFUSALS as error:
        return _refused(ref, error, _form_text(), base)
    flash(saved.describe(), "ok")
    return _back(ref, "#draft")


@bp.route("/cases/<reference>/approve", methods=["POST"])
@roles_required(*REVIEWERS)
def approve(reference: str) -> tuple[str, int] | Response:
    """Send exactly what the editor holds: unsaved edits become a version first."""
    ref = _reference(reference)
    version = _form_version("base_version")
    text = _form_text() if "text" in request.form else None
    try:
        approved = review.approve(services(), ref, current_user.email, version=version, text=text)
    except review.DraftConflict as refused:
        return _conflict_page(ref, refused)
    except review.CaseNotFound:
        abort(404)
    except REFUSALS as error:
        return _refused(ref, error, text, version)
    saved = f" (your edits were saved as v{approved.version} first)" if approved.saved else ""
    if approved.already_answered:
        flash(
            f"{ref} approved: draft v{approved.version} is the automatic answer the requester "
            "already got, so nothing more is sent.",
            "ok",
        )
    else:
        flash(f"{ref} approved: draft v{approved.version} is on its way{saved}.", "ok")
    return _back(ref)


@bp.route("/cases/<reference>/reject", methods=["POST"])
@roles_required(*REVIEWERS)
def reject(reference: str) -> Response:
    ref = _reference(reference)

    def run() -> str:
        review.reject(services(), ref, request.form.get("reason", ""), current_user.email)
        return f"{ref} rejected."

    return _act(ref, run)


@bp.route("/cases/<reference>/claim", methods=["POST"])
@roles_required(*REVIEWERS)
def claim(reference: str) -> Response:
    ref = _reference(reference)
    take_over = request.form.get("take_over") == "1"

    def run() -> str:
        new = review.claim(services(), ref, current_user.email, take_over=take_over)
        minutes = services().settings.claim_minutes
        if take_over:
            return f"You took {ref} over; it is yours for {minutes} minutes."
        return f"{ref} is yours for {minutes} minutes." if new else "Your claim was renewed."

    return _act(ref, run)


@bp.route("/cases/<reference>/release", methods=["POST"])
@roles_required(*REVIEWERS)
def release(reference: str) -> Response:
    ref = _reference(reference)

    def run() -> str:
        released = review.release(services(), ref, current_user.email)
        return "Claim released." if released else "You did not hold this case."

    return _act(ref, run)


@bp.route("/cases/<reference>/assign", methods=["POST"])
@roles_required(*REVIEWERS)
def assign(reference: str) -> Response:
    ref = _reference(reference)

    def run() -> str:
        review.assign(services(), ref, request.form.get("assignee") or None, current_user.email)
        return f"{ref} assignment saved."

    return _act(ref, run)


@bp.route("/cases/<reference>/retry", methods=["POST"])
@roles_required(*REVIEWERS)
def retry(reference: str) -> Response:
    ref = _reference(reference)

    def run() -> str:
        review.retry(services(), ref, current_user.email)
        return f"{ref} is being retried."

    return _act(ref, run)


@bp.route("/cases/<reference>/note", methods=["POST"])
@roles_required(*REVIEWERS)
def note(reference: str) -> Response:
    ref = _reference(reference)

    def run() -> str:
        review.add_note(services(), ref, request.form.get("note", ""), current_user.email)
        return "Note added (internal: never sent)."

    return _act(ref, run, "#notes")


@bp.route("/cases/<reference>/start-from", methods=["POST"])
@roles_required(*REVIEWERS)
def start_from(reference: str) -> tuple[str, int] | Response:
    """Copy a similar case's sent answer into a new draft version, to edit."""
    ref = _reference(reference)
    reply_id = request.form.get("reply_id", "")
    if not reply_id.isdigit():
        abort(400, "no answer was chosen")
    with services().db.read_session() as db_session:
        desk = db_session.scalar(select(Case.desk).where(Case.reference == ref))
        found = sent_reply_text(db_session, int(reply_id), desk or "")
    if found is None:
        abort(404)
    text, source = found
    try:
        saved = review.edit_draft(
            services(), ref, text, current_user.email, base_version=_form_version("base_version")
        )
    except review.DraftConflict as refused:
        return _conflict_page(ref, refused)
    except REFUSALS as error:
        flash(str(error), "error")
        return _back(ref)
    flash(f"Draft v{saved.version} starts from the answer sent on {source}; edit it to fit.", "ok")
    return _back(ref, "#draft")


@bp.route("/cases/<reference>/reveal", methods=["POST"])
@roles_required(*REVIEWERS)
def reveal(reference: str) -> Response:
    """Show the patient details on this case for a while; every reveal is on the timeline."""
    ref = _reference(reference)
    with services().db.session() as db_session:
        case = db_session.scalar(select(Case).where(Case.reference == ref))
        if case is None:
            abort(404)
        record(db_session, case, "phi_revealed", current_user.email)
    until = utcnow() + timedelta(minutes=REVEAL_MINUTES)
    revealed = {k: v for k, v in session.get("revealed", {}).items() if v > utcnow().timestamp()}
    session["revealed"] = revealed | {ref: until.timestamp()}
    flash(f"Patient details are shown for {REVEAL_MINUTES} minutes; this was recorded.", "ok")
    return _back(ref)


@bp.route("/cases/<reference>/hide", methods=["POST"])
@roles_required(*REVIEWERS)
def hide(reference: str) -> Response:
    ref = _reference(reference)
    session["revealed"] = {k: v for k, v in session.get("revealed", {}).items() if k != ref}
    return _back(ref)


@bp.route("/cases/<reference>/diff")
@roles_required(*REVIEWERS)
def diff(reference: str) -> str:
    """Any two draft versions side by side, with who wrote each."""
    ref = _reference(reference)
    with services().db.session() as db_session:
        case = load_case(db_session, ref)
        if case is None:
            abort(404)
        versions = {d.version: d for d in case.drafts}
        latest = max(versions, default=0)
        left = request.args.get("a", type=int) or max(latest - 1, 1)
        right = request.args.get("b", type=int) or latest
        if left not in versions or right not in versions:
            abort(404)
        return render_template(
            "diff.html",
            case=case,
            versions=sorted(versions.values(), key=lambda d: d.version),
            left=versions[left],
            right=versions[right],
            rows=side_by_side(versions[left].body_text, versions[right].body_text),
        )


@bp.route("/cases/<reference>/presence", methods=["POST"])
@roles_required(*REVIEWERS)
def report_presence(reference: str) -> Response:
    """The case page's light poll: I am here (editing or not); who else is?"""
    ref = _reference(reference)
    editing = request.form.get("editing") == "1"
    try:
        viewers = presence.report(services(), ref, current_user.email, editing)
    except review.CaseNotFound:
        abort(404)
    return jsonify(
        others=[{"who": v.who, "editing": v.editing, "at": v.since.isoformat()} for v in viewers]
    )


@bp.route("/cases/<reference>/preview", methods=["POST"])
@roles_required(*REVIEWERS)
def preview(reference: str) -> Response:
    """The HTML the reply will carry for the editor's text (our own rendering, escaped), with
    its inline styles removed as the page's CSP would refuse them."""
    _reference(reference)
    return jsonify(html=safe_html(services().renderer.html_for_text(_form_text())))


def _message(db_session: Any, reference: str, message_id: int) -> InboundMessage:
    message = db_session.scalar(
        select(InboundMessage)
        .join(Case, Case.id == InboundMessage.case_id)
        .where(InboundMessage.id == message_id, Case.reference == reference)
    )
    if message is None:
        abort(404)
    return message


@bp.route("/cases/<reference>/messages/<int:message_id>/html")
@roles_required(*REVIEWERS)
def message_html(reference: str, message_id: int) -> Response:
    """The sanitised HTML version, for a sandboxed frame, only while patient details are
    shown: on a flagged case, or when the HTML itself names any (it cannot mark them, and
    it was not what processing read when the message also had a text part)."""
    ref = _reference(reference)
    with services().db.session() as db_session:
        message = _message(db_session, ref, message_id)
        flagged, raw = message.case.phi_flagged, message.raw
    hidden = not _revealed(ref)
    if flagged and hidden:
        abort(403, "Show the patient details first: the HTML version cannot mark them.")
    html = html_version(raw, ParseLimits.from_settings(services().settings))
    if hidden and html is not None and find_phi(html_to_text(html).text).found:
        abort(
            403,
            "This HTML version names patient details that the text does not show. "
            'Use "Show patient details" under this frame to see it (recorded).',
        )
    response = make_response(render_template("message_html.html", html=html))
    # Framed by our own case page only; nothing in it may run or load.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; frame-ancestors 'self'; sandbox"
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.route("/cases/<reference>/attachments/<int:message_id>/<int:index>")
@roles_required(*REVIEWERS)
def attachment(reference: str, message_id: int, index: int) -> Response:
    """An attachment's bytes, always as a download, never shown inline."""
    ref = _reference(reference)
    with services().db.session() as db_session:
        message = _message(db_session, ref, message_id)
        found = attachment_file(message.raw, index, ParseLimits.from_settings(services().settings))
        if found is None:
            abort(404, "This attachment is not there or was too large to keep.")
        case = db_session.get_one(Case, message.case_id)
        record(
            db_session,
            case,
            "attachment_downloaded",
            current_user.email,
            filename=found.listed.filename,
        )
    name = secure_filename(redact_file_name(found.listed.filename)) or f"attachment-{index + 1}"
    response = make_response(found.content)
    response.headers["Content-Type"] = "application/octet-stream"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Content-Length"] = str(len(found.content))
    return response


@bp.route("/next")
@roles_required(*REVIEWERS)
def next_case() -> Response:
    """The oldest waiting case nobody else holds (after ``after``, the case just left)."""
    me = current_user.email
    now = utcnow()
    after = request.args.get("after", "").upper()
    with services().db.read_session() as db_session:
        query = (
            select(Case.reference)
            .where(
                Case.status == CaseStatus.AWAITING_REVIEW,
                or_(
                    Case.claimed_by.is_(None),
                    Case.claimed_by == me,
                    Case.claim_expires_at <= now,
                ),
            )
            .order_by(func.coalesce(Case.waiting_since, Case.created_at), Case.id)
        )
        if after:
            query = query.where(Case.reference != after)
        desks = desks_for_viewer()
        if desks is not None:
            query = query.where(Case.desk.in_(desks))
        reference = db_session.scalar(query.limit(1))
    if reference is None:
        flash("No other case is waiting for review.", "ok")
        return redirect(url_for("queue.index"))
    return redirect(url_for("case.show", reference=reference))


@bp.route("/cases/<reference>/insert-snippet", methods=["POST"])
@roles_required(*REVIEWERS)
def insert_snippet(reference: str) -> Any:
    """A snippet filled in for this case, added to the editor's text (not saved yet).

    The page's script asks for JSON and puts the text at the cursor; without
    script the page comes back with the snippet added at the end.
    """
    ref = _reference(reference)
    name = request.form.get("snippet", "")
    with services().db.read_session() as db_session:
        case = db_session.scalar(select(Case).where(Case.reference == ref))
        if case is None:
            abort(404)
        try:
            text = render_snippet(db_session, name, case)
        except SnippetError as error:
            if request.accept_mimetypes.best == "application/json":
                return jsonify(error=str(error)), 404
            flash(str(error), "error")
            return _page(ref, 404, unsaved=_form_text(), unsaved_base=_form_version("base_version"))
    if request.accept_mimetypes.best == "application/json":
        return jsonify(text=text)
    flash(f"Snippet {name!r} added at the end of the draft; it is not saved yet.", "ok")
    current = _form_text().rstrip("\n")
    joined = f"{current}\n\n{text}" if current else text
    return _page(ref, unsaved=joined, unsaved_base=_form_version("base_version"))
