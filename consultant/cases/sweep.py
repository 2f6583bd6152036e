"""The periodic sweep: start again any committed work whose task never ran or never finished.

Run by Celery beat in production and by a thread of ``consultant run`` in the
embedded default. Dispatching twice is harmless (every job claims its row),
so the sweep only has to be generous, never exact.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, or_, select

from consultant.cases.events import record
from consultant.models import InboundMessage, OutboundMessage, OutboundState, utcnow
from consultant.services import Services

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepReport:
    messages: int
    sends: int
    unstuck: int


def sweep(services: Services) -> SweepReport:
    """Re-dispatch stale unprocessed messages and due or stuck outbox rows."""
    settings = services.settings
    now = utcnow()
    stale = now - timedelta(seconds=settings.stale_after_seconds)
    stuck = now - timedelta(seconds=settings.sending_stuck_seconds)
    with services.db.session() as session:
        message_ids = list(
            session.scalars(
                select(InboundMessage.id).where(
                    InboundMessage.processed_at.is_(None), InboundMessage.received_at < stale
                )
            )
        )
        stuck_rows = list(
            session.scalars(
                select(OutboundMessage).where(
                    OutboundMessage.state == OutboundState.SENDING,
                    OutboundMessage.claimed_at < stuck,
                )
            )
        )
        for row in stuck_rows:
            # The outcome is unknown: the server may have accepted it. Sending again
            # keeps the same Message-ID, so the recipient's client shows it once.
            row.state, row.next_attempt_at = OutboundState.QUEUED, None
            record(
                session,
                row.case,
                "send_outcome_unknown",
                outbound_id=row.id,
                claimed_at=row.claimed_at.isoformat(),
            )
        send_ids = list(
            session.scalars(
                select(OutboundMessage.id).where(
                    OutboundMessage.state == OutboundState.QUEUED,
                    or_(
                        OutboundMessage.next_attempt_at <= now,
                        and_(
                            OutboundMessage.next_attempt_at.is_(None),
                            OutboundMessage.created_at < stale,
                        ),
                        OutboundMessage.id.in_([row.id for row in stuck_rows]),
                    ),
                )
            )
        )
    for message_id in message_ids:
        services.dispatch("process_message", message_id)
    for outbound_id in send_ids:
        services.dispatch("send_reply", outbound_id)
    report = SweepReport(len(message_ids), len(send_ids), len(stuck_rows))
    if message_ids or send_ids:
        log.info("sweep restarted %s", report)
    return report
