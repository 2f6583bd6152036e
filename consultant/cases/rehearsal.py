"""Process one sample message at start and keep nothing: the first real message as fast as the rest.

A worker's first message paid for everything done the first time in a
process: SQL compiled, the database connection's catalog read, mappers and
loaders set up, templates compiled; about 140 ms more than the next one.
``rehearse`` takes a sample through the whole of processing (claim finished,
route, case, analysis, draft, acknowledgment composed) in one transaction
and rolls it back.

Rows of the rehearsal carry negative ids of this process, so the rehearsal
takes no number from the case sequence (case references stay without gaps)
and two processes warming up at once never wait for each other.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from consultant.cases.claims import Claim
from consultant.cases.processing import Outcome, rehearse_in
from consultant.logs import bound
from consultant.mail.parse import ParseLimits, parse_message
from consultant.models import Case, InboundMessage, utcnow
from consultant.services import Services

TOKEN = "rehearsal"


def rehearse(services: Services, raw: bytes) -> Outcome:
    """Process ``raw`` as a new message, roll everything back; how it would have ended."""
    parsed = parse_message(raw, ParseLimits.from_settings(services.settings))
    own_id = -os.getpid()
    with bound(inbound=own_id, case=None), services.db.sessions() as session:
        try:
            _no_sequence_for_cases(session, own_id)
            session.add(
                InboundMessage(
                    id=own_id,
                    mailbox=TOKEN,
                    dedup_key=f"{TOKEN}:{own_id}",
                    sha256=hashlib.sha256(raw).hexdigest(),
                    raw=raw,
                    size=len(raw),
                    message_id=parsed.message_id,
                    claim_token=TOKEN,
                    claimed_at=utcnow(),
                )
            )
            session.flush()
            held = Claim(own_id, TOKEN, raw, utcnow(), unfinished_runs=0, restarts=0)
            outcome = rehearse_in(services, session, held, parsed)
            session.flush()  # the statements the commit of a real message would run
            return outcome
        finally:
            session.rollback()


def _no_sequence_for_cases(session: Session, own_id: int) -> None:
    """Give a case the rehearsal opens this process's negative id, not the sequence's next."""

    def before_flush(session: Session, _context: Any, _instances: Any) -> None:
        for instance in session.new:
            if isinstance(instance, Case) and instance.id is None:
                instance.id = own_id

    event.listen(session, "before_flush", before_flush)
