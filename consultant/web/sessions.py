"""The web side of server-side sessions: the signed cookie carries only the session's
token, and flask-login's user loader looks it up on every request, so a session that
was signed out, revoked or timed out ends for every copy of the cookie at once."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, flash, g, redirect, request, session
from flask_login import LoginManager, login_url, login_user, logout_user
from werkzeug.wrappers import Response

from consultant.models import utcnow
from consultant.signin import SignedIn
from consultant.user_sessions import Active, Ending, Expired, SessionPolicy, resolve
from consultant.web.context import services

login_manager = LoginManager()
login_manager.login_view = "auth.login"
# A cookie used from another address or browser than the one it was issued to is
# dropped (flask-login's "strong" protection), on top of the server-side checks.
login_manager.session_protection = "strong"
TOKEN_KEY = "_user_id"  # where flask-login keeps what ``get_id`` returned: our token


@dataclass(frozen=True)
class CurrentUser:
    """The signed-in user as flask-login sees them. ``get_id`` gives the session token,
    not the user id: it is what the cookie carries and what the loader looks up."""

    id: int
    email: str
    role: str
    token: str
    is_active: bool = True
    is_authenticated: bool = True
    is_anonymous: bool = False

    def get_id(self) -> str:
        return self.token


def init_app(app: Flask) -> None:
    login_manager.init_app(app)


def policy() -> SessionPolicy:
    return SessionPolicy.from_settings(services().settings)


@login_manager.user_loader
def _load_user(token: str) -> CurrentUser | None:
    found = resolve(services().db, policy(), token, request.remote_addr, utcnow())
    if isinstance(found, Active):
        return CurrentUser(found.user_id, found.email, found.role, token)
    # A token that no longer opens anything leaves the cookie: later requests are plainly
    # signed out, without a lookup each time.
    session.pop(TOKEN_KEY, None)
    if isinstance(found, Expired):
        g.session_ending = found.ending
    return None


@login_manager.unauthorized_handler
def _unauthorized() -> Response:
    """To the login page, with where the visitor was going and, if their session has
    just timed out, why they must sign in again."""
    flash(_why_sign_in(g.get("session_ending")), "info")
    return redirect(login_url(login_manager.login_view, next_url=request.url))


def _why_sign_in(ending: Ending | None) -> str:
    settings = services().settings
    if ending is Ending.IDLE:
        minutes = settings.session_idle_minutes
        return f"You were signed out after {minutes} minutes without activity. Sign in again."
    if ending is Ending.LIFETIME:
        hours = f"{settings.session_max_hours:g}"
        return f"Sessions last at most {hours} hours and yours has ended. Sign in again."
    return "Please sign in to see this page."


def current_token() -> str | None:
    """The session token the browser sent, whether or not it still opens a session."""
    token = session.get(TOKEN_KEY)
    return token if isinstance(token, str) else None


def begin(signed_in: SignedIn) -> None:
    """Start the browser's new session: whatever the cookie held before (a planted
    session, another user's CSRF token) is dropped, and only the new token is kept."""
    session.clear()
    login_user(CurrentUser(signed_in.user_id, signed_in.email, signed_in.role, signed_in.token))


def end() -> None:
    """Forget the session in this browser (the server side is ended by ``sign_out``)."""
    logout_user()
    session.clear()
