"""The review queue: the list of cases a reviewer works through."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from consultant.cases.queries import OPEN_STATUSES, list_cases
from consultant.models import CaseStatus
from consultant.web.auth import REVIEWERS, roles_required
from consultant.web.context import services

bp = Blueprint("queue", __name__)
FILTERS = {
    "open": OPEN_STATUSES,
    "awaiting_review": (CaseStatus.AWAITING_REVIEW,),
    "failed": (CaseStatus.FAILED,),
    "sent": (CaseStatus.SENT,),
    "rejected": (CaseStatus.REJECTED,),
    "all": (),
}


@bp.route("/")
@roles_required(*REVIEWERS)
def index() -> str:
    selected = request.args.get("status", "open")
    if selected not in FILTERS:
        abort(404)
    with services().db.session() as session:
        cases = list_cases(session, FILTERS[selected])
        return render_template("queue.html", cases=cases, filters=FILTERS, selected=selected)
