"""Claims on cases under review: one expert works a case at a time.

A claim is three columns on the case (who, since, until). It lasts
``CONSULTANT_CLAIM_MINUTES`` and is renewed while its holder edits (or has the
case page open with unsaved edits). While it
is in force, another reviewer's save, approval or rejection is refused until
they take the case over, which the timeline records. Approving or rejecting
ends the claim (the case leaves the queue).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from consultant.cases.events import record
from consultant.cases.review_errors import ClaimedByOther
from consultant.models import Case, utcnow


def holder(case: Case, now: datetime | None = None) -> str | None:
    """Who holds the case now, or None when nobody does or the claim ran out."""
    if case.claimed_by is None or case.claim_expires_at is None:
        return None
    return case.claimed_by if case.claim_expires_at > (now or utcnow()) else None


def require_free_or_mine(case: Case, actor: str, now: datetime | None = None) -> None:
    """Refuse ``actor`` when someone else holds the case."""
    held_by = holder(case, now)
    if held_by is not None and held_by != actor:
        assert case.claimed_at is not None
        raise ClaimedByOther(str(case.reference), held_by, case.claimed_at)


def take(
    session: Session, case: Case, actor: str, minutes: int, *, take_over: bool = False
) -> bool:
    """Make the case ``actor``'s for ``minutes``; True when the claim is new (not a renewal).

    Someone else's claim in force is refused unless ``take_over``; taking over
    records whose claim it was.
    """
    now = utcnow()
    held_by = holder(case, now)
    if held_by is not None and held_by != actor and not take_over:
        require_free_or_mine(case, actor, now)
    case.claim_expires_at = now + timedelta(minutes=minutes)
    if held_by == actor:
        return False
    case.claimed_by, case.claimed_at = actor, now
    if held_by is not None:
        record(session, case, "claim_taken_over", actor, previous=held_by)
    else:
        record(session, case, "claimed", actor, minutes=minutes)
    return True


def renew_for_edit(case: Case, actor: str, minutes: int) -> None:
    """Editing renews the editor's own claim; someone else's claim in force refuses the edit.

    An edit does not claim a free case: two experts may work on one unclaimed
    case, and the version check keeps either from overwriting the other.
    """
    require_free_or_mine(case, actor)
    if holder(case) == actor:
        case.claim_expires_at = utcnow() + timedelta(minutes=minutes)


def release(session: Session, case: Case, actor: str) -> bool:
    """Give up ``actor``'s claim; False when they did not hold it."""
    if holder(case) != actor:
        return False
    clear(case)
    record(session, case, "claim_released", actor)
    return True


def clear(case: Case) -> None:
    """End any claim: the case left the queue."""
    case.claimed_by = case.claimed_at = case.claim_expires_at = None
