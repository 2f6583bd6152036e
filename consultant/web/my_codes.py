"""My codes: every signed-in user's starred codes and personal notes, and the forms that
keep them. Each view reads and writes the signed-in user's own rows only."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from consultant import my_codes
from consultant.codes.systems import System
from consultant.web.auth import EVERYONE, roles_required
from consultant.web.code_forms import code_of, page_of
from consultant.web.context import services

bp = Blueprint("my_codes", __name__)


def _back(system: str, code: str) -> Response:
    """Back where the form was: My codes, or the code's page."""
    if request.form.get("back") == "my-codes":
        return redirect(url_for("my_codes.index"))
    return redirect(page_of(system, code))


@bp.route("/my-codes")
@roles_required(*EVERYONE)
def index() -> str:
    with services().db.read_session() as session:
        mine = my_codes.listing(session, current_user.id)
    lookup = services().lookup
    official = {(m.system, m.code): lookup.code(System(m.system), m.code).description for m in mine}
    return render_template("my_codes.html", mine=mine, official=official)


@bp.route("/codes/<code>/favourite", methods=["POST"])
@roles_required(*EVERYONE)
def favourite(code: str) -> Response:
    system, code = code_of(code)
    on = request.form.get("favourite") == "1"
    with services().db.session() as session:
        my_codes.set_favourite(session, current_user.id, system, code, on)
    flash(f"{code} {'added to' if on else 'removed from'} My codes.", "ok")
    return _back(system, code)


@bp.route("/codes/<code>/note", methods=["POST"])
@roles_required(*EVERYONE)
def note(code: str) -> Response:
    """Save the user's note on the code, or delete it (the Delete button, or an empty note)."""
    system, code = code_of(code)
    text = "" if "delete" in request.form else request.form.get("text", "")
    try:
        with services().db.session() as session:
            my_codes.set_note(session, current_user.id, system, code, text)
    except my_codes.NoteTooLong as error:
        flash(f"Note not saved: {error}.", "error")
        return _back(system, code)
    flash(f"Your note on {code} {'saved' if text.strip() else 'deleted'}.", "ok")
    return _back(system, code)
