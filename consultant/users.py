"""Reviewer accounts: creating them and checking a password (Argon2id)."""

from __future__ import annotations

import contextlib
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from consultant.db import Database
from consultant.models import Role, User, utcnow

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when the email is unknown, so both cases take the same time."""
    return _hasher.hash("not a real password")


MIN_PASSWORD_LENGTH = 12


class UserError(Exception):
    """Raised when an account cannot be created; the message says why."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(db: Database, email: str, password: str, role: Role) -> User:
    """Add an account; refuses a short password or an email that is already taken."""
    email = normalise_email(email)
    if "@" not in email:
        raise UserError(f"{email!r} is not an email address")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    try:
        with db.session() as session:
            user = User(email=email, password_hash=_hasher.hash(password), role=role)
            session.add(user)
    except IntegrityError:
        raise UserError(f"a user {email} already exists") from None
    return user


def authenticate(db: Database, email: str, password: str) -> User | None:
    """The active user with these credentials, or None; rehashes with newer parameters."""
    with db.session() as session:
        user = session.scalar(select(User).where(User.email == normalise_email(email)))
        if user is None or not user.active:
            with contextlib.suppress(VerificationError):
                _hasher.verify(_dummy_hash(), password)
            return None
        try:
            _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        user.last_login_at = utcnow()
        return user
