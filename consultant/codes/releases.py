"""Which release of a kind is in force on a date, and the list of what is loaded."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from consultant.codes.tables import CodeRelease


def in_force(session: Session, kind: str, on: date, setting: str = "") -> CodeRelease | None:
    """The release of ``kind`` (and ``setting``) in force on ``on``: the latest started by then.

    A release stays in force until the next one starts; several can be loaded
    side by side, so a question about last year's date of service is answered
    from last year's file.
    """
    return session.scalar(
        select(CodeRelease)
        .where(
            CodeRelease.kind == kind,
            CodeRelease.setting == setting,
            CodeRelease.effective_from <= on,
        )
        .order_by(CodeRelease.effective_from.desc(), CodeRelease.id.desc())
        .limit(1)
    )


def releases_of(session: Session, kind: str, setting: str = "") -> list[CodeRelease]:
    """Every release of ``kind`` (and ``setting``), newest first."""
    return list(
        session.scalars(
            select(CodeRelease)
            .where(CodeRelease.kind == kind, CodeRelease.setting == setting)
            .order_by(CodeRelease.effective_from.desc(), CodeRelease.id.desc())
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
