"""A user's own codes: the ones they starred and their personal notes, private to them.

Every read and write names the user, and nothing here takes a row id from
outside: a code is found by (user, system, code), so no one can reach
another user's star or note by guessing a number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consultant.models import UserCode, utcnow

MAX_NOTE = 4_000


class NoteTooLong(ValueError):
    """A personal note longer than ``MAX_NOTE``."""


@dataclass(frozen=True)
class MyCode:
    system: str
    code: str
    favourite: bool
    note: str
    updated_at: datetime


def _mine(row: UserCode) -> MyCode:
    return MyCode(row.system, row.code, row.favourite, row.note, row.updated_at)


def _where(user_id: int, system: str, code: str) -> tuple[object, ...]:
    return (UserCode.user_id == user_id, UserCode.system == system, UserCode.code == code)


def get(session: Session, user_id: int, system: str, code: str) -> MyCode | None:
    row = session.scalars(select(UserCode).where(*_where(user_id, system, code))).first()
    return _mine(row) if row else None


def _row(session: Session, user_id: int, system: str, code: str) -> UserCode:
    """The user's row for the code, made on first use (another tab may make it first)."""
    query = select(UserCode).where(*_where(user_id, system, code))
    row = session.scalars(query).first()
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = UserCode(user_id=user_id, system=system, code=code, favourite=False, note="")
            session.add(row)
    except IntegrityError:
        row = session.scalars(query).one()
    return row


def _tidy(session: Session, row: UserCode) -> None:
    """A row with neither a star nor a note is no longer one of the user's codes."""
    row.updated_at = utcnow()
    if not row.favourite and not row.note:
        session.delete(row)


def set_favourite(session: Session, user_id: int, system: str, code: str, on: bool) -> None:
    row = _row(session, user_id, system, code)
    row.favourite = on
    _tidy(session, row)


def set_note(session: Session, user_id: int, system: str, code: str, text: str) -> None:
    """Save the user's note on the code; an empty one deletes it."""
    text = text.strip()
    if len(text) > MAX_NOTE:
        raise NoteTooLong(f"the note is {len(text):,} characters; at most {MAX_NOTE:,}")
    row = _row(session, user_id, system, code)
    row.note = text
    _tidy(session, row)


def delete_note(session: Session, user_id: int, system: str, code: str) -> None:
    set_note(session, user_id, system, code, "")


def listing(session: Session, user_id: int) -> list[MyCode]:
    """The user's starred and noted codes, by system and code."""
    rows = session.scalars(
        select(UserCode)
        .where(UserCode.user_id == user_id, or_(UserCode.favourite, UserCode.note != ""))
        .order_by(UserCode.system, UserCode.code)
    )
    return [_mine(row) for row in rows]
