"""The background jobs by name: plain functions of (services, row id).

Celery tasks in ``workers/`` and the in-process dispatcher both run these,
so a job behaves the same under a real worker and in the embedded default.
"""

from __future__ import annotations

from collections.abc import Callable

from consultant.cases.outbox import send_outbound
from consultant.cases.processing import process_message
from consultant.services import Services

JOBS: dict[str, Callable[[Services, int], object]] = {
    "process_message": process_message,
    "send_reply": send_outbound,
}


def run_job(services: Services, task: str, row_id: int) -> object:
    """Run job ``task`` for row ``row_id`` and return its outcome."""
    return JOBS[task](services, row_id)
