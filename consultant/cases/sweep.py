"""The periodic sweep: start again any committed work whose task never ran or never finished.

Run by Celery beat in production and by a thread of ``consultant run`` in the
embedded default. Dispatching twice is harmless (every job claims its row,
and a claim held by a live run is left alone), so the sweep only has to be
generous, never exact. A message it starts again is counted on its row, so
the case's timeline can say why it waited.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, or_, select, update

from consultant.models import InboundMessage, OutboundMessage, OutboundState, utcnow
from consultant.services import Services

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepReport:
    messages: int
    sends: int


def sweep(services: Services) -> SweepReport:
    """Re-dispatch stale unprocessed messages and due or abandoned outbox rows."""
    settings = services.settings
    now = utcnow()
    stale = now - timedelta(seconds=settings.stale_after_seconds)
    lease_ended = now - timedelta(seconds=settings.task_time_limit_seconds + 5)
    with services.db.session() as session:
        message_ids = list(
            session.scalars(
                select(InboundMessage.id).where(
                    InboundMessage.processed_at.is_(None),
                    InboundMessage.received_at < stale,
                    or_(
                        InboundMessage.claim_token.is_(None),
                        InboundMessage.claimed_at < lease_ended,
                    ),
                )
            )
        )
        if message_ids:
            session.execute(
                update(InboundMessage)
                .where(InboundMessage.id.in_(message_ids))
                .values(restarts=InboundMessage.restarts + 1)
                .execution_options(synchronize_session=False)
            )
        send_ids = list(
            session.scalars(
                select(OutboundMessage.id).where(
                    or_(
                        and_(
                            OutboundMessage.state == OutboundState.QUEUED,
                            or_(
                                OutboundMessage.next_attempt_at <= now,
                                and_(
                                    OutboundMessage.next_attempt_at.is_(None),
                                    OutboundMessage.created_at < stale,
                                ),
                            ),
                        ),
                        # Claimed by a run that cannot be alive any more; the send
                        # job records the unknown outcome when it takes the row over.
                        and_(
                            OutboundMessage.state == OutboundState.SENDING,
                            OutboundMessage.claimed_at < lease_ended,
                        ),
                    )
                )
            )
        )
    for message_id in message_ids:
        services.dispatch("process_message", message_id)
    for outbound_id in send_ids:
        services.dispatch("send_reply", outbound_id)
    report = SweepReport(len(message_ids), len(send_ids))
    if message_ids or send_ids:
        log.info("sweep restarted %s", report)
    return report
