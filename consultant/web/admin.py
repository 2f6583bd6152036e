"""Admin pages: users, allowed senders and unknown mail, the SLA, snippets, reply templates.

Admins only: reviewers get 403, anonymous visitors the login page. Each form
posts to its own address and calls the same services as the CLI; a refused
change shows the page again with the reason and what was typed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from consultant import admin_users, registration, users
from consultant.cases import senders, snippets
from consultant.cases.app_settings import SLA_HOURS
from consultant.cases.senders import POLICY_LABELS, SenderRuleError, UnknownSenders
from consultant.cases.sla import MAX_SLA_HOURS, SlaError, set_sla_hours, sla_hours
from consultant.cases.snippets import PLACEHOLDERS, SnippetError
from consultant.codes.states import STATES
from consultant.models import AppSetting, Role, User
from consultant.users import MIN_PASSWORD_LENGTH, UserError
from consultant.web.auth import roles_required
from consultant.web.context import services
from consultant.web.template_preview import reply_previews

bp = Blueprint("admin", __name__, url_prefix="/admin")
SECTIONS = (
    ("admin.users_page", "Users"),
    ("admin.senders_page", "Senders"),
    ("admin.sla_page", "SLA"),
    ("admin.snippets_page", "Snippets"),
    ("admin.templates_page", "Reply templates"),
)
INVALID = 422


def when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


def _actor() -> str:
    return str(current_user.email)


def _page(template: str, section: str, status: int = 200, **context: Any) -> tuple[str, int]:
    """An admin page with the admin sections listed, ``section`` marked as the current one."""
    page = render_template(template, sections=SECTIONS, section=section, when=when, **context)
    return page, status


@bp.route("/")
@roles_required(Role.ADMIN)
def index() -> Response:
    return redirect(url_for("admin.users_page"))


# -- users -----------------------------------------------------------------


@bp.route("/users")
@roles_required(Role.ADMIN)
def users_page(status: int = 200, typed: dict[str, str] | None = None) -> tuple[str, int]:
    with services().db.read_session() as session:
        accounts = list(session.scalars(select(User).order_by(User.email)))
    return _page(
        "admin_users.html",
        "admin.users_page",
        status,
        accounts=accounts,
        roles=[r.value for r in Role],
        typed=typed or {"role": Role.REVIEWER.value},
        min_password=MIN_PASSWORD_LENGTH,
    )


@bp.route("/users", methods=["POST"])
@roles_required(Role.ADMIN)
def create_user() -> Response | tuple[str, int]:
    email, role = request.form.get("email", ""), request.form.get("role", "")
    try:
        if role not in {r.value for r in Role}:
            raise UserError(f"choose a role ({', '.join(r.value for r in Role)})")
        user = users.create_user(services().db, email, request.form.get("password", ""), Role(role))
    except UserError as error:
        flash(f"No user created: {error}.", "error")
        return users_page(INVALID, {"email": email, "role": role})
    flash(f"{user.email} can now sign in as {role}.", "ok")
    return redirect(url_for("admin.users_page"))


@bp.route("/users/invite", methods=["POST"])
@roles_required(Role.ADMIN)
def invite_member() -> Response | tuple[str, int]:
    email = request.form.get("email", "")[:320]
    svc = services()
    try:
        with svc.db.session() as session:
            queued = registration.invite(svc, session, email, _actor())
    except registration.RegistrationRefused as refused:
        flash(f"No invitation sent: {refused}.", "error")
        return users_page(INVALID)
    if queued.outbound_id is not None:
        svc.dispatch("send_reply", queued.outbound_id)
    flash(f"Invitation sent to {email.strip().lower()}.", "ok")
    return redirect(url_for("admin.users_page"))


def _email_of(user_id: int) -> str:
    with services().db.read_session() as session:
        user = session.get(User, user_id)
        if user is None:
            abort(404)
        return user.email


@bp.route("/users/<int:user_id>/role", methods=["POST"])
@roles_required(Role.ADMIN)
def change_role(user_id: int) -> Response | tuple[str, int]:
    email, role = _email_of(user_id), request.form.get("role", "")
    try:
        if role not in {r.value for r in Role}:
            raise UserError(f"{role!r} is not a role")
        changed = admin_users.set_role(services().db, email, Role(role), _actor())
    except UserError as error:
        flash(f"Role not changed: {error}.", "error")
        return users_page(INVALID)
    flash(f"{email} is now {role}." if changed else f"{email} was {role} already.", "ok")
    return redirect(url_for("admin.users_page"))


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@roles_required(Role.ADMIN)
def set_active(user_id: int) -> Response | tuple[str, int]:
    email, active = _email_of(user_id), request.form.get("active") == "1"
    try:
        ended = admin_users.set_active(services().db, email, active, _actor())
    except UserError as error:
        flash(f"Not changed: {error}.", "error")
        return users_page(INVALID)
    if active:
        flash(f"{email} can sign in again.", "ok")
    else:
        flash(f"{email} is disabled; {ended} session(s) ended.", "ok")
    return redirect(url_for("admin.users_page"))


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@roles_required(Role.ADMIN)
def reset_password(user_id: int) -> Response | tuple[str, int]:
    email = _email_of(user_id)
    try:
        ended = users.reset_password(
            services().db, email, request.form.get("password", ""), _actor()
        )
    except UserError as error:
        flash(f"Password not set for {email}: {error}.", "error")
        return users_page(INVALID)
    flash(f"New password set for {email}; {ended} session(s) ended. Tell them in person.", "ok")
    return redirect(url_for("admin.users_page"))


# -- senders ---------------------------------------------------------------


@bp.route("/senders")
@roles_required(Role.ADMIN)
def senders_page(status: int = 200, typed: dict[str, str] | None = None) -> tuple[str, int]:
    settings = services().settings
    with services().db.read_session() as session:
        rules = senders.list_rules(session)
        policy = senders.unknown_senders(session)
    return _page(
        "admin_senders.html",
        "admin.senders_page",
        status,
        rules=rules,
        policy=policy,
        policies=POLICY_LABELS,
        environment=sorted(settings.allowed_sender_list),
        nobody_allowed=not rules and not settings.allowed_sender_list,
        typed=typed or {},
        states=STATES,
    )


@bp.route("/senders", methods=["POST"])
@roles_required(Role.ADMIN)
def add_sender() -> Response | tuple[str, int]:
    pattern, note = request.form.get("pattern", ""), request.form.get("note", "")
    try:
        with services().db.session() as session:
            rule = senders.add_rule(session, pattern, note, _actor())
    except SenderRuleError as error:
        flash(f"Not added: {error}.", "error")
        return senders_page(INVALID, {"pattern": pattern, "note": note})
    flash(f"{rule.pattern} may now send questions.", "ok")
    return redirect(url_for("admin.senders_page"))


@bp.route("/senders/<int:rule_id>/where", methods=["POST"])
@roles_required(Role.ADMIN)
def set_sender_where(rule_id: int) -> Response | tuple[str, int]:
    """Where a sender's patients are seen: the state and MACs coverage and payment use."""
    form = request.form
    try:
        with services().db.session() as session:
            rule = senders.set_where(
                session,
                rule_id,
                form.get("state", ""),
                form.get("part_b_mac", ""),
                form.get("dme_mac", ""),
                _actor(),
            )
            pattern = rule.pattern if rule else None
    except SenderRuleError as error:
        flash(f"Not saved: {error}.", "error")
        return senders_page(INVALID)
    if pattern is None:
        abort(404)
    flash(f"Where {pattern}'s patients are seen is saved.", "ok")
    return redirect(url_for("admin.senders_page"))


