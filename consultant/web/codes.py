"""Code search and code pages: what the loaded code data says about a code, as of a date.

Both pages are plain GET forms; a small script (static/code_search.js) makes
the search answer as you type by fetching the same page. A submitted search
(not those the script makes) joins the user's recent searches, listed when the
box is empty (``consultant.recent_searches``). Case pages link here through the
``code_link`` template global.
"""

from __future__ import annotations

import re
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask_login import current_user
from markupsafe import Markup, escape
from werkzeug.wrappers import Response

from consultant import recent_searches
from consultant.codes.code_page import COLUMNS, PTP_PAGE, code_page
from consultant.codes.medicare_text import money
from consultant.codes.search import MAX_QUERY, CodeSet, SearchMode, search_codes
from consultant.codes.systems import candidates
from consultant.drafting.render import cite
from consultant.web.auth import EVERYONE, roles_required
from consultant.web.code_extras import code_extras
from consultant.web.context import services

bp = Blueprint("codes", __name__)
SEARCH_PAGE = 50
MAX_PAGE = 200
# Letters, digits and a dot: every code system's codes, and nothing a path could abuse.
CODE = re.compile(r"^[A-Za-z0-9.]{1,10}$")
SETTINGS = ("practitioner", "hospital")
# As much of a locality as a page reads: MAC/number, or a locality or county name.
MAX_LOCALITY = 60
# A code as ICD-10-CM notes name one: ``E11.9``, ``E10.-``, ``O24.4-`` (linked without the dash).
NOTE_CODE = re.compile(
    r"(?<![A-Za-z0-9])([A-Z]\d[0-9A-Z](?:\.[0-9A-Z]{1,4})?)(?:\.?-)?(?![0-9A-Za-z])"
)


@bp.record_once
def _register(state: BlueprintSetupState) -> None:
    """Template filters of these pages: release citations as drafts write them, linked notes."""
    state.app.add_template_filter(cite, "cite")
    state.app.add_template_filter(link_codes, "link_codes")
    state.app.add_template_filter(money, "money")
    # Case pages link every code they show; kept if the app already has its own.
    state.app.jinja_env.globals.setdefault("code_link", code_link)


def code_link(code: str, on: str | None = None) -> Markup:
    """``code`` as a link to its page (as of ``on``, if given); text that is no code stays
    plain, escaped text."""
    if not CODE.match(code) or not candidates(code):
        return escape(code)
    target = url_for("codes.show", code=code.upper(), on=on)
    return Markup('<a class="code" href="{}">{}</a>').format(target, code)


def link_codes(text: str, on: str) -> Markup:
    """``text`` (an ICD-10-CM note) escaped, with each code it names linked to its page."""
    parts, last = [], 0
    for found in NOTE_CODE.finditer(text):
        parts.append(escape(text[last : found.start()]))
        target = url_for("codes.show", code=found[1], on=on)
        parts.append(Markup('<a class="code" href="{}">{}</a>').format(target, found[0]))
        last = found.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


def _on() -> date:
    """The date asked for (``?on=YYYY-MM-DD``), today when none; 400 for a bad one."""
    value = request.args.get("on", "").strip()
    if not value:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        abort(400, description=f"{value[:40]!r} is not a date: give it as YYYY-MM-DD.")


def _number(name: str, default: int, highest: int) -> int:
    value = request.args.get(name, "")
    if not value:
        return default
    if not value.isdigit() or int(value) > highest:
        abort(400, description=f"{name} must be a whole number from 0 to {highest:,}.")
    return int(value)


def _sets() -> frozenset[CodeSet]:
    """The code sets ticked (``?set=ICD-10-CM&set=modifiers``): none means all; 400 for an
    unknown one."""
    try:
        return frozenset(CodeSet(value) for value in request.args.getlist("set"))
    except ValueError:
        abort(400, description="set must be one of " + ", ".join(CodeSet) + ".")


@bp.route("/codes/")
@roles_required(*EVERYONE)
def search() -> str:
    on = _on()
    page = _number("page", 1, MAX_PAGE) or 1
    query = request.args.get("q", "")[:MAX_QUERY]
    sets, billable = _sets(), request.args.get("billable") == "1"
    result, kept = None, True
    if query.strip():
        result = search_codes(
            services().lookup.reader,
            query,
            on,
            SEARCH_PAGE,
            (page - 1) * SEARCH_PAGE,
            sets=sets,
            billable=billable,
        )
        # Kept when submitted: not each keystroke the script searches (live=1), nor a page.
        if page == 1 and not request.args.get("live"):
            kept = recent_searches.record(
                services().db, current_user.id, query, sorted(sets), billable
            )
    return render_template(
        "code_search.html",
        query=query,
        on=on.isoformat(),
        result=result,
        page=page,
        page_size=SEARCH_PAGE,
        sets=sets,
        code_sets=list(CodeSet),
        billable=billable,
        kept=kept,
        recent=[] if query.strip() else recent_searches.recent(services().db, current_user.id),
        # A query shaped like a whole code gets a link to its page, listed or not.
        openable=bool(result and result.mode == SearchMode.CODE and candidates(query)),
    )


@bp.post("/codes/recent/clear")
@roles_required(*EVERYONE)
def clear_recent() -> Response:
    recent_searches.clear(services().db, current_user.id)
    flash("Your recent searches are cleared.", "ok")
    return redirect(url_for("codes.search"))


@bp.route("/codes/<code>")
@roles_required(*EVERYONE)
def show(code: str) -> str:
    if not CODE.match(code):
        abort(404, description="That is not a code: codes are letters, digits and a dot.")
    on = _on()
    offsets = {
        f"{setting}-{column}": _number(f"{setting}-{column}", 0, 10_000_000)
        for setting in SETTINGS
        for column in COLUMNS
    }
    window = request.args.get("ptp", "in_force")
    page = code_page(
        services().lookup,
        code,
        on,
        system=request.args.get("system"),
        ptp_offsets=offsets,
        ptp_in_force=window != "outside",
        locality=request.args.get("locality", "").strip()[:MAX_LOCALITY] or None,
    )
    if page is None:
        abort(
            404,
            description=f"{code} has the shape of no code of CPT, HCPCS Level II, "
            "ICD-10-CM or ICD-10-PCS.",
        )
    return render_template(
        "code.html",
        page=page,
        offsets=offsets,
        ptp_page=PTP_PAGE,
        **code_extras(page.system, page.code),
    )
