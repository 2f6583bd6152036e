"""Plain-language descriptions on the web: experts save a new version from the code page and
see every version; a stale save is refused (409) with the expert's text kept in the form."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request
from flask_login import current_user
from werkzeug.wrappers import Response

from consultant.cases import plain_language
from consultant.cases.plain_language import PlainError, StalePlain
from consultant.codes.systems import candidates
from consultant.web.auth import REVIEWERS, roles_required
from consultant.web.code_forms import code_of, page_of
from consultant.web.codes import CODE
from consultant.web.context import services

bp = Blueprint("plain", __name__)
INVALID = 422
CONFLICT = 409


def _history(
    system: str, code: str, status: int = 200, typed: str | None = None
) -> tuple[str, int]:
    with services().db.read_session() as session:
        versions = plain_language.history(session, system, code)
    latest = versions[0] if versions else None
    return (
        render_template(
            "plain_history.html",
            system=system,
            code=code,
            versions=versions,
            version=latest.version if latest else 0,
            typed=latest.text if typed is None and latest else (typed or ""),
        ),
        status,
    )


@bp.route("/codes/<code>/plain")
@roles_required(*REVIEWERS)
def history(code: str) -> tuple[str, int]:
    """Every version of the code's description, newest first, and the form to write the next;
    of the systems the characters could be a code of, ``system`` (by default the likeliest)."""
    readings = candidates(code) if CODE.match(code) else []
    asked = request.args.get("system") or (readings[0][0] if readings else "")
    found = [(s, c) for s, c in readings if s == asked]
    if not found:
        abort(404, description=f"{code} is not a code of {asked or 'any code system'}.")
    return _history(*found[0])


@bp.route("/codes/<code>/plain", methods=["POST"])
@roles_required(*REVIEWERS)
def save(code: str) -> Response | tuple[str, int]:
    system, code = code_of(code)
    base = request.form.get("base_version", "")
    if not base.isdigit():
        abort(400, description="The form did not say which version of the description you edited.")
    text = request.form.get("text", "")
    try:
        with services().db.session() as session:
            saved = plain_language.save(
                session, system, code, text, int(base), str(current_user.email)
            )
    except StalePlain as error:
        flash(f"Not saved: {error}.", "error")
        return _history(system, code, CONFLICT, text)
    except PlainError as error:
        flash(f"Not saved: {error}.", "error")
        return _history(system, code, INVALID, text)
    if saved is None:
        flash("Nothing to save: the description is as it was.", "ok")
    elif saved.text:
        flash(f"Plain-language description of {code} saved as version {saved.version}.", "ok")
    else:
        flash(f"Plain-language description of {code} withdrawn (version {saved.version}).", "ok")
    return redirect(page_of(system, code))
