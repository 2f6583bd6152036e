"""Plain-language descriptions: the practice's own words for a code, beside the official one.

Experts write them on the code page; each save is a new version with its
author and time, made on the version the expert saw, so of two experts
saving at once the second is refused and told who saved first. Members read
the current one; drafts state it with the code's fact (``current_for``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consultant.batch_memo import memo, remembering
from consultant.models import PlainDescription

MAX_TEXT = 2_000


class PlainError(ValueError):
    """A description that cannot be saved; the message says why."""


class StalePlain(PlainError):
    """The description changed since the version the edit was made on."""


@dataclass(frozen=True)
class PlainText:
    """One version of a code's plain-language description (empty text: withdrawn)."""

    system: str
    code: str
    version: int
    text: str
    author: str
    at: datetime

    def as_fact(self) -> dict[str, object]:
        """What a draft keeps with the code's fact: the words and whose version they are."""
        return {"text": self.text, "version": self.version, "author": self.author}


def _plain(row: PlainDescription) -> PlainText:
    return PlainText(row.system, row.code, row.version, row.text, row.author, row.created_at)


def _checked(text: str) -> str:
    text = " ".join(text.split())  # one paragraph: it is read inline, on pages and in drafts
    if len(text) > MAX_TEXT:
        raise PlainError(f"the description is {len(text):,} characters; at most {MAX_TEXT:,}")
    if "[expert:" in text.lower():
        raise PlainError("drafts state it as written: it cannot hold an [expert: ...] marker")
    return text


def latest(session: Session, system: str, code: str) -> PlainText | None:
    """The newest version of the code's description (withdrawn or not); None if never written."""
    row = session.scalars(
        select(PlainDescription)
        .where(PlainDescription.system == system, PlainDescription.code == code)
        .order_by(PlainDescription.version.desc())
        .limit(1)
    ).first()
    return _plain(row) if row else None


def current(session: Session, system: str, code: str) -> PlainText | None:
    """The description to show for the code; None when none was written or it was withdrawn."""
    found = latest(session, system, code)
    return found if found and found.text else None


def history(session: Session, system: str, code: str) -> list[PlainText]:
    """Every version of the code's description, newest first."""
    rows = session.scalars(
        select(PlainDescription)
        .where(PlainDescription.system == system, PlainDescription.code == code)
        .order_by(PlainDescription.version.desc())
    )
    return [_plain(row) for row in rows]


def save(
    session: Session, system: str, code: str, text: str, base_version: int, actor: str
) -> PlainText | None:
    """Save ``text`` as the next version, made on ``base_version`` (0: none existed yet).

    The same text as the current version saves nothing (None); an empty text
    withdraws the description. StalePlain when another version came first.
    """
    text = _checked(text)
    now = latest(session, system, code)
    version = now.version if now else 0
    if base_version != version:
        raise _stale(system, code, base_version, now)
    if (now.text if now else "") == text:
        return None
    row = PlainDescription(system=system, code=code, version=version + 1, text=text, author=actor)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # another expert saved the same next version a moment ago
        raise _stale(system, code, base_version, latest(session, system, code)) from None
    return _plain(row)


def _stale(system: str, code: str, base: int, now: PlainText | None) -> StalePlain:
    if now is None:
        return StalePlain(f"the description of {code} you edited (version {base}) does not exist")
    since = f"changed since version {base}" if base else "was written since the page was shown"
    return StalePlain(
        f"the plain-language description of {code} {since}: it is now version {now.version}, "
        f"saved by {now.author}; reload the page and make the change again"
    )


def current_for(
    session: Session, codes: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], PlainText]:
    """The current descriptions of ``codes`` ((system, code) pairs), for drafts: one query.

    In a batch, each code is asked about once (a code without one is remembered too).
    """
    wanted = set(codes)
    if not remembering():
        return _current(session, wanted)
    known: dict[tuple[str, str], PlainText | None] = memo("plain descriptions", dict)
    missing = wanted - known.keys()
    if missing:
        found = _current(session, missing)
        known |= {key: found.get(key) for key in missing}
    return {key: text for key in wanted if (text := known[key]) is not None}


def _current(session: Session, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], PlainText]:
    if not wanted:
        return {}
    newest = (
        select(
            PlainDescription.system,
            PlainDescription.code,
            func.max(PlainDescription.version).label("version"),
        )
        .where(tuple_(PlainDescription.system, PlainDescription.code).in_(wanted))
        .group_by(PlainDescription.system, PlainDescription.code)
        .subquery()
    )
    rows = session.scalars(
        select(PlainDescription).join(
            newest,
            (PlainDescription.system == newest.c.system)
            & (PlainDescription.code == newest.c.code)
            & (PlainDescription.version == newest.c.version),
        )
    )
    return {(r.system, r.code): _plain(r) for r in rows if r.text}
