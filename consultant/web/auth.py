"""Signing in and out, and the role check every review view goes through."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from consultant.models import Role, User
from consultant.users import authenticate
from consultant.web.context import services

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.session_protection = "strong"
REVIEWERS = (Role.REVIEWER, Role.ADMIN)


@dataclass(frozen=True)
class SignedIn:
    """The signed-in reviewer as flask-login sees them."""

    id: int
    email: str
    role: str
    is_active: bool = True
    is_authenticated: bool = True
    is_anonymous: bool = False

    def get_id(self) -> str:
        return str(self.id)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)


@login_manager.user_loader
def _load_user(user_id: str) -> SignedIn | None:
    with services().db.session() as session:
        user = session.get(User, int(user_id)) if user_id.isdigit() else None
        if user is None or not user.active:
            return None
        return SignedIn(user.id, user.email, user.role)


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
    return url_for("queue.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    if request.method == "POST":
        user = authenticate(
            services().db, request.form.get("email", ""), request.form.get("password", "")
        )
        if user is not None:
            login_user(SignedIn(user.id, user.email, user.role))
            return redirect(_safe_next(request.args.get("next")))
        flash("Wrong email or password.", "error")
    return render_template("login.html")


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    logout_user()
    return redirect(url_for("auth.login"))
