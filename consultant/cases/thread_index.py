"""The thread index: which case a Message-ID belongs to, in whatever order mail is processed.

Each case lists its own messages' ids (the requester's and ours) and the ids
they cite (In-Reply-To, References). A reply finds its case by the ids it
cites among the cases' own; a message processed after a reply to it finds
the case by its own id among the cited. Either way the thread stays one
case.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from consultant.models import Case, CaseStatus, ThreadRef

MAX_ID_LENGTH = 998


def link(
    session: Session,
    case: Case,
    own: Iterable[str] = (),
    cited: Iterable[str] = (),
    fresh: bool = False,
) -> None:
    """Index ``own`` ids as messages of ``case`` and ``cited`` as ids its messages cite.

    ``fresh``: none of these ids is indexed on the case yet (a case just opened,
    a Message-ID just made), so there is nothing to look up first.
    """
    wanted: dict[str, bool] = {}
    for message_id in cited:
        wanted.setdefault(message_id, True)
    for message_id in own:
        wanted[message_id] = False
    wanted = {m: c for m, c in wanted.items() if m and len(m) <= MAX_ID_LENGTH}
    if not wanted:
        return
    existing = (
        {}
        if fresh
        else {
            ref.message_id: ref
            for ref in session.scalars(
                select(ThreadRef).where(
                    ThreadRef.case_id == case.id, ThreadRef.message_id.in_(list(wanted))
                )
            )
        }
    )
    for message_id, is_cited in wanted.items():
        ref = existing.get(message_id)
        if ref is None:
            session.add(ThreadRef(case_id=case.id, message_id=message_id, cited=is_cited))
        elif ref.cited and not is_cited:
            ref.cited = False  # cited first, then the message itself arrived


def case_of(session: Session, cited_ids: Iterable[str]) -> Case | None:
    """The case whose own messages include one of ``cited_ids`` (most recent first)."""
    ids = [m for m in cited_ids if m and len(m) <= MAX_ID_LENGTH]
    if not ids:
        return None
    rows = session.execute(
        select(ThreadRef.case_id, ThreadRef.message_id).where(
            ThreadRef.message_id.in_(ids), ThreadRef.cited.is_(False)
        )
    ).all()
    if not rows:
        return None
    order = {m: i for i, m in enumerate(ids)}
    case_id = min(rows, key=lambda row: (order[row.message_id], -row.case_id)).case_id
    return session.get(Case, case_id)


def cases_citing(session: Session, message_id: str | None) -> list[Case]:
    """Open or answered cases that cite ``message_id`` but do not hold it, oldest first."""
    if not message_id or len(message_id) > MAX_ID_LENGTH:
        return []
    holders = select(ThreadRef.case_id).where(
        ThreadRef.message_id == message_id, ThreadRef.cited.is_(False)
    )
    return list(
        session.scalars(
            select(Case)
            .join(ThreadRef, ThreadRef.case_id == Case.id)
            .where(
                ThreadRef.message_id == message_id,
                ThreadRef.cited.is_(True),
                Case.id.not_in(holders),
                Case.status != CaseStatus.IGNORED,
            )
            .order_by(Case.id)
        )
    )


def cases_citing_any(session: Session, message_ids: Iterable[str]) -> list[Case]:
    """Cases (not ignored) whose messages cite one of ``message_ids``, oldest first."""
    ids = [m for m in message_ids if m and len(m) <= MAX_ID_LENGTH]
    if not ids:
        return []
    citing = select(ThreadRef.case_id).where(
        ThreadRef.message_id.in_(ids), ThreadRef.cited.is_(True)
    )
    return list(
        session.scalars(
            select(Case)
            .where(Case.id.in_(citing), Case.status != CaseStatus.IGNORED)
            .order_by(Case.id)
        )
    )
