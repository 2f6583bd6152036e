"""Signing in and out, and the role check every review view goes through."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from consultant.models import Role, utcnow
from consultant.signin import WrongCredentials, sign_in, sign_out
from consultant.signin_throttle import SignInRefused, ThrottlePolicy
from consultant.web import sessions
from consultant.web.context import services

bp = Blueprint("auth", __name__)
REVIEWERS = (Role.REVIEWER, Role.ADMIN)
# Everyone signed in: code search and pages, favourites and personal notes.
EVERYONE = (Role.MEMBER, Role.REVIEWER, Role.ADMIN)
WRONG = "Wrong email or password."


def init_app(app: Flask) -> None:
    sessions.init_app(app)


def roles_required(*roles: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Allow the view to signed-in users with one of ``roles``; others get 403."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def _safe_next(target: str | None) -> str:
    """Only redirect to a path on this site after login, never to another host.

    Browsers read a backslash as a slash and drop tabs and newlines, so
    ``/\\evil.example`` or ``/<tab>/evil.example`` would lead off the site: any
    such character makes the target unsafe.
    """
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and target.isprintable()
    ):
        parts = urlsplit(target)
        if not parts.netloc and not parts.scheme:
            return target
    return url_for("queue.index")  # a member's home redirects on to the Ask page


def throttle_policy() -> ThrottlePolicy:
    return ThrottlePolicy.from_settings(services().settings)


def seconds_until(moment: datetime) -> int:
    """Whole seconds to wait (rounded up, at least one): what ``Retry-After`` carries."""
    return max(1, math.ceil((moment - utcnow()).total_seconds()))


def try_again_message(retry_at: datetime) -> str:
    """When the next try may come, as a clock time in the office's zone and a duration."""
    zone = ZoneInfo(services().settings.business_timezone)
    local = retry_at.astimezone(zone)
    same_day = local.date() == utcnow().astimezone(zone).date()
    when = local.strftime("%H:%M:%S %Z" if same_day else "%Y-%m-%d %H:%M:%S %Z")
    seconds = seconds_until(retry_at)
    if seconds < 120:
        wait = f"{seconds} second{'s' if seconds != 1 else ''}"
    else:
        wait = f"{math.ceil(seconds / 60)} minutes"
    return f"Too many failed sign-ins. Try again at {when} (in {wait})."


def refused_page(template: str, retry_at: datetime, **context: Any) -> Response:
    """The form again with status 429 and ``Retry-After``: the try was not checked."""
    flash(try_again_message(retry_at), "error")
    response = make_response(render_template(template, **context), 429)
    response.headers["Retry-After"] = str(seconds_until(retry_at))
    return response


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    if request.method == "GET":
        return render_template("login.html", email="")
    email = request.form.get("email", "")
    try:
        signed_in = sign_in(
            services().db,
            throttle_policy(),
            email,
            request.form.get("password", ""),
            address=request.remote_addr,
            user_agent=request.user_agent.string,
            replaces=sessions.current_token(),
        )
    except SignInRefused as refused:
        return refused_page("login.html", refused.retry_at, email=email)
    except WrongCredentials as wrong:
        flash(WRONG, "error")
        if wrong.retry_at is not None:
            flash(try_again_message(wrong.retry_at), "error")
        return render_template("login.html", email=email)
    sessions.begin(signed_in)
    return redirect(_safe_next(request.args.get("next")))


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    token = sessions.current_token()
    if token is not None:
        sign_out(services().db, token, address=request.remote_addr)
    sessions.end()
    flash("You are signed out.", "ok")
    return redirect(url_for("auth.login"))
