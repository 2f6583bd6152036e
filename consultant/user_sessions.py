"""Server-side sign-in sessions: the browser holds a random token, the database its SHA-256.

Because every request looks the token up, ending the row ends every copy of the
cookie: signing out, an administrator disabling the user or setting a password,
and the idle and absolute time limits all take effect at once, wherever the
cookie was copied to. A leaked database gives no usable tokens (only hashes).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from config import Settings
from consultant.auth_log import AuthEventKind, record
from consultant.db import Database
from consultant.models import User, UserSession

# last_seen_at is written at most this often: one write a minute per reviewer, not one
# per request; the idle limit is therefore exact to within this much.
TOUCH_EVERY = timedelta(minutes=1)
AGENT_LENGTH = 255
ADDRESS_LENGTH = 64


@dataclass(frozen=True)
class SessionPolicy:
    """How long a session lasts without a request (idle), and at most (lifetime)."""

    idle: timedelta
    lifetime: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> SessionPolicy:
        return cls(
            idle=timedelta(minutes=settings.session_idle_minutes),
            lifetime=timedelta(hours=settings.session_max_hours),
        )


class Ending(StrEnum):
    """Why a session that was still open is over now."""

    IDLE = "idle"
    LIFETIME = "lifetime"


@dataclass(frozen=True)
class Active:
    """A session that is good for this request, and whose it is."""

    session_id: int
    user_id: int
    email: str
    role: str


@dataclass(frozen=True)
class Expired:
    """A session that was open until this request found it past a time limit."""

    ending: Ending


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(
    session: Session, user_id: int, address: str | None, user_agent: str | None, now: datetime
) -> str:
    """Open a session for ``user_id`` in the caller's transaction; returns its new token."""
    token = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            token_hash=token_hash(token),
            user_id=user_id,
            created_at=now,
            last_seen_at=now,
            address=address[:ADDRESS_LENGTH] if address else None,
            user_agent=user_agent[:AGENT_LENGTH] if user_agent else None,
        )
    )
    return token


def resolve(
    db: Database, policy: SessionPolicy, token: str, address: str | None, now: datetime
) -> Active | Expired | None:
    """The session behind ``token`` if it is good now; ``Expired`` the first time it is
    found past a limit (it is ended then, and the log says so); None for anything else:
    unknown, signed out, revoked, or the user disabled."""
    with db.read_session() as session:
        found = session.execute(
            select(UserSession, User)
            .join(User, User.id == UserSession.user_id)
            .where(UserSession.token_hash == token_hash(token))
        ).one_or_none()
    if found is None:
        return None
    row, user = found
    if row.revoked_at is not None or not user.active:
        return None
    ending = _ending(policy, row, now)
    if ending is not None:
        with db.session() as session:
            if _end(session, row.id, now):
                record(
                    session,
                    AuthEventKind.SESSION_EXPIRED,
                    email=user.email,
                    user_id=user.id,
                    address=address,
                    reason=ending.value,
                )
        return Expired(ending)
    if now - row.last_seen_at >= TOUCH_EVERY:
        with db.session() as session:
            session.execute(
                update(UserSession).where(UserSession.id == row.id).values(last_seen_at=now)
            )
    return Active(row.id, user.id, user.email, user.role)


def revoke(session: Session, token: str, now: datetime) -> UserSession | None:
    """End the session of ``token``; returns it if it was open."""
    row = session.scalar(select(UserSession).where(UserSession.token_hash == token_hash(token)))
    if row is None or not _end(session, row.id, now):
        return None
    return row


def revoke_all(session: Session, user_id: int, now: datetime, keep: str | None = None) -> int:
    """End every open session of ``user_id`` but the one of ``keep``; returns how many."""
    query = update(UserSession).where(
        UserSession.user_id == user_id, UserSession.revoked_at.is_(None)
    )
    if keep is not None:
        query = query.where(UserSession.token_hash != token_hash(keep))
    return session.execute(query.values(revoked_at=now)).rowcount  # type: ignore[attr-defined]


def open_sessions(
    db: Database, user_id: int, policy: SessionPolicy, now: datetime
) -> list[UserSession]:
    """The sessions of ``user_id`` still good now, the most recently used first."""
    with db.read_session() as session:
        rows = session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        )
        return [row for row in rows if _ending(policy, row, now) is None]


def _ending(policy: SessionPolicy, row: UserSession, now: datetime) -> Ending | None:
    if now - row.created_at >= policy.lifetime:
        return Ending.LIFETIME
    if now - row.last_seen_at >= policy.idle:
        return Ending.IDLE
    return None


def _end(session: Session, session_id: int, now: datetime) -> bool:
    """Mark the session ended unless it already was; True if this call ended it."""
    ended = session.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return bool(ended.rowcount)  # type: ignore[attr-defined]
