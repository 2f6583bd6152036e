"""Which release of a kind is in force on a date, and the list of what is loaded."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from consultant.codes.choice import choose, newest_first
from consultant.codes.tables import CodeRelease


def in_force(session: Session, kind: str, on: date, setting: str = "") -> CodeRelease | None:
    """The release of ``kind`` (and ``setting``) to answer for ``on`` (see ``choice``)."""
    return choose(releases_of(session, kind, setting), on)


def releases_of(session: Session, kind: str, setting: str = "") -> list[CodeRelease]:
    """Every release of ``kind`` (and ``setting``), in the order ``choice.newest_first`` sets."""
    return newest_first(
        session.scalars(
            select(CodeRelease).where(CodeRelease.kind == kind, CodeRelease.setting == setting)
        )
    )


def all_releases(session: Session) -> list[CodeRelease]:
    """Everything loaded, by kind and then newest first."""
    return list(
        session.scalars(
            select(CodeRelease).order_by(
                CodeRelease.kind, CodeRelease.setting, CodeRelease.effective_from.desc()
            )
        )
    )