@bp.route("/senders/<int:rule_id>/delete", methods=["POST"])
@roles_required(Role.ADMIN)
def remove_sender(rule_id: int) -> Response:
    with services().db.session() as session:
        pattern = senders.remove_rule(session, rule_id, _actor())
    if pattern is None:
        abort(404)
    flash(f"{pattern} removed from the allowed senders.", "ok")
    return redirect(url_for("admin.senders_page"))


@bp.route("/senders/policy", methods=["POST"])
@roles_required(Role.ADMIN)
def set_policy() -> Response | tuple[str, int]:
    try:
        policy = UnknownSenders(request.form.get("policy", ""))
    except ValueError:
        flash("Choose what happens to mail from unknown senders.", "error")
        return senders_page(INVALID)
    with services().db.session() as session:
        senders.set_unknown_senders(session, policy, _actor())
    flash(f"Unknown senders: {POLICY_LABELS[policy]}.", "ok")
    return redirect(url_for("admin.senders_page"))


# -- SLA -------------------------------------------------------------------


@bp.route("/sla")
@roles_required(Role.ADMIN)
def sla_page(status: int = 200, typed: str | None = None) -> tuple[str, int]:
    settings = services().settings
    with services().db.read_session() as session:
        hours = sla_hours(session, settings)
        stored = session.get(AppSetting, SLA_HOURS)
    return _page(
        "admin_sla.html",
        "admin.sla_page",
        status,
        hours=hours,
        typed=typed if typed is not None else f"{hours:g}",
        stored=stored,
        default=settings.sla_hours,
        business_hours=settings.business_hours,
        business_days=settings.business_days,
        timezone=settings.business_timezone,
        max_hours=MAX_SLA_HOURS,
    )


