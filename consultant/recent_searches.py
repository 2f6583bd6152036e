"""Each user's recent code searches: the last few they submitted, theirs alone, never PHI.

A search is kept when submitted (not as it is typed), once however often it
is repeated (the latest time and filters win), and only the newest
``MAX_KEPT`` are kept. A query in which patient details are found (a name
with a date of birth, an MRN, an SSN, a member id) is never written down:
the page says so instead. Every read and write names the user, so no one can
reach another user's searches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from consultant.analysis.phi import find_phi
from consultant.db import Database
from consultant.models import RecentSearch, utcnow

MAX_KEPT = 20
MAX_QUERY = 200


@dataclass(frozen=True)
class Recent:
    query: str
    sets: tuple[str, ...]
    billable: bool
    searched_at: datetime


def tidy(query: str) -> str:
    """``query`` as kept: one space between words, no longer than a search reads."""
    return " ".join(query.split())[:MAX_QUERY]


def record(db: Database, user_id: int, query: str, sets: list[str], billable: bool) -> bool:
    """Keep ``query`` as ``user_id``'s latest search; False (nothing kept) when it looks
    like patient details."""
    text = tidy(query)
    if not text:
        return True
    if find_phi(text).found:
        return False
    key = text.casefold()
    try:
        with db.session() as session:
            row = session.scalar(
                select(RecentSearch).where(RecentSearch.user_id == user_id, RecentSearch.key == key)
            )
            if row is None:
                row = RecentSearch(user_id=user_id, key=key)
                session.add(row)
            row.query, row.sets, row.billable = text, ",".join(sets), billable
            row.searched_at = utcnow()
            session.flush()
            older = (
                select(RecentSearch.id)
                .where(RecentSearch.user_id == user_id)
                .order_by(RecentSearch.searched_at.desc(), RecentSearch.id.desc())
                .offset(MAX_KEPT)
            )
            stale = list(session.scalars(older))
            if stale:
                session.execute(delete(RecentSearch).where(RecentSearch.id.in_(stale)))
    except IntegrityError:
        pass  # the same search from another tab at the same moment: that one is kept
    return True


def recent(db: Database, user_id: int) -> list[Recent]:
    """``user_id``'s kept searches, newest first."""
    with db.read_session() as session:
        rows = session.scalars(
            select(RecentSearch)
            .where(RecentSearch.user_id == user_id)
            .order_by(RecentSearch.searched_at.desc(), RecentSearch.id.desc())
            .limit(MAX_KEPT)
        )
        return [
            Recent(r.query, tuple(s for s in r.sets.split(",") if s), r.billable, r.searched_at)
            for r in rows
        ]


def clear(db: Database, user_id: int) -> int:
    """Forget every search ``user_id`` made; how many were kept."""
    with db.session() as session:
        return session.execute(delete(RecentSearch).where(RecentSearch.user_id == user_id)).rowcount
