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

from consultant.cases.runs import lease_seconds
from consultant.models import InboundMessage, OutboundMessage, OutboundState, utcnow
from consultant.services import Services

log = logging.getLogger(__name__)
MAX_DOUBLINGS = 5  # at most 32 stale periods (about an hour by default) between restarts


@dataclass(frozen=True)
class SweepReport:
    messages: int
    sends: int


def _backed_off(stale_seconds: float, restarts: int) -> timedelta:
    """How long after its last restart a message waits for the next one: doubling each time.

    A message still unprocessed after a restart may simply be queued behind a
    backlog (a worker down for an hour); restarting it every minute would add
    a task per message per minute to that backlog.
    """
    return timedelta(seconds=stale_seconds * 2 ** min(restarts, MAX_DOUBLINGS))


def sweep(services: Services) -> SweepReport:
    """Re-dispatch stale unprocessed messages and due or abandoned outbox rows."""
    settings = services.settings
    now = utcnow()
    stale = now - timedelta(seconds=settings.stale_after_seconds)
    lease_ended = now - timedelta(seconds=lease_seconds(settings))
    with services.db.session() as session:
        waiting = session.execute(
            select(InboundMessage.id, InboundMessage.restarts, InboundMessage.restarted_at).where(
                InboundMessage.processed_at.is_(None),
                InboundMessage.received_at < stale,
                or_(
                    InboundMessage.claim_token.is_(None),
                    InboundMessage.claimed_at < lease_ended,
                ),
            )
        ).all()
        message_ids = [
            row.id
            for row in waiting
            if row.restarted_at is None
            or now - row.restarted_at > _backed_off(settings.stale_after_seconds, row.restarts)
        ]
        if message_ids:
            session.execute(
                update(InboundMessage)
                .where(InboundMessage.id.in_(message_ids))
                .values(restarts=InboundMessage.restarts + 1, restarted_at=now)
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
    # In batches, as the intake queues them: after an outage the backlog can be long.
    size = settings.imap_batch_size
    for start in range(0, len(message_ids), size):
        services.dispatch("process_messages", message_ids[start : start + size])
    for start in range(0, len(send_ids), size):
        services.dispatch("send_replies", send_ids[start : start + size])
    report = SweepReport(len(message_ids), len(send_ids))
    if message_ids or send_ids:
        log.info("sweep restarted %s", report)
    return report
