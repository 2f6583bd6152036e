"""Choosing the release that answers for a date (pure functions: no database here).

A release stays in force until the next one starts, and several can be
loaded side by side, so a question about last year's date of service is
answered from last year's file. For a date before every loaded release, the
earliest one answers: CMS files keep their history, and an edit's own dates
say whether it applied; the caller can tell by comparing ``effective_from``
with the date.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, Protocol, TypeVar


class Release(Protocol):
    id: int
    effective_from: date
    details: dict[str, Any]


T = TypeVar("T", bound=Release)


def newest_first(releases: Iterable[T]) -> list[T]:
    """Latest start first; of two starting the same day, the later import first, except
    that an ICD-10-CM tabular comes before an order file (only the tabular has notes)."""
    return sorted(
        releases,
        key=lambda r: (r.effective_from, (r.details or {}).get("format") != "order", r.id),
        reverse=True,
    )


def choose(ordered: list[T], on: date) -> T | None:
    """From releases ordered by ``newest_first``, the one to answer for ``on``."""
    for release in ordered:
        if release.effective_from <= on:
            return release
    return ordered[-1] if ordered else None


def months_later(day: date, months: int) -> date:
    """The first day of the month ``months`` after ``day``'s month: when a release of that
    cadence is replaced."""
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


# How often each kind of release is replaced, in months: a release is the one for a date
# from its first day until that many months later.
CADENCE_MONTHS = {
    "hcpcs": 3,
    "ncci-ptp": 3,
    "mue": 3,
    "aoc": 3,
    "pfs": 3,
    "icd10cm": 6,
    "icd10pcs": 12,
    "cpt": 12,
    # The coverage exports change weekly; a snapshot a quarter old no longer says what is
    # not listed. The fee schedule's GPCIs and localities are set for a calendar year.
    "mcd-article": 3,
    "mcd-lcd": 3,
    "ncd": 3,
    "gpci": 12,
    "locality": 12,
    "clfs": 3,
}


def is_current(kind: str, effective_from: date, on: date) -> bool:
    """Whether a release of ``kind`` starting ``effective_from`` is the one for ``on``:
    started by then, and not yet due to be replaced."""
    return effective_from <= on < months_later(effective_from, CADENCE_MONTHS[kind])
