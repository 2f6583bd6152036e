"""Personal API tokens: made for one user, shown once, kept only as their SHA-256, revocable.

A token is ``cc_`` and 43 random URL-safe characters (256 bits). The database
keeps its SHA-256 (a stolen backup opens nothing) and its first characters
(the ``prefix``), so that lists can tell tokens apart without showing them.
A token opens the API only while it is not revoked and its user is active:
disabling a user shuts their scripts out at once, as it ends their sessions.
The CLI and the API both go through this module.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from consultant import auth_log
from consultant.auth_log import AuthEventKind
from consultant.db import Database
from consultant.models import ApiToken, User, utcnow
from consultant.users import normalise_email

TOKEN_PREFIX = "cc_"
TOKEN_BYTES = 32
SHOWN_CHARS = 10  # "cc_" and 7 characters: enough to tell tokens apart, useless to guess from
MAX_TOKEN_CHARS = 200  # anything longer is not ours; refused before it is hashed
MAX_NAME_CHARS = 100  # the column's width
# Each use is not worth a write: "last used" is kept to the minute.
TOUCH_EVERY = timedelta(minutes=1)


class TokenError(Exception):
    """Raised when a token cannot be made or revoked; the message says why."""


@dataclass(frozen=True)
class NewToken:
    """A token just made: ``secret`` is the only time it is ever seen."""

    id: int
    email: str
    name: str
    prefix: str
    secret: str


@dataclass(frozen=True)
class TokenOwner:
    """Who a presented token speaks for."""

    token_id: int
    user_id: int
    email: str
    role: str

    @property
    def id(self) -> int:
        """The user's id: the token speaks for its user (as ``asking.Asker`` expects)."""
        return self.user_id


@dataclass(frozen=True)
class TokenInfo:
    """A token as lists show it: never the token itself."""

    id: int
    email: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


def hash_token(secret: str) -> str:
    """What the database keeps of a token: its SHA-256, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _info(token: ApiToken, email: str) -> TokenInfo:
    return TokenInfo(
        id=token.id,
        email=email,
        name=token.name,
        prefix=token.prefix,
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
    )


def create(db: Database, email: str, name: str = "", actor: str | None = None) -> NewToken:
    """Make a token for the active user ``email``; the secret is returned once, never stored.
    The audit log names ``actor`` (who made it) when given."""
    name = " ".join(name.split())
    if len(name) > MAX_NAME_CHARS:
        raise TokenError(f"the name may have at most {MAX_NAME_CHARS} characters")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    with db.session() as session:
        user = session.scalar(select(User).where(User.email == normalise_email(email)))
        if user is None:
            raise TokenError(f"there is no user {normalise_email(email)}")
        if not user.active:
            raise TokenError(f"{user.email} is disabled; enable the account first")
        token = ApiToken(
            user_id=user.id,
            name=name,
            token_hash=hash_token(secret),
            prefix=secret[:SHOWN_CHARS],
        )
        session.add(token)
        session.flush()
        auth_log.record(
            session,
            AuthEventKind.TOKEN_CREATED,
            email=user.email,
            user_id=user.id,
            token=token.id,
            prefix=token.prefix,
            **({"by": actor} if actor else {}),
        )
        return NewToken(token.id, user.email, name, token.prefix, secret)


def verify(db: Database, presented: str, now: datetime | None = None) -> TokenOwner | None:
    """The owner of ``presented`` if it opens the API (known, not revoked, user active).

    Looked up by hash in a read-only transaction; "last used" is written only
    when it is a minute old or more, with a conditional update, so a busy
    script costs a write a minute rather than one per call.
    """
    if not presented.startswith(TOKEN_PREFIX) or len(presented) > MAX_TOKEN_CHARS:
        return None
    now = now or utcnow()
    with db.read_session() as session:
        row = session.execute(
            select(ApiToken.id, ApiToken.last_used_at, User.id, User.email, User.role)
            .join(User, User.id == ApiToken.user_id)
            .where(
                ApiToken.token_hash == hash_token(presented),
                ApiToken.revoked_at.is_(None),
                User.active,
            )
        ).one_or_none()
    if row is None:
        return None
    token_id, last_used_at, user_id, email, role = row
    if last_used_at is None or now - last_used_at >= TOUCH_EVERY:
        with db.session() as session:
            session.execute(
                update(ApiToken)
                .where(
                    ApiToken.id == token_id,
                    or_(
                        ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - TOUCH_EVERY
                    ),
                )
                .values(last_used_at=now)
            )
    return TokenOwner(token_id, user_id, email, role)


def list_tokens(db: Database, email: str | None = None) -> list[TokenInfo]:
    """Every token (only ``email``'s when given), oldest first."""
    query = (
        select(ApiToken, User.email).join(User, User.id == ApiToken.user_id).order_by(ApiToken.id)
    )
    if email is not None:
        query = query.where(User.email == normalise_email(email))
    with db.read_session() as session:
        return [_info(token, owner) for token, owner in session.execute(query)]


def revoke(
    db: Database, token_id: int, now: datetime | None = None, actor: str | None = None
) -> TokenInfo:
    """Revoke token ``token_id`` for good; revoking it again changes nothing.

    The revocation is a conditional update, so of two at once only one sets the time and
    writes the audit entry (naming ``actor`` when given).
    """
    with db.session() as session:
        row = session.execute(
            select(ApiToken, User.email)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.id == token_id)
        ).one_or_none()
        if row is None:
            raise TokenError(f"there is no token {token_id}")
        token, email = row
        revoked = session.execute(
            update(ApiToken)
            .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now or utcnow())
            .execution_options(synchronize_session=False)
        )
        if revoked.rowcount:
            auth_log.record(
                session,
                AuthEventKind.TOKEN_REVOKED,
                email=email,
                user_id=token.user_id,
                token=token.id,
                prefix=token.prefix,
                **({"by": actor} if actor else {}),
            )
        session.refresh(token)
        return _info(token, email)
