"""A user's own account: where they are signed in, recent sign-in activity, and changing
the password (which signs out their other sessions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from consultant import auth_log
from consultant.auth_log import AuthEventKind
from consultant.models import Role, utcnow
from consultant.signin import sign_out_others
from consultant.signin_throttle import SignInRefused
from consultant.user_sessions import open_sessions, token_hash
from consultant.users import MIN_PASSWORD_LENGTH, UserError, WrongPassword, change_password
from consultant.web.auth import refused_page, roles_required, throttle_policy
from consultant.web.context import services
from consultant.web.sessions import policy

bp = Blueprint("account", __name__, url_prefix="/account")
ACTIVITY_SHOWN = 10
ACTIVITY_WORDS = {
    AuthEventKind.SIGN_IN: "Signed in",
    AuthEventKind.SIGN_IN_FAILED: "Wrong password given",
    AuthEventKind.SIGN_IN_REFUSED: "Sign-in refused: too many failures",
    AuthEventKind.SIGN_OUT: "Signed out",
    AuthEventKind.SESSION_EXPIRED: "Session timed out",
    AuthEventKind.PASSWORD_CHANGED: "Password changed",
    AuthEventKind.PASSWORD_CHANGE_FAILED: "Wrong current password given to change it",
    AuthEventKind.PASSWORD_RESET: "Password set by an administrator",
    AuthEventKind.USER_DISABLED: "Account disabled",
    AuthEventKind.USER_ENABLED: "Account enabled",
    AuthEventKind.SESSIONS_REVOKED: "Other sessions signed out",
}


@dataclass(frozen=True)
class SessionRow:
    """One place the user is signed in, as the account page lists it."""

    current: bool
    started: str
    last_seen: str
    address: str
    browser: str


@dataclass(frozen=True)
class ActivityRow:
    when: str
    what: str
    address: str


def _clock(moment: datetime) -> str:
    zone = ZoneInfo(services().settings.business_timezone)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


@bp.route("")
@roles_required(*Role)
def index() -> str:
    mine = token_hash(current_user.token)
    rows = open_sessions(services().db, current_user.id, policy(), utcnow())
    signed_in = [
        SessionRow(
            current=row.token_hash == mine,
            started=_clock(row.created_at),
            last_seen=_clock(row.last_seen_at),
            address=row.address or "unknown",
            browser=row.user_agent or "unknown",
        )
        for row in rows
    ]
    events = auth_log.recent(services().db, ACTIVITY_SHOWN, email=current_user.email)
    activity = [
        ActivityRow(_clock(e.at), ACTIVITY_WORDS.get(e.kind, e.kind), e.address or "")
        for e in events
    ]
    return render_template("account.html", sessions=signed_in, activity=activity)


@bp.route("/sessions/others", methods=["POST"])
@roles_required(*Role)
def end_other_sessions() -> Response:
    ended = sign_out_others(
        services().db,
        current_user.id,
        current_user.email,
        current_user.token,
        address=request.remote_addr,
    )
    flash(f"Signed out of {ended} other session{'s' if ended != 1 else ''}.", "ok")
    return redirect(url_for("account.index"))


@bp.route("/password", methods=["GET", "POST"])
@roles_required(*Role)
def password() -> str | Response:
    page = {"min_length": MIN_PASSWORD_LENGTH}
    if request.method == "GET":
        return render_template("password.html", **page)
    new = request.form.get("new_password", "")
    if new != request.form.get("confirm_password", ""):
        flash("The two new passwords differ; type the same one twice.", "error")
        return render_template("password.html", **page)
    try:
        ended = change_password(
            services().db,
            throttle_policy(),
            current_user.id,
            request.form.get("current_password", ""),
            new,
            address=request.remote_addr,
            keep_session=current_user.token,
        )
    except SignInRefused as refused:
        return refused_page("password.html", refused.retry_at, **page)
    except WrongPassword:
        flash("The current password is not right.", "error")
        return render_template("password.html", **page)
    except UserError as error:
        flash(f"Not changed: {error}.", "error")
        return render_template("password.html", **page)
    others = f"{ended} other session{'s' if ended != 1 else ''}"
    flash(f"Your password is changed; {others} signed out.", "ok")
    return redirect(url_for("account.index"))
