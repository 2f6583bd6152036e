"""The review queue page: tabs with counts, filters, search, sort, paging, bulk actions, and
the ignored mail with its "treat as a question".

Everything is a GET with the state in the address (works without JavaScript,
can be bookmarked and shared); bulk actions are one POST that runs the review
services one case at a time and says per case what happened.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from consultant.analysis.model import TOPICS
from consultant.cases import ignored, lifecycle, review
from consultant.cases.desk_scope import may_see
from consultant.cases.ignored import IgnoredPage
from consultant.cases.queue import (
    CODE,
    NATURALLY_DESCENDING,
    VIEWS,
    QueueError,
    QueueFilter,
    QueueOrder,
    QueuePage,
    queue_counts,
    queue_page,
)
from consultant.cases.review_errors import clock
from consultant.cases.sla import describe_span
from consultant.db_errors import TransientError
from consultant.drafting.draft import TOPIC_WORDS
from consultant.models import Role
from consultant.web.auth import EVERYONE, REVIEWERS, roles_required
from consultant.web.context import services
from consultant.web.desk_access import desks_for_viewer
from consultant.web.filters import code_link

bp = Blueprint("queue", __name__)
PAGE_SIZE = 50
FLAGS = {
    "mine": "Mine",
    "unassigned": "Unassigned",
    "claimed": "Claimed",
    "overdue": "Overdue",
    "phi": "PHI",
    "attachments": "Has attachments",
}
TAB_ORDER = (
    "open",
    "awaiting_review",
    "failed",
    "received",
    "analyzing",
    "approved",
    "sending",
    "sent",
    "rejected",
    "ignored",
    "all",
)
# What the address may carry; anything else is dropped when links are made.
KEEP = ("status", "q", "topic", "code", "desk", "sort", "order", *FLAGS)
SORT_TITLES = {
    "age": "waiting time (oldest first)",
    "due": "SLA due time (soonest first)",
    "requester": "requester (A to Z)",
    "status": "status",
    "assignee": "assignee (A to Z)",
    "relevance": "best match (when searching)",
}
BULK_ACTIONS = {"assign": "Assign to me", "claim": "Claim", "reject": "Reject"}
MAX_BULK = 100
REFERENCE = re.compile(r"^[A-Z][A-Z0-9]{0,9}-\d{6,}$")


def label(view: str) -> str:
    return view.replace("_", " ").capitalize()


@dataclass(frozen=True)
class Listing:
    """The page's state as read from the address, with what was wrong in it."""

    args: dict[str, str]
    filters: QueueFilter
    order: QueueOrder
    page: int
    errors: list[str]

    def url(self, **changes: Any) -> str:
        """This listing's address with ``changes`` (None removes a key); page 1 unless given."""
        args = {k: v for k, v in self.args.items() if k != "page"}
        for key, value in changes.items():
            if value is None:
                args.pop(key, None)
            else:
                args[key] = str(value)
        return url_for("queue.index", **args)

    def sort_url(self, key: str, current: str, descending: bool) -> str:
        """Sorting by ``key``: the natural direction first, the other one when clicked again."""
        if key == current:
            return self.url(sort=key, order="asc" if descending else "desc")
        return self.url(sort=key, order=None)


def _checked(value: str | None) -> bool:
    return value in ("1", "on", "true", "yes")


def read_listing(source: MultiDict[str, str]) -> Listing:
    """The listing an address asks for; an unknown view is a 404, other bad values are
    dropped and said."""
    args = {k: source.get(k, "") for k in KEEP if source.get(k)}
    status = args.get("status", "open")
    if status not in VIEWS:
        abort(404)
    errors = []
    topic, code = args.get("topic", "").strip().lower(), args.get("code", "").strip().upper()
    if topic and topic not in TOPICS:
        errors.append(f"There is no topic “{args['topic']}”; the topic filter was not applied.")
        topic = ""
        args.pop("topic")
    if code and not CODE.match(code):
        errors.append(
            f"“{args['code']}” is not a code (letters, digits, dots and dashes); "
            "the code filter was not applied."
        )
        code = ""
        args.pop("code")
    desk = args.get("desk", "")
    if desk and desk not in {d.key for d in services().settings.desks}:
        errors.append(f"There is no desk “{desk}”; the desk filter was not applied.")
        desk = ""
        args.pop("desk")
    sort, order = args.get("sort", ""), args.get("order", "")
    try:
        queue_order = QueueOrder(sort, None if not order else order == "desc")
    except QueueError as error:
        errors.append(f"{error}; the default order is used.")
        args.pop("sort")
        queue_order = QueueOrder()
    page_text = source.get("page", "1")
    page = int(page_text) if page_text.isdigit() and 0 < int(page_text) < 10**6 else 1
    filters = QueueFilter(
        status=status,
        topic=topic,
        code=code,
        q=args.get("q", ""),
        desk=desk,
        desks=desks_for_viewer(),
        **{flag: _checked(args.get(flag)) for flag in FLAGS},
    )
    return Listing(args, filters, queue_order, page, errors)


def _pages(current: int, last: int) -> list[int | None]:
    """Page numbers to link: the first, the last and two either side of ``current``
    (None: a gap)."""
    shown = sorted({1, last, *range(max(current - 2, 1), min(current + 2, last) + 1)})
    pages: list[int | None] = []
    for number in shown:
        if pages and number - (pages[-1] or 0) > 1:
            pages.append(None)
        pages.append(number)
    return pages


def _last_page(total: int) -> int:
    return max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)


