"""The audit log of accounts: who signed in, failed, was refused, signed out, changed a
password or a role, and which API tokens were made and revoked.

Each entry names the email as typed (normalised), the account when there is one, and the
client address; never a password, whether right or wrong.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from consultant.db import Database
from consultant.models import AuthEvent

EMAIL_LENGTH = 320  # the longest address RFC 5321 allows, and the column's width


class AuthEventKind(StrEnum):
    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    SIGN_IN_REFUSED = "sign_in_refused"
    SIGN_OUT = "sign_out"
    SESSION_EXPIRED = "session_expired"
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_CHANGE_FAILED = "password_change_failed"
    PASSWORD_RESET = "password_reset"
    USER_DISABLED = "user_disabled"
    USER_ENABLED = "user_enabled"
    SESSIONS_REVOKED = "sessions_revoked"
    ROLE_CHANGED = "role_changed"
    TOKEN_CREATED = "token_created"
    TOKEN_REVOKED = "token_revoked"
    REGISTERED = "registered"
    CONFIRMED = "confirmed"
    INVITED = "invited"
    INVITATION_ACCEPTED = "invitation_accepted"
    ACCOUNT_MAIL = "account_mail"  # a registration or invitation mail: queued, sent, failed


def record(
    session: Session,
    kind: AuthEventKind,
    *,
    email: str | None = None,
    user_id: int | None = None,
    address: str | None = None,
    **details: Any,
) -> None:
    """Add one entry in the caller's transaction, so it exists exactly when the action does."""
    session.add(
        AuthEvent(
            kind=kind,
            email=email[:EMAIL_LENGTH] if email is not None else None,
            user_id=user_id,
            address=address,
            details=details,
        )
    )


def recent(db: Database, limit: int = 50, email: str | None = None) -> list[AuthEvent]:
    """The newest ``limit`` entries, newest first; only those of ``email`` when given."""
    query = select(AuthEvent).order_by(AuthEvent.at.desc(), AuthEvent.id.desc()).limit(limit)
    if email is not None:
        query = query.where(AuthEvent.email == email)
    with db.read_session() as session:
        return list(session.scalars(query))


def describe(event: AuthEvent) -> str:
    """One line for a person: when, what, who, from where, and the details as key=value."""
    details = " ".join(f"{key}={value}" for key, value in sorted(event.details.items()))
    parts = [
        event.at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        event.kind,
        event.email or "-",
        event.address or "-",
    ]
    return "  ".join(parts + ([details] if details else []))
