"""Thin Celery tasks: take a row id, call the job in ``consultant``, decide about retrying.

Transient failures (the database or the broker unwell) are retried with
backoff and jitter; a deferred send is retried after the delay the outbox
chose; a permanent failure is recorded on the row and never retried here.
"""

from __future__ import annotations

import logging
from functools import cache

from celery import Task
from celery.signals import worker_process_init
from sqlalchemy.exc import OperationalError

from config import load_settings
from consultant.cases.outbox import SendOutcome, send_outbound
from consultant.cases.processing import Outcome, process_message
from consultant.cases.sweep import sweep
from consultant.services import Services, build_services
from workers.celery_app import app

log = logging.getLogger(__name__)
PARENT_RETRY_SECONDS = 2
PARENT_RETRIES = 40


@cache
def services() -> Services:
    """This worker process's services, built on first use (after the fork)."""
    return build_services(load_settings())


@worker_process_init.connect
def _fresh_services_after_fork(**_: object) -> None:
    # Connections must not be shared with the parent process.
    services.cache_clear()


@app.task(
    bind=True,
    name="consultant.process_message",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=10,
)
def process_message_task(self: Task, inbound_id: int) -> str:
    outcome = process_message(services(), inbound_id)
    if outcome == Outcome.DEFERRED:
        # The message this one answers is still being processed; try again shortly.
        raise self.retry(countdown=PARENT_RETRY_SECONDS, max_retries=PARENT_RETRIES)
    return str(outcome)


@app.task(
    bind=True,
    name="consultant.send_reply",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=10,
)
def send_reply_task(self: Task, outbound_id: int) -> str:
    result = send_outbound(services(), outbound_id)
    if result.outcome == SendOutcome.DEFERRED and result.retry_in is not None:
        # The outbox caps the delay at 10 minutes, well inside Redis's visibility timeout,
        # and gives up (FAILED) after CONSULTANT_SEND_MAX_ATTEMPTS.
        raise self.retry(countdown=result.retry_in + 0.5, max_retries=None)
    return str(result.outcome)


@app.task(name="consultant.sweep")
def sweep_task() -> str:
    return str(sweep(services()))
