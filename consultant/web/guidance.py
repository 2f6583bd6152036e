"""Guidance notes on the web: list, add (also from a passage of an approved answer on a
case page), edit and switch off, each change carrying the version it was made on."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from consultant.analysis.model import TOPICS
from consultant.cases import guidance
from consultant.cases.guidance import KINDS, GuidanceError, NoteInput, StaleNote
from consultant.web.auth import REVIEWERS, roles_required
from consultant.web.context import services

bp = Blueprint("guidance", __name__)
INVALID = 422
CONFLICT = 409
KIND_LABELS = {
    "code": "a code",
    "pair": "a pair of codes",
    "modifier": "a modifier",
    "topic": "a topic",
}


def _typed() -> dict[str, str]:
    fields = ("kind", "target", "text", "citation", "from_case")
    return {name: request.form.get(name, request.args.get(name, "")) for name in fields}


def _input(typed: dict[str, str]) -> NoteInput:
    return NoteInput(typed["kind"], typed["target"], typed["text"], typed["citation"])


@bp.app_context_processor
def note_form() -> dict[str, Any]:
    """What the note fields need, on the guidance pages and on a case page alike."""
    return {"note_kinds": KINDS, "note_kind_labels": KIND_LABELS, "note_topics": TOPICS}


def _render(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(template, **context), status


@bp.route("/guidance")
@roles_required(*REVIEWERS)
def index(status: int = 200, typed: dict[str, str] | None = None) -> tuple[str, int]:
    with services().db.read_session() as session:
        notes = [guidance.as_dict(n) for n in guidance.list_notes(session)]
    typed = typed or _typed()
    typed["kind"] = typed["kind"] or "code"
    return _render("guidance.html", status, notes=notes, typed=typed)


@bp.route("/guidance", methods=["POST"])
@roles_required(*REVIEWERS)
def create() -> Response | tuple[str, int]:
    typed = _typed()
    try:
        with services().db.session() as session:
            note = guidance.add_note(
                session, _input(typed), str(current_user.email), typed["from_case"] or None
            )
            note_id = note.id
    except GuidanceError as error:
        flash(f"Note not saved: {error}.", "error")
        return index(INVALID, typed)
    flash(f"Guidance note {note_id} saved: drafts use it from the next question.", "ok")
    return redirect(url_for("guidance.show", note_id=note_id))


def _note(note_id: int) -> dict[str, Any]:
    try:
        with services().db.read_session() as session:
            return guidance.as_dict(guidance.get_note(session, note_id))
    except GuidanceError:
        abort(404)


@bp.route("/guidance/<int:note_id>")
@roles_required(*REVIEWERS)
def show(note_id: int, status: int = 200, typed: dict[str, str] | None = None) -> tuple[str, int]:
    note = _note(note_id)
    return _render("guidance_note.html", status, note=note, typed=typed or note)


@bp.route("/guidance/<int:note_id>", methods=["POST"])
@roles_required(*REVIEWERS)
def update(note_id: int) -> Response | tuple[str, int]:
    typed = _typed()
    try:
        with services().db.session() as session:
            guidance.edit_note(session, note_id, _version(), _input(typed), str(current_user.email))
    except StaleNote as error:
        flash(f"Not saved: {error}.", "error")
        return show(note_id, CONFLICT, typed)
    except GuidanceError as error:
        flash(f"Not saved: {error}.", "error")
        return show(note_id, INVALID, typed)
    flash(f"Guidance note {note_id} saved.", "ok")
    return redirect(url_for("guidance.show", note_id=note_id))


@bp.route("/guidance/<int:note_id>/enabled", methods=["POST"])
@roles_required(*REVIEWERS)
def switch(note_id: int) -> Response | tuple[str, int]:
    enabled = request.form.get("enabled") == "1"
    try:
        with services().db.session() as session:
            guidance.set_enabled(session, note_id, _version(), enabled, str(current_user.email))
    except GuidanceError as error:
        flash(f"Not changed: {error}.", "error")
        return show(note_id, CONFLICT if isinstance(error, StaleNote) else INVALID)
    flash(f"Guidance note {note_id} {'in use again' if enabled else 'switched off'}.", "ok")
    return redirect(url_for("guidance.show", note_id=note_id))


def _version() -> int:
    value = request.form.get("version", "")
    if not value.isdigit():
        abort(400, description="The form did not say which version of the note you changed.")
    return int(value)
