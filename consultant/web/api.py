"""The JSON API under /api/v1, for integrations and scripts.

Authenticated by personal API tokens only (``Authorization: Bearer cc_...``,
made with ``consultant tokens create``): a browser's session cookie opens
nothing here, which is why the API needs no CSRF token. Every action goes
through the same services as the web pages and the CLI, with the same rules:
a save names the version it was based on, an approval the version it
approves, another expert's claim refuses both, and the actor is the token's
owner. Every answer, errors included, is JSON; the OpenAPI document
(``consultant/web/openapi.py``) describes exactly these routes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, datetime
from enum import Enum
from typing import Any

from flask import Blueprint, g, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect
from werkzeug.wrappers import Response

from consultant import api_tokens
from consultant.cases import review
from consultant.cases.events import record
from consultant.cases.lifecycle import InvalidTransition
from consultant.cases.queries import load_case
from consultant.cases.queue import QueueError, QueueFilter, QueueOrder, queue_page
from consultant.codes import changes
from consultant.codes.code_page import code_page
from consultant.codes.coverage import Jurisdiction
from consultant.codes.search import search_codes
from consultant.codes.states import state_code
from consultant.codes.systems import System, candidates
from consultant.db_errors import DbErrorKind, TransientError, classify
from consultant.web import api_input, api_json, openapi
from consultant.web.auth import REVIEWERS
from consultant.web.codes import CODE
from consultant.web.context import services
from consultant.web.desk_access import desks_for_viewer, guard_case

bp = Blueprint("api", __name__, url_prefix="/api/v1")
PUBLIC_ENDPOINTS = frozenset({"api.openapi_document"})
# Routes a member's token opens (``for_members``); every other route is for experts.
MEMBER_ENDPOINTS: set[str] = set()
REALM = 'Bearer realm="CaseConsultant API"'
RETRY_AFTER_SECONDS = 10
SYSTEMS = tuple(s.value for s in System)


@bp.record_once
def _exempt_from_csrf(state: Any) -> None:
    """Cookies do not authenticate API calls, so a forged cross-site request carries no
    credentials: the CSRF token check is for forms, not for bearer tokens."""
    csrf = state.app.extensions.get("csrf")
    if csrf is None:
        raise RuntimeError("register the API blueprint after CSRFProtect(app)")
    csrf.exempt(bp)


# -- answers ----------------------------------------------------------------


def _plain(value: object) -> object:
    """JSON for what ``json`` does not know: times as ISO 8601, enums as their value."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} is not JSON")


def answer(payload: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, default=_plain, ensure_ascii=False)
    return Response(body + "\n", status=status, headers=headers, mimetype="application/json")