def _cases(session: Session, listing: Listing) -> tuple[QueuePage, int]:
    """The page of cases the listing asks for (the last one when it asks past the end)."""
    settings, viewer = services().settings, current_user.email
    page_number = listing.page
    while True:
        page = queue_page(
            session,
            settings,
            listing.filters,
            listing.order,
            offset=(page_number - 1) * PAGE_SIZE,
            limit=PAGE_SIZE,
            viewer=viewer,
        )
        last = _last_page(page.total)
        if page_number <= last:
            return page, page_number
        page_number = last  # cases left meanwhile, or a hand-made address


def _ignored(session: Session, listing: Listing) -> tuple[IgnoredPage, int]:
    page_number = listing.page
    while True:
        page = ignored.ignored_mail(session, offset=(page_number - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        last = _last_page(page.total)
        if page_number <= last:
            return page, page_number
        page_number = last


@bp.route("/")
@roles_required(*EVERYONE)
def index() -> str | Response:
    if current_user.role == Role.MEMBER:  # the site's home, for a member: the Ask page
        return redirect(url_for("ask.index"))
    listing = read_listing(request.args)
    svc = services()
    page: QueuePage | None = None
    ignored_page: IgnoredPage | None = None
    with svc.db.read_session() as session:
        if listing.filters.status == "ignored":
            ignored_page, number = _ignored(session, listing)
            counts = queue_counts(session, svc.settings, listing.filters, viewer=current_user.email)
            total = ignored_page.total
        else:
            page, number = _cases(session, listing)
            counts = dict(page.counts)
            total = page.total
        counts["ignored"] = ignored.count_ignored(session)
    listing = replace(listing, page=number)
    last_page = _last_page(total)
    return render_template(
        "queue.html",
        page=page,
        ignored_page=ignored_page,
        listing=listing,
        tabs=[(view, label(view), counts[view]) for view in TAB_ORDER],
        flags=FLAGS,
        topics=[(t, TOPIC_WORDS.get(t, t)) for t in TOPICS],
        pages=_pages(listing.page, last_page),
        last_page=last_page,
        actions=BULK_ACTIONS,
        sorts=list(SORT_TITLES.items()),
        naturally_descending=NATURALLY_DESCENDING,
        span=describe_span,
        code_link=code_link,
        clock=clock,
        desks=_desk_choices(),
        desk_names={d.key: d.display_name for d in svc.settings.desks},
        back=urlencode(listing.args | {"page": str(listing.page)}),
    )


def _desk_choices() -> list[tuple[str, str]]:
    """(key, display name) of the desks the viewer sees; empty with a single desk."""
    all_desks = list(services().settings.desks)
    visible = desks_for_viewer()
    shown = [(d.key, d.display_name) for d in all_desks if visible is None or d.key in visible]
    return shown if len(all_desks) > 1 else []


def _back() -> Response:
    """To the listing the form was on (its query string, read like any listing address)."""
    listing = read_listing(MultiDict(parse_qsl(request.form.get("back", "")[:2000])))
    return redirect(listing.url(page=listing.page if listing.page > 1 else None))


def _run(action: str, reference: str, reason: str) -> str:
    """One bulk action on one case; the outcome in words, or raises the refusal."""
    svc, actor = services(), current_user.email
    with svc.db.read_session() as session:
        if not may_see(session, svc.settings, reference, actor, current_user.role):
            raise review.CaseNotFound(reference)  # another desk's: as if there were none
    if action == "assign":
        review.assign(svc, reference, actor, actor)
        return "assigned to you"
    if action == "claim":
        new = review.claim(svc, reference, actor)
        return "claimed" if new else "already yours (claim renewed)"
    review.reject(svc, reference, reason, actor)
    return "rejected"


@bp.route("/queue/bulk", methods=["POST"])
@roles_required(*REVIEWERS)
def bulk() -> Response:
    """Assign to me, claim or reject the checked cases, each on its own; report each."""
    action = request.form.get("bulk_action", "")
    references = [r.strip().upper() for r in request.form.getlist("ref") if r.strip()]
    reason = request.form.get("reason", "").strip()
    if action not in BULK_ACTIONS:
        flash("Choose what to do with the checked cases.", "error")
        return _back()
    if not references:
        flash("Tick at least one case first.", "error")
        return _back()
    if len(references) > MAX_BULK:
        flash(f"At most {MAX_BULK} cases at a time; nothing was done.", "error")
        return _back()
    if action == "reject" and not reason:
        flash("A rejection needs a reason: nothing was rejected.", "error")
        return _back()
    done: dict[str, list[str]] = {}
    for reference in dict.fromkeys(references):
        if not REFERENCE.match(reference):
            flash(f"{reference}: not a case reference.", "error")
            continue
        try:
            outcome = _run(action, reference, reason)
        except review.CaseNotFound:
            flash(f"{reference}: no such case.", "error")
        except (review.ReviewError, lifecycle.InvalidTransition, TransientError) as error:
            flash(f"{reference}: not done. {error}", "error")
        else:
            done.setdefault(outcome, []).append(reference)
    for outcome, refs in done.items():
        flash(f"{', '.join(refs)}: {outcome}.", "ok")
    return _back()


@bp.route("/queue/ignored/<int:inbound_id>/question", methods=["POST"])
@roles_required(*REVIEWERS)
def treat_as_question(inbound_id: int) -> Response:
    """Read an ignored message as a question: it becomes a case and is processed again."""
    try:
        reference = ignored.treat_as_question(services(), inbound_id, current_user.email)
    except ignored.IgnoredMailNotFound:
        abort(404)
    except (review.ReviewError, lifecycle.InvalidTransition, TransientError) as error:
        flash(str(error), "error")
        return _back()
    flash(f"The message is now case {reference}, read as a question.", "ok")
    return redirect(url_for("case.show", reference=reference))
