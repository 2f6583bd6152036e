"""Claims on stored messages: one run processes a message at a time, and a dead run is noticed.

A claim is a committed row update (which run, in which process, since
when), not a lock held for the length of the work: a second delivery of the
task sees the claim and leaves the message alone instead of waiting on a row
lock, and a run that died (``kill -9``, the hard time limit) leaves a claim
that a later run takes over at once when its process is provably gone, or
once its lease has passed. Every run that ends releases its claim; taking
over a claim nobody released counts as an unfinished run, and a message with
too many of those is set aside instead of taking the worker down again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from consultant.cases import runs
from consultant.db import Database
from consultant.models import InboundMessage, utcnow


class ClaimRefused(StrEnum):
    DONE = "already_done"  # processed already (or no such message)
    BUSY = "busy"  # another live run holds it


@dataclass(frozen=True)
class Claim:
    """A message this run now holds, and its history so far."""

    inbound_id: int
    token: str
    raw: bytes
    received_at: datetime
    unfinished_runs: int  # runs before this one that took it and never finished
    restarts: int  # times the sweep started it again


@dataclass
class Claims:
    """What ``claim_free`` did with a batch: held, refused, or left to be claimed one by one."""

    held: list[Claim] = field(default_factory=list)
    refused: dict[int, ClaimRefused] = field(default_factory=dict)
    held_before: list[int] = field(default_factory=list)


def claim(db: Database, inbound_id: int, token: str, lease_seconds: float) -> Claim | ClaimRefused:
    """Hold message ``inbound_id`` for the run ``token``, or say why not.

    A claim nobody released is taken over when its run is provably gone or its
    lease has passed (``runs.takeover``); that counts as an unfinished run.
    """
    with db.session() as session:
        return _claim_in(session, inbound_id, token, lease_seconds)


def claim_free(db: Database, inbound_ids: Sequence[int], token: str) -> Claims:
    """Hold, in one transaction, those of ``inbound_ids`` that nobody has claimed yet.

    A batch claims its messages at once, which is one commit instead of one a
    message. A message that some run claimed before (and did not release) is
    left to ``claim`` one at a time: that run may have died on it, and a batch
    must not carry a message that kills its process (``Claims.held_before``).
    """
    found = Claims()
    with db.session() as session:
        rows = session.execute(
            select(
                InboundMessage.id, InboundMessage.processed_at, InboundMessage.claim_token
            ).where(InboundMessage.id.in_(inbound_ids))
        ).all()
        state = {row.id: row for row in rows}
        free = []
        for inbound_id in inbound_ids:
            row = state.get(inbound_id)
            if row is None or row.processed_at is not None:
                found.refused[inbound_id] = ClaimRefused.DONE
            elif row.claim_token is not None:
                found.held_before.append(inbound_id)
            else:
                free.append(inbound_id)
        if not free:
            return found
        taken = session.execute(
            update(InboundMessage)
            .where(
                InboundMessage.id.in_(free),
                InboundMessage.processed_at.is_(None),
                InboundMessage.claim_token.is_(None),
            )
            .values(claim_token=token, claimed_by=runs.this_process(), claimed_at=utcnow())
            .returning(
                InboundMessage.id,
                InboundMessage.raw,
                InboundMessage.received_at,
                InboundMessage.unfinished_runs,
                InboundMessage.restarts,
            )
            .execution_options(synchronize_session=False)
        ).all()
        held = {
            row.id: Claim(
                row.id, token, row.raw, row.received_at, row.unfinished_runs, row.restarts
            )
            for row in taken
        }
        for inbound_id in free:
            if inbound_id in held:
                found.held.append(held[inbound_id])
            else:  # another run claimed it between the two statements
                found.refused[inbound_id] = ClaimRefused.BUSY
    return found


def _claim_in(
    session: Session, inbound_id: int, token: str, lease_seconds: float
) -> Claim | ClaimRefused:
    row = session.execute(
        select(
            InboundMessage.processed_at,
            InboundMessage.claim_token,
            InboundMessage.claimed_by,
            InboundMessage.claimed_at,
        ).where(InboundMessage.id == inbound_id)
    ).one_or_none()
    if row is None or row.processed_at is not None:
        return ClaimRefused.DONE
    unfinished = 0
    if row.claim_token is not None:
        verdict = runs.takeover(
            row.claim_token, row.claimed_by, row.claimed_at, token, lease_seconds
        )
        if verdict is runs.Takeover.NO:
            return ClaimRefused.BUSY
        # An earlier run of this task in this process ended (a retry): not a lost run.
        unfinished = 0 if verdict is runs.Takeover.RETRY else 1
    same_claim = (
        InboundMessage.claim_token.is_(None)
        if row.claim_token is None
        else InboundMessage.claim_token == row.claim_token
    )
    taken = session.execute(
        update(InboundMessage)
        .where(InboundMessage.id == inbound_id, InboundMessage.processed_at.is_(None), same_claim)
        .values(
            claim_token=token,
            claimed_by=runs.this_process(),
            claimed_at=utcnow(),
            unfinished_runs=InboundMessage.unfinished_runs + unfinished,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not taken:
        return ClaimRefused.BUSY
    held = session.execute(
        select(
            InboundMessage.raw,
            InboundMessage.received_at,
            InboundMessage.unfinished_runs,
            InboundMessage.restarts,
        ).where(InboundMessage.id == inbound_id)
    ).one()
    return Claim(inbound_id, token, held.raw, held.received_at, held.unfinished_runs, held.restarts)


def release(db: Database, inbound_id: int, token: str) -> None:
    """Give the message back unprocessed (it waits for another message, or the database erred)."""
    with db.session() as session:
        release_in(session, [inbound_id], token)


def release_in(session: Session, inbound_ids: Sequence[int], token: str) -> None:
    """Give messages back unprocessed, in the caller's transaction."""
    session.execute(
        update(InboundMessage)
        .where(InboundMessage.id.in_(inbound_ids), InboundMessage.claim_token == token)
        .values(claim_token=None, claimed_by=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    )


def finish(session: Session, inbound_id: int, token: str) -> InboundMessage | None:
    """Mark the message processed in the caller's transaction, if this run still holds it.

    Returns the message, loaded by the same statement (its bytes are deferred:
    the claim read them already); None when another run took the claim over
    meanwhile (this run outlived its lease): the caller must roll back and
    leave the message to that run.
    """
    return session.scalar(
        update(InboundMessage)
        .where(
            InboundMessage.id == inbound_id,
            InboundMessage.processed_at.is_(None),
            InboundMessage.claim_token == token,
        )
        .values(processed_at=utcnow(), claim_token=None, claimed_by=None)
        .returning(InboundMessage)
        .execution_options(synchronize_session=False)
    )