@bp.route("/sla", methods=["POST"])
@roles_required(Role.ADMIN)
def set_sla() -> Response | tuple[str, int]:
    typed = request.form.get("hours", "").strip()
    try:
        try:
            hours = float(typed)
        except ValueError:
            raise SlaError(f"{typed!r} is not a number of hours") from None
        with services().db.session() as session:
            set_sla_hours(session, hours, _actor())
    except SlaError as error:
        flash(f"SLA not changed: {error}.", "error")
        return sla_page(INVALID, typed)
    flash(f"Replies are now due {hours:g} hours after a question arrives.", "ok")
    return redirect(url_for("admin.sla_page"))


# -- snippets --------------------------------------------------------------


@bp.route("/snippets")
@roles_required(Role.ADMIN)
def snippets_page(status: int = 200, typed: dict[str, str] | None = None) -> tuple[str, int]:
    with services().db.read_session() as session:
        stored = snippets.list_snippets(session)
    return _page(
        "admin_snippets.html",
        "admin.snippets_page",
        status,
        snippets=stored,
        typed=typed or {},
        placeholders=PLACEHOLDERS,
    )


@bp.route("/snippets", methods=["POST"])
@roles_required(Role.ADMIN)
def create_snippet() -> Response | tuple[str, int]:
    name, body = request.form.get("name", ""), request.form.get("body", "")
    try:
        with services().db.session() as session:
            snippet = snippets.create_snippet(session, name, body, _actor())
    except SnippetError as error:
        flash(f"Snippet not saved: {error}.", "error")
        return snippets_page(INVALID, {"name": name, "body": body})
    flash(f"Snippet {snippet.name} saved.", "ok")
    return redirect(url_for("admin.snippet_page", snippet_id=snippet.id))


@bp.route("/snippets/<int:snippet_id>")
@roles_required(Role.ADMIN)
def snippet_page(
    snippet_id: int, status: int = 200, typed: dict[str, str] | None = None
) -> tuple[str, int]:
    with services().db.read_session() as session:
        snippet = snippets.get_snippet(session, snippet_id)
    if snippet is None:
        abort(404)
    preview: str | None = None
    if typed is None:
        preview = snippets.fill(snippet.body, snippets.SAMPLE)
    return _page(
        "admin_snippet.html",
        "admin.snippets_page",
        status,
        snippet=snippet,
        typed=typed or {"name": snippet.name, "body": snippet.body},
        preview=preview,
        sample=snippets.SAMPLE,
        placeholders=PLACEHOLDERS,
    )


@bp.route("/snippets/<int:snippet_id>", methods=["POST"])
@roles_required(Role.ADMIN)
def update_snippet(snippet_id: int) -> Response | tuple[str, int]:
    name, body = request.form.get("name", ""), request.form.get("body", "")
    try:
        with services().db.session() as session:
            snippets.update_snippet(session, snippet_id, name, body, _actor())
    except SnippetError as error:
        flash(f"Snippet not saved: {error}.", "error")
        return snippet_page(snippet_id, INVALID, {"name": name, "body": body})
    flash(f"Snippet {name.strip().lower()} saved.", "ok")
    return redirect(url_for("admin.snippet_page", snippet_id=snippet_id))


@bp.route("/snippets/<int:snippet_id>/delete", methods=["POST"])
@roles_required(Role.ADMIN)
def delete_snippet(snippet_id: int) -> Response:
    with services().db.session() as session:
        name = snippets.delete_snippet(session, snippet_id, _actor())
    if name is None:
        abort(404)
    flash(f"Snippet {name} deleted.", "ok")
    return redirect(url_for("admin.snippets_page"))


# -- reply templates -------------------------------------------------------


@bp.route("/templates")
@roles_required(Role.ADMIN)
def templates_page() -> tuple[str, int]:
    previews = reply_previews(services())
    return _page("admin_templates.html", "admin.templates_page", previews=previews)
