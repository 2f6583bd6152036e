"""Signing in and out: the throttle, the password check, the session and the audit log,
in the order that keeps each honest.

A try the throttle refuses never reaches the password check; a try it lets through
is charged before the check and settled after it. A successful sign-in opens a new
session (a new token: nothing a visitor held before signing in is carried over),
ending the one it replaces.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from consultant import signin_throttle, user_sessions
from consultant.auth_log import AuthEventKind, record
from consultant.db import Database
from consultant.models import utcnow
from consultant.signin_throttle import SignInRefused, ThrottlePolicy
from consultant.users import check_password, normalise_email, note_sign_in


class WrongCredentials(Exception):
    """Raised when the email and password do not open an active account. ``retry_at`` is
    when the next try may come, if this failure started a wait."""

    def __init__(self, retry_at: datetime | None) -> None:
        super().__init__("wrong email or password")
        self.retry_at = retry_at


@dataclass(frozen=True)
class SignedIn:
    """A new session: whose it is, and the token the browser keeps (shown only here)."""

    user_id: int
    email: str
    role: str
    token: str


def sign_in(
    db: Database,
    policy: ThrottlePolicy,
    email: str,
    password: str,
    *,
    address: str | None,
    user_agent: str | None = None,
    replaces: str | None = None,
    now: datetime | None = None,
) -> SignedIn:
    """Open a session for the account, or raise ``SignInRefused`` or ``WrongCredentials``.

    ``replaces`` is the token of a session the browser already had: it ends here.
    """
    now = now or utcnow()
    email = normalise_email(email)
    try:
        attempt = signin_throttle.begin(db, policy, email, address, now)
    except SignInRefused as refused:
        with db.session() as session:
            record(
                session,
                AuthEventKind.SIGN_IN_REFUSED,
                email=email,
                address=address,
                retry_at=refused.retry_at.isoformat(timespec="seconds"),
            )
        raise
    check = check_password(db, email, password)
    user = check.user
    with db.session() as session:
        if not check.ok or user is None:
            retry_at = signin_throttle.failed(session, policy, attempt, now)
            record(
                session,
                AuthEventKind.SIGN_IN_FAILED,
                email=email,
                user_id=user.id if user is not None else None,
                address=address,
                reason=check.reason,
            )
        else:
            signin_throttle.succeeded(session, attempt)
            note_sign_in(session, user.id, password, now)
            if replaces is not None:
                user_sessions.revoke(session, replaces, now)
            token = user_sessions.start(session, user.id, address, user_agent, now)
            record(session, AuthEventKind.SIGN_IN, email=email, user_id=user.id, address=address)
    if not check.ok or user is None:
        raise WrongCredentials(retry_at)
    return SignedIn(user.id, user.email, user.role, token)


def sign_out(db: Database, token: str, *, address: str | None, now: datetime | None = None) -> None:
    """End the session of ``token``: every copy of the cookie stops working."""
    now = now or utcnow()
    with db.session() as session:
        ended = user_sessions.revoke(session, token, now)
        if ended is not None:
            record(
                session,
                AuthEventKind.SIGN_OUT,
                email=ended.user.email,
                user_id=ended.user_id,
                address=address,
            )


def sign_out_others(
    db: Database, user_id: int, email: str, keep: str, *, address: str | None
) -> int:
    """End every session of the user but this one (a lost laptop, a shared computer)."""
    now = utcnow()
    with db.session() as session:
        ended = user_sessions.revoke_all(session, user_id, now, keep=keep)
        record(
            session,
            AuthEventKind.SESSIONS_REVOKED,
            email=email,
            user_id=user_id,
            address=address,
            sessions_ended=ended,
        )
    return ended
