"""The background jobs by name: plain functions of (services, row id or batch of row ids).

Celery tasks in ``workers/`` and the in-process dispatcher both run these,
so a job behaves the same under a real worker and in the embedded default.
A batch job takes a list of row ids and answers with each row's outcome.
"""

from __future__ import annotations

from collections.abc import Callable

from consultant.cases.outbox import send_outbound
from consultant.cases.processing import process_message, process_messages
from consultant.cases.send_batches import send_outbounds
from consultant.services import Services

JOBS: dict[str, Callable[[Services, int], object]] = {
    "process_message": process_message,
    "send_reply": send_outbound,
}
BATCH_JOBS: dict[str, Callable[[Services, list[int]], dict[int, object]]] = {
    "process_messages": process_messages,
    "send_replies": send_outbounds,
}


def run_job(services: Services, task: str, rows: int | list[int]) -> object:
    """Run job ``task`` for row ``rows`` (a batch job: for the list of rows); its outcome."""
    if isinstance(rows, list):
        return BATCH_JOBS[task](services, rows)
    return JOBS[task](services, rows)