def error(
    status: int, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> Response:
    """``{"error": message, ...}`` with ``status``: the shape of every refusal."""
    return answer({"error": message, **extra}, status, headers)


def _http_error(refused: HTTPException) -> Response:
    headers = {}
    if isinstance(refused, MethodNotAllowed) and refused.valid_methods:
        headers["Allow"] = ", ".join(sorted(refused.valid_methods))
    if refused.code == 401:
        headers["WWW-Authenticate"] = REALM
    message = refused.description or refused.name
    if isinstance(refused, NotFound) and message == NotFound.description:
        message = "no such resource in this API; see /api/v1/openapi.json"
    return error(refused.code or 500, message, headers)


@bp.before_app_request
def _routing_errors_as_json() -> Response | None:
    """An unknown path or method under /api/v1 gets JSON too: routing fails before any
    blueprint is chosen, so the blueprint's own error handlers never see it."""
    refused = request.routing_exception
    under_api = request.path == bp.url_prefix or request.path.startswith(f"{bp.url_prefix}/")
    if refused is None or not under_api or isinstance(refused, RequestRedirect):
        return None
    assert isinstance(refused, HTTPException)
    return _http_error(refused)


bp.register_error_handler(HTTPException, _http_error)


@bp.errorhandler(TransientError)
def _unavailable(refused: Exception) -> Response:
    return error(
        503,
        "the database could not be reached; nothing was changed, try again in a moment",
        {"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


@bp.errorhandler(Exception)
def _unexpected(failure: Exception) -> Response:
    """A read that met a database outage is a 503 like the actions'; anything else is a
    bug, raised on so that Flask logs it and answers 500 (as JSON, through _http_error)."""
    if classify(failure) is DbErrorKind.TRANSIENT:
        return _unavailable(failure)
    raise failure


@bp.errorhandler(review.CaseNotFound)
def _no_case(refused: review.CaseNotFound) -> Response:
    return error(404, str(refused))


@bp.errorhandler(review.ClaimedByOther)
def _claimed(refused: review.ClaimedByOther) -> Response:
    return error(
        409,
        str(refused),
        claimed_by=refused.holder,
        since=refused.since,
        hint='POST /claim with {"take_over": true} to take the case over (it is recorded)',
    )


@bp.errorhandler(review.DraftConflict)
def _conflict(refused: review.DraftConflict) -> Response:
    return error(409, str(refused), conflict=api_json.conflict(refused))


@bp.errorhandler(review.ReviewError)
def _refused(refused: review.ReviewError) -> Response:
    return error(422, str(refused))


@bp.errorhandler(InvalidTransition)
def _wrong_status(refused: InvalidTransition) -> Response:
    return error(422, str(refused))


@bp.errorhandler(QueueError)
def _bad_query(refused: QueueError) -> Response:
    return error(400, str(refused))


# -- who is asking ----------------------------------------------------------


def for_members(view: Callable[..., Response]) -> Callable[..., Response]:
    """Open the route to members' tokens too (by default a route is for experts only)."""
    MEMBER_ENDPOINTS.add(f"{bp.name}.{view.__name__}")
    return view


@bp.before_request
def _authenticate() -> Response | None:
    """Every route but the OpenAPI document needs a valid token: a reviewer's or admin's,
    or a member's for the routes marked ``for_members`` (codes, asking)."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    presented = presented.strip()
    if scheme.lower() != "bearer" or not presented:
        return error(
            401,
            "send a personal API token as 'Authorization: Bearer <token>' "
            "(an administrator makes one with `consultant tokens create EMAIL`)",
            {"WWW-Authenticate": REALM},
        )
    owner = api_tokens.verify(services().db, presented)
    if owner is None:
        return error(
            401,
            "the token is not valid: unknown, revoked, or its user is disabled",
            {"WWW-Authenticate": f'{REALM}, error="invalid_token"'},
        )
    if owner.role not in REVIEWERS and request.endpoint not in MEMBER_ENDPOINTS:
        return error(403, f"this route is for reviewers and admins; {owner.email} is {owner.role}")
    g.api_owner = owner
    return _unknown_parameters()


bp.before_request(guard_case)  # after the token is known: a desk's cases are its team's


def _unknown_parameters() -> Response | None:
    """Refuse query parameters the route does not take: a misspelt filter (``stauts=all``)
    would otherwise be ignored silently and answer a different question."""
    assert request.url_rule is not None
    path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", request.url_rule.rule)
    method = "GET" if request.method == "HEAD" else request.method
    unknown = api_input.unknown_parameters(path, method)
    if not unknown:
        return None
    takes = ", ".join(sorted(openapi.query_parameters(path, method))) or "none"
    return error(400, f"unknown query parameter {unknown[0]!r}; this route takes: {takes}")


def actor() -> str:
    """Who acts: the owner of the token the request came with."""
    owner: api_tokens.TokenOwner = g.api_owner
    return owner.email


# -- cases ------------------------------------------------------------------


@bp.get("/cases")
def list_cases() -> Response:
    """A page of the queue, as the queue page filters and sorts it, with the total."""
    direction = api_input.choice("order", ("asc", "desc"))
    filters = QueueFilter(
        status=api_input.arg("status", "open"),
        q=api_input.search_text(),
        topic=api_input.arg("topic"),
        code=api_input.arg("code"),
        desks=desks_for_viewer(),
        **{name: api_input.flag(name) for name in openapi.QUEUE_FLAGS},
    )
    order = QueueOrder(api_input.arg("sort"), None if direction is None else direction == "desc")
    page, per_page = api_input.paging()
    with services().db.read_session() as session:
        found = queue_page(
            session,
            services().settings,
            filters,
            order,
            offset=(page - 1) * per_page,
            limit=per_page,
            viewer=actor(),
        )
    return answer(api_json.queue(found, page, per_page))


@bp.get("/cases/<reference>")
def show_case(reference: str) -> Response:
    """A case with its current draft (``version`` and ``text``), facts, messages and claim.

    Message text and the subject come with patient details removed; with
    ``show_phi=true`` they come as received, and the case's timeline records
    who saw them, as on the case page and in ``cases show --show-phi``.
    """
    ref = api_input.reference(reference)
    show_phi = api_input.flag("show_phi")
    database = services().db
    with database.session() if show_phi else database.read_session() as session:
        case = load_case(session, ref)
        if case is None:
            raise review.CaseNotFound(f"no case {ref}")
        if show_phi:
            record(session, case, "phi_revealed", actor(), where="api")
        return answer(api_json.case(session, services().settings, case, show_phi))


@bp.put("/cases/<reference>/draft")
def save_draft(reference: str) -> Response:
    """Save ``text`` as the next version of the draft, made from ``base_version``."""
    ref = api_input.reference(reference)
    fields = api_input.body()
    text = api_input.text(fields, "text")
    base = api_input.version(fields, "base_version")
    saved = review.edit_draft(services(), ref, text, actor(), base_version=base)
    return answer(
        {
            "reference": ref,
            "version": saved.version,
            "created": saved.created,
            "message": saved.describe(),
        }
    )


@bp.post("/cases/<reference>/approve")
def approve(reference: str) -> Response:
    """Approve draft ``version`` (saving ``text`` as a new version first when given and
    different) and start sending it; 409 when ``version`` is no longer the current one."""
    ref = api_input.reference(reference)
    fields = api_input.body()
    version = api_input.version(fields, "version")
    text = api_input.optional_text(fields, "text")
    approved = review.approve(services(), ref, actor(), version=version, text=text)
    return answer(
        {
            "reference": ref,
            "status": "approved",
            "version": approved.version,
            "saved": approved.saved,
            "outbound_id": approved.outbound_id,
            "already_answered": approved.already_answered,
        },
        202,  # accepted: the reply is queued, and sent by the worker
    )


@bp.post("/cases/<reference>/reject")
def reject(reference: str) -> Response:
    """Close the case without a reply; ``reason`` goes on the timeline."""
    ref = api_input.reference(reference)
    reason = api_input.text(api_input.body(), "reason")
    review.reject(services(), ref, reason, actor())
    return answer({"reference": ref, "status": "rejected"})


@bp.post("/cases/<reference>/claim")
def claim(reference: str) -> Response:
    """Claim the case for the token's owner (renewing their claim); another expert's claim
    is refused unless ``take_over`` is true, which the timeline records."""
    ref = api_input.reference(reference)
    take_over = api_input.boolean(api_input.body(optional=True), "take_over")
    new = review.claim(services(), ref, actor(), take_over=take_over)
    return answer({"reference": ref, "new": new, "claim": _claim_now(ref)})


@bp.delete("/cases/<reference>/claim")
def release(reference: str) -> Response:
    """Give up the token owner's claim; ``released`` is false when they did not hold it."""
    ref = api_input.reference(reference)
    released = review.release(services(), ref, actor())
    return answer({"reference": ref, "released": released, "claim": _claim_now(ref)})


def _claim_now(reference: str) -> dict[str, Any] | None:
    with services().db.read_session() as session:
        case = load_case(session, reference)
        if case is None:
            raise review.CaseNotFound(f"no case {reference}")
        return api_json.claim(case)


# -- codes ------------------------------------------------------------------


@bp.get("/codes")
@for_members
def search_code_data() -> Response:
    """Codes and modifiers by code or prefix, or by words of their descriptions and
    inclusion terms (misspellings corrected), as of ``on``, in the code sets ``set``."""
    if "q" not in request.args:
        raise api_input.bad_request("q is required: a code, the start of one, or words")
    query, on = api_input.search_text(), api_input.on()
    page, per_page = api_input.paging()
    result = search_codes(
        services().lookup.reader,
        query,
        on,
        per_page,
        (page - 1) * per_page,
        sets=api_input.code_sets(),
        billable=api_input.flag("billable"),
    )
    return answer(result.as_dict() | {"page": page, "per_page": per_page})


@bp.get("/codes/changes")
@for_members
def code_changes() -> Response:
    """The codes added, deleted and revised between two releases of ``kind``, each named by
    its id or version (``from`` and ``to``; by default the newest two)."""
    kind = api_input.choice("kind", changes.KINDS)
    if kind is None:
        raise api_input.bad_request(f"kind is required: one of {', '.join(changes.KINDS)}")
    named = [
        api_input.matching(n, openapi.RELEASE_PATTERN, "a release id or version")
        for n in ("from", "to")
    ]
    reader = services().lookup.reader
    try:
        found = changes.compare(reader, *changes.pair(reader, kind, *named))
    except changes.NotComparable as refused:
        raise NotFound(str(refused)) from None
    return answer(found.as_dict())


@bp.get("/codes/<code>")
@for_members
def show_code(code: str) -> Response:
    """Everything the loaded data says about ``code`` as of ``on`` (today by default)."""
    if not CODE.match(code):
        raise NotFound("that is not a code: codes are letters, digits and a dot")
    system = api_input.choice("system", SYSTEMS)
    page = code_page(services().lookup, code, api_input.on(), system=system)
    if page is None:
        raise NotFound(
            f"{code} has the shape of no code of CPT, HCPCS Level II, ICD-10-CM or ICD-10-PCS"
        )
    return answer(page.as_dict())


def _procedure_code(code: str) -> str:
    """A CPT or HCPCS code from the path, upper-cased: what coverage articles and the fee
    schedules list; 404 for anything else."""
    if not CODE.match(code):
        raise NotFound("that is not a code: codes are letters, digits and a dot")
    procedures = [c for s, c in candidates(code) if s in (System.CPT, System.HCPCS)]
    if not procedures:
        raise NotFound(
            f"{code} is not a CPT or HCPCS code: coverage and fees are for procedure, "
            "supply and drug codes"
        )
    return procedures[0]


def _state() -> str | None:
    value = api_input.limited("state", openapi.MAX_PLACE_CHARS)
    if value is None:
        return None
    found = state_code(value)
    if found is None:
        raise api_input.bad_request(
            f"state {value[:40]!r} is not a US state or territory: give its code (FL) or name"
        )
    return found


@bp.get("/codes/<code>/coverage")
@for_members
def code_coverage(code: str) -> Response:
    """Medicare coverage of a procedure or supply code with the diagnoses ``dx`` on ``on``:
    the articles in force for ``state`` or ``mac`` (every jurisdiction without either), each
    diagnosis covered, listed as not covered, or not listed, with modifiers, LCDs and NCDs."""
    code = _procedure_code(code)
    diagnoses, macs, state = api_input.diagnoses(), api_input.macs(), _state()
    if state and macs:
        raise api_input.bad_request("give state or mac, not both")
    on = api_input.on() or date.today()
    lookup = services().lookup
    known = lookup.coverage.macs(on)
    unknown = [m for m in macs if m not in known]
    if known and unknown:
        return error(
            400,
            f"no contractor numbered {unknown[0]} in the coverage data for {on}",
            choices=[{"mac": number, "name": name} for number, name in sorted(known.items())],
        )
    jurisdiction = Jurisdiction(state, macs, "asked" if state or macs else "")
    entry = lookup.find(code, on)
    result = lookup.coverage.coverage(
        code, diagnoses, on, jurisdiction, description=entry.description if entry else None
    )
    return answer(result.as_dict())


@bp.get("/codes/<code>/fee")
@for_members
def code_fee(code: str) -> Response:
    """What Medicare pays for a code (with ``modifier``) on ``on``: the fee schedule amounts
    in ``locality`` (or ``state`` and ``county``), national without one, and the lab fee
    schedule rate. A place of several localities is refused with the choices."""
    code = _procedure_code(code)
    modifier = api_input.matching("modifier", openapi.MODIFIER_PATTERN, "two letters or digits")
    place = api_input.limited("locality", openapi.MAX_PLACE_CHARS)
    county = api_input.limited("county", openapi.MAX_PLACE_CHARS)
    state = _state()
    if place and county:
        raise api_input.bad_request("give locality, or state and county, not both")
    on = api_input.on() or date.today()
    fees = services().lookup.fees
    locality = None
    if place or state or county:
        found = fees.localities(on, place=place, state=state, county=county)
        if len(found.found) > 1:
            asked = place or county or state
            reason = found.message or f"{asked!r} matches {len(found.found)} localities"
            return error(
                400,
                f"{reason}; choose one of the choices and give it as locality=MAC/number",
                choices=[loc.describe() for loc in found.found],
            )
        if found.message or not found.found:
            raise api_input.bad_request(found.message or "no locality matches")
        locality = found.found[0]
    return answer(fees.fee(code, modifier or "", locality, on).as_dict())


# -- the description --------------------------------------------------------


@bp.get("/openapi.json")
def openapi_document() -> Response:
    """The OpenAPI 3 document of these routes (public: it holds no data)."""
    return answer(openapi.document(), headers={"Cache-Control": "public, max-age=300"})
