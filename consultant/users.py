"""Accounts: creating them, checking and changing passwords (Argon2id), disabling them.

Setting a password or disabling an account ends the account's sessions in the
same transaction, and every change is written to the audit log with who made it.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consultant import signin_throttle, user_sessions
from consultant.auth_log import AuthEventKind, record
from consultant.db import Database
from consultant.models import Role, User, utcnow
from consultant.signin_throttle import ThrottlePolicy

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when the email is unknown, so both cases take the same time."""
    return _hasher.hash("not a real password")


MIN_PASSWORD_LENGTH = 12


class UserError(Exception):
    """Raised when an account cannot be created or changed; the message says why."""


class WrongPassword(UserError):
    """Raised when the current password given to change it is not the account's."""


@dataclass(frozen=True)
class PasswordCheck:
    """What checking a password found: the account the email names (if any), and whether
    the password opens it. ``reason`` is for the audit log, never for the person trying."""

    user: User | None
    reason: str

    @property
    def ok(self) -> bool:
        return self.reason == "ok"


def normalise_email(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    """The Argon2id hash stored for ``password``."""
    return _hasher.hash(password)


def check_new_password(password: str) -> None:
    """Refuse a password too short to resist guessing."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")


def create_user(db: Database, email: str, password: str, role: Role) -> User:
    """Add an account; refuses a short password or an email that is already taken."""
    email = normalise_email(email)
    if "@" not in email:
        raise UserError(f"{email!r} is not an email address")
    check_new_password(password)
    try:
        with db.session() as session:
            user = User(email=email, password_hash=_hasher.hash(password), role=role)
            session.add(user)
    except IntegrityError:
        raise UserError(f"a user {email} already exists") from None
    return user


def check_password(db: Database, email: str, password: str) -> PasswordCheck:
    """Whether ``password`` opens the active account of ``email``.

    The hash is checked outside any transaction (it takes tens of milliseconds, and on
    SQLite a write transaction would hold the database's lock that long). An unknown
    email is checked against a dummy hash and a disabled account's hash is checked too,
    so the time taken does not tell which emails have accounts.
    """
    with db.read_session() as session:
        user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_dummy_hash(), password)
        return PasswordCheck(None, "unknown_account")
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return PasswordCheck(user, "wrong_password")
    if not user.active:
        return PasswordCheck(user, "disabled")
    return PasswordCheck(user, "ok")


def note_sign_in(session: Session, user_id: int, password: str, now: datetime) -> None:
    """Record the sign-in time, and rehash with newer Argon2 parameters if they changed."""
    user = session.get(User, user_id)
    assert user is not None
    user.last_login_at = now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)


def change_password(
    db: Database,
    policy: ThrottlePolicy,
    user_id: int,
    current: str,
    new: str,
    *,
    address: str | None,
    keep_session: str | None,
    now: datetime | None = None,
) -> int:
    """A user sets a new password, giving the current one; their other sessions end.

    Checking the current password is throttled like signing in: a stolen session must
    not become a way to guess the password at full speed. Raises ``WrongPassword``,
    ``UserError`` or ``SignInRefused``; returns how many other sessions ended.
    """
    now = now or utcnow()
    check_new_password(new)
    if new == current:
        raise UserError("the new password is the same as the current one")
    with db.read_session() as session:
        user = session.get(User, user_id)
        email = user.email if user is not None else ""
    attempt = signin_throttle.begin(db, policy, email, address, now)
    check = check_password(db, email, current)
    with db.session() as session:
        if not check.ok:
            signin_throttle.failed(session, policy, attempt, now)
            record(
                session,
                AuthEventKind.PASSWORD_CHANGE_FAILED,
                email=email,
                user_id=user_id,
                address=address,
                reason=check.reason,
            )
    if not check.ok:
        raise WrongPassword("the current password is not right")
    new_hash = _hasher.hash(new)
    with db.session() as session:
        signin_throttle.succeeded(session, attempt)
        ended = _set_password(session, user_id, new_hash, now, keep_session)
        record(
            session,
            AuthEventKind.PASSWORD_CHANGED,
            email=email,
            user_id=user_id,
            address=address,
            other_sessions_ended=ended,
        )
    return ended


def reset_password(
    db: Database, email: str, new_password: str, actor: str, now: datetime | None = None
) -> int:
    """An administrator sets a user's password: every session of theirs ends and any
    sign-in wait on the account is lifted. Returns how many sessions ended."""
    now = now or utcnow()
    check_new_password(new_password)
    new_hash = _hasher.hash(new_password)
    with db.session() as session:
        user = _user(session, email)
        ended = _set_password(session, user.id, new_hash, now, keep=None)
        signin_throttle.forget_account(session, user.email)
        record(
            session,
            AuthEventKind.PASSWORD_RESET,
            email=user.email,
            user_id=user.id,
            by=actor,
            sessions_ended=ended,
        )
    return ended


def set_active(
    db: Database, email: str, active: bool, actor: str, now: datetime | None = None
) -> int:
    """Disable an account (its sessions end at once) or enable it again; recorded with
    ``actor``. Returns how many sessions ended; a change to the state it is in is a no-op."""
    now = now or utcnow()
    with db.session() as session:
        user = _user(session, email)
        if user.active == active:
            return 0
        user.active = active
        ended = 0 if active else user_sessions.revoke_all(session, user.id, now)
        kind = AuthEventKind.USER_ENABLED if active else AuthEventKind.USER_DISABLED
        record(session, kind, email=user.email, user_id=user.id, by=actor, sessions_ended=ended)
    return ended


def _user(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise UserError(f"there is no user {normalise_email(email)}")
    return user


def _set_password(
    session: Session, user_id: int, password_hash: str, now: datetime, keep: str | None
) -> int:
    """Store the new hash (made before the transaction: hashing is slow) and end the
    user's sessions but ``keep``."""
    user = session.get(User, user_id)
    assert user is not None
    user.password_hash = password_hash
    user.password_changed_at = now
    return user_sessions.revoke_all(session, user_id, now, keep=keep)
