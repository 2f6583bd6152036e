"""Thin Celery tasks: take a row id, call the job in ``consultant``, decide about retrying.

Each task passes its task id as the run's token: when the broker delivers a
task again because its worker process died, the job recognises its own
claim, sees that process gone, and takes the row over at once. Transient
failures (``TransientError``: the database or a server unreachable) are
retried with backoff and jitter; a deferred send is retried after the delay
the outbox chose; a message the server accepted but the database did not
record is retried as a recording only; a permanent failure is recorded on
the row by the job and never retried here.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import Counter
from functools import cache

from celery import Task
from celery.signals import worker_process_init

from config import load_settings
from consultant.cases.outbox import AcceptedNotRecorded, SendOutcome, send_outbound
from consultant.cases.processing import Outcome, process_message, process_messages
from consultant.cases.send_batches import AcceptedNotRecordedMany, send_outbounds
from consultant.cases.sweep import sweep
from consultant.db_errors import TransientError
from consultant.services import Services, build_services
from consultant.warm_up import warm_up
from workers.celery_app import app

log = logging.getLogger(__name__)
PARENT_RETRY_SECONDS = 2
PARENT_RETRIES = 40
TRANSIENT_RETRIES = 100  # about 1.5 h at the ceiling; then the sweep takes over
BACKOFF_CEILING_SECONDS = 60.0


@cache
def services() -> Services:
    """This worker process's services, built on first use (after the fork)."""
    return build_services(load_settings())


@worker_process_init.connect
def _fresh_services_after_fork(**_: object) -> None:
    """Build this pool process's services at its start, warmed up, not on its first task.

    Connections must not be shared with the parent process, so they are made here.
    The warm-up runs beside the pool's start-up handshake, which Celery times
    out after a few seconds: a database slow to answer must not stop the child.
    """
    services.cache_clear()
    built = services()  # cheap: no connection is opened yet
    threading.Thread(target=warm_up, args=(built,), name="warm-up", daemon=True).start()


def backoff(retries: int) -> float:
    """1, 2, 4 ... 60 seconds, with jitter so that retries after an outage do not come at once."""
    return min(BACKOFF_CEILING_SECONDS, 2.0**retries) * random.uniform(0.5, 1.0)


def _after_outage(task: Task, call: str, error: TransientError) -> Exception:
    """The retry for a task a passing outage stopped: the same arguments, after a backoff."""
    log.warning("%s: %s; trying again", call, error)
    return task.retry(countdown=backoff(task.request.retries), max_retries=TRANSIENT_RETRIES)


@app.task(bind=True, name="consultant.process_message")
def process_message_task(self: Task, inbound_id: int) -> str:
    try:
        outcome = process_message(services(), inbound_id, token=self.request.id)
    except TransientError as error:
        raise _after_outage(self, f"process_message({inbound_id})", error) from error
    if outcome == Outcome.DEFERRED:
        # The message this one answers is still being processed; try again shortly.
        raise self.retry(countdown=PARENT_RETRY_SECONDS, max_retries=PARENT_RETRIES)
    return str(outcome)


@app.task(bind=True, name="consultant.process_messages")
def process_messages_task(self: Task, inbound_ids: list[int], waited: int = 0) -> dict[str, int]:
    """A batch the intake stored together; returns how many messages ended which way.

    Messages that wait for their parent go on in a task of their own, queued
    before this one is acknowledged, so the outcomes of the rest are final here.
    """
    try:
        outcomes = process_messages(services(), inbound_ids, token=self.request.id)
    except TransientError as error:
        raise _after_outage(self, f"process_messages({inbound_ids})", error) from error
    waiting = [row for row, outcome in outcomes.items() if outcome == Outcome.DEFERRED]
    if waiting and waited < PARENT_RETRIES:
        self.apply_async(
            args=[waiting], kwargs={"waited": waited + 1}, countdown=PARENT_RETRY_SECONDS
        )
    return dict(Counter(str(outcome) for outcome in outcomes.values()))


@app.task(bind=True, name="consultant.send_reply")
def send_reply_task(self: Task, outbound_id: int, accepted: str | None = None) -> str:
    try:
        result = send_outbound(services(), outbound_id, token=self.request.id, accepted=accepted)
    except AcceptedNotRecorded as error:
        # Only the recording is left to do: the retry carries the server's reply.
        raise self.retry(
            args=[outbound_id],
            kwargs={"accepted": error.reply},
            countdown=backoff(self.request.retries),
            max_retries=None,
        ) from error
    except TransientError as error:
        raise _after_outage(self, f"send_reply({outbound_id})", error) from error
    if result.outcome == SendOutcome.DEFERRED and result.retry_in is not None:
        # The outbox caps the delay at 10 minutes, well inside Redis's visibility timeout,
        # and gives up (FAILED) after CONSULTANT_SEND_MAX_ATTEMPTS.
        raise self.retry(countdown=result.retry_in + 0.5, max_retries=None)
    return str(result.outcome)


@app.task(bind=True, name="consultant.send_replies")
def send_replies_task(
    self: Task, outbound_ids: list[int], accepted: dict[str, str] | None = None
) -> dict[str, int]:
    """A batch of replies (the acknowledgments of one batch of mail); how many ended which way.

    Rows the server accepted and the database did not record are retried as a
    recording only; a row deferred goes on as a ``send_reply`` of its own, at
    the time the outbox chose.
    """
    replies = {int(row_id): reply for row_id, reply in (accepted or {}).items()}
    try:
        results = send_outbounds(services(), outbound_ids, token=self.request.id, accepted=replies)
    except AcceptedNotRecordedMany as error:
        raise self.retry(
            args=[list(error.replies)],
            kwargs={"accepted": {str(row_id): reply for row_id, reply in error.replies.items()}},
            countdown=backoff(self.request.retries),
            max_retries=None,
        ) from error
    except TransientError as error:
        raise _after_outage(self, f"send_replies({outbound_ids})", error) from error
    for row_id, result in results.items():
        if result.outcome == SendOutcome.DEFERRED and result.retry_in is not None:
            send_reply_task.apply_async(args=[row_id], countdown=result.retry_in + 0.5)
    return dict(Counter(str(result.outcome) for result in results.values()))


@app.task(name="consultant.sweep")
def sweep_task() -> str:
    return str(sweep(services()))
