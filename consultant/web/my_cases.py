"""A member's own cases: the list, and each case's questions, status and the replies sent.

Another member's case, a guessed reference and a case that does not exist
all answer 404 alike. Nothing of the review side (drafts, notes, panel,
timeline) is read for these pages.
"""

from __future__ import annotations

import re

from flask import Blueprint, abort, render_template
from flask_login import current_user

from consultant.cases.member_cases import member_case, member_cases
from consultant.web.auth import EVERYONE, roles_required
from consultant.web.context import services

bp = Blueprint("my_cases", __name__, url_prefix="/my/cases")
REFERENCE = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,9}-\d{1,12}$")


@bp.route("")
@roles_required(*EVERYONE)
def index() -> str:
    with services().db.read_session() as session:
        rows = member_cases(session, current_user.email)
    return render_template("my_cases.html", cases=rows)


@bp.route("/<reference>")
@roles_required(*EVERYONE)
def show(reference: str) -> str:
    if not REFERENCE.match(reference):
        abort(404)
    with services().db.read_session() as session:
        case = member_case(session, current_user.email, reference)
    if case is None:
        abort(404, description="No case of yours has that reference.")
    return render_template("my_case.html", case=case)
