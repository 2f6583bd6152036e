"""The case state machine: which status may follow which, enforced in the database.

A move is a conditional UPDATE (``... WHERE status = <expected>``), so two
reviewers approving the same case at once cannot both succeed, and a worker
never overwrites a status another process changed a moment earlier.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from consultant.cases.events import SYSTEM, record
from consultant.models import Case, CaseStatus, utcnow

S = CaseStatus
ALLOWED: dict[CaseStatus, frozenset[CaseStatus]] = {
    S.RECEIVED: frozenset({S.ANALYZING, S.FAILED, S.IGNORED}),
    S.ANALYZING: frozenset({S.AWAITING_REVIEW, S.FAILED}),
    S.AWAITING_REVIEW: frozenset({S.APPROVED, S.REJECTED, S.FAILED}),
    # Straight to sent when the approved draft is the automatic answer already sent.
    S.APPROVED: frozenset({S.SENDING, S.SENT, S.FAILED}),
    # Back to review when a follow-up arrived while the previous answer was going out.
    S.SENDING: frozenset({S.SENT, S.FAILED, S.AWAITING_REVIEW}),
    S.SENT: frozenset({S.AWAITING_REVIEW}),
    S.REJECTED: frozenset({S.AWAITING_REVIEW}),
    # Retry: processing again (received) or sending again (approved); or a follow-up.
    S.FAILED: frozenset({S.RECEIVED, S.APPROVED, S.AWAITING_REVIEW}),
    # Retry: an expert reads a held or ignored message as a question after all.
    S.IGNORED: frozenset({S.RECEIVED}),
}


FRESH = "case opened by this message"  # session.info: the id of the case the work created


def opened(session: Session, case: Case | None) -> None:
    """Note that the work at hand (one message) created ``case`` (flushed), or none yet.

    Such a case is invisible outside this transaction and has nothing stored
    about it but what this work adds: its moves and lookups can skip the
    checks made for a case others may be changing.
    """
    session.info[FRESH] = case.id if case is not None else None


def is_fresh(session: Session, case: Case) -> bool:
    """Whether the work at hand created ``case`` (see ``opened``)."""
    return case.id is not None and session.info.get(FRESH) == case.id


LOCKED = "cases locked and read afresh"  # session.info: ids of cases this transaction locked


def locked(session: Session, cases: Iterable[Case]) -> None:
    """Note that this transaction locked ``cases`` (``FOR UPDATE``) and read them afresh.

    No one else can move them before it ends, so their moves need no
    conditional UPDATE each: they are flushed together with the rest (a batch
    of replies moves every case twice).
    """
    session.info.setdefault(LOCKED, set()).update(case.id for case in cases)


def _held(session: Session, case: Case) -> bool:
    """Whether no one else can move ``case`` before this transaction ends."""
    return is_fresh(session, case) or case.id in session.info.get(LOCKED, ())


class InvalidTransition(Exception):
    """Raised when a case is not in a status from which the requested move is allowed."""


def can_move(current: str, to: CaseStatus) -> bool:
    return to in ALLOWED.get(CaseStatus(current), frozenset())


def move(
    session: Session, case: Case, to: CaseStatus, actor: str = SYSTEM, **details: object
) -> None:
    """Move ``case`` to ``to`` and record the event, or raise InvalidTransition."""
    current = case.status
    if not can_move(current, to):
        raise InvalidTransition(f"{case.reference} is {current}; it cannot become {to}")
    now = utcnow()
    values: dict[str, object] = {"status": to, "updated_at": now}
    if to == S.AWAITING_REVIEW:
        values["waiting_since"] = now  # the queue's age and the SLA count from here
    elif current == S.AWAITING_REVIEW:
        # Approved, rejected or failed: the case left the queue, and its claim with it.
        values |= {"claimed_by": None, "claimed_at": None, "claim_expires_at": None}
    if _held(session, case):  # new, or locked by us: no one can have moved it
        for name, value in values.items():
            setattr(case, name, str(to) if name == "status" else value)
        record(session, case, "status", actor, **{"from": current, "to": str(to), **details})
        return
    result = session.execute(
        update(Case)
        .where(Case.id == case.id, Case.status == current)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.refresh(case, ["status"])
        raise InvalidTransition(
            f"{case.reference} changed to {case.status} meanwhile; it cannot become {to}"
        )
    for name, value in values.items():
        set_committed_value(case, name, str(to) if name == "status" else value)
    record(session, case, "status", actor, **{"from": current, "to": str(to), **details})
