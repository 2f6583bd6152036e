"""The sources page: every document the rules cite, and which rules cite it.

A reviewer checks a conclusion's wording against its source here; the table
itself lives in ``consultant.rules.sources``, so the page, the drafts and the
rules never disagree on a title or an address.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from consultant.rules.library import RULES
from consultant.rules.sources import SOURCES
from consultant.web.auth import REVIEWERS, roles_required

bp = Blueprint("sources", __name__)


@bp.route("/sources")
@roles_required(*REVIEWERS)
def index() -> str:
    citing = {
        key: [
            (rule, [c.where for c in rule.citations if c.source == key])
            for rule in RULES
            if any(c.source == key for c in rule.citations)
        ]
        for key in SOURCES
    }
    return render_template(
        "sources.html", sources=list(SOURCES.values()), citing=citing, rules=RULES
    )
