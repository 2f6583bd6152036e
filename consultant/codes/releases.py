"""Which release of a kind is in force on a date, and the list of what is loaded."""

from __future__ import annotations

from datetime import date
from typing import Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from consultant.codes.tables import CodeRelease


class _Dated(Protocol):
    effective_from: date


T = TypeVar("T", bound=_Dated)


def in_force(session: Session, kind: str, on: date, setting: str = "") -> CodeRelease | None:
    """The release of ``kind`` (and ``setting``) to answer for ``on``; None if none is loaded.

    That is the latest release started by then: a release stays in force until
    the next one starts, and several can be loaded side by side, so a question
    about last year's date of service is answered from last year's file. For a
    date before every loaded release, the earliest one answers (CMS files keep
    their history: an edit's own dates say whether it applied); the caller
    can tell by comparing ``effective_from`` with the date.
    """
    return choose(releases_of(session, kind, setting), on)


def choose(newest_first: list[T], on: date) -> T | None:
    """From releases ordered newest first, the one to answer for ``on``."""
    for release in newest_first:
        if release.effective_from <= on:
            return release
    return newest_first[-1] if newest_first else None


def releases_of(session: Session, kind: str, setting: str = "") -> list[CodeRelease]:
    """Every release of ``kind`` (and ``setting``), newest first.

    Of two releases starting the same day, one loaded from the ICD-10-CM
    tabular comes before one from the order file: both list the codes, only
    the tabular has the instructional notes.
    """
    found = session.scalars(
        select(CodeRelease).where(CodeRelease.kind == kind, CodeRelease.setting == setting)
    )
    return sorted(
        found,
        key=lambda r: (r.effective_from, (r.details or {}).get("format") != "order", r.id),
        reverse=True,
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
