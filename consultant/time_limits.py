"""Recognising a task's soft time limit, which the worker raises inside the running job.

``consultant`` never imports Celery, so the exception is known by its name.
A job that meets it records what it knows (the message set aside with its
reason, a send whose outcome is now unknown) instead of leaving the row for
the sweep to find later.
"""

from __future__ import annotations

SOFT_TIME_LIMIT_ERRORS = frozenset({"SoftTimeLimitExceeded"})


def is_time_limit(error: BaseException) -> bool:
    """True when ``error`` is the worker stopping the job at its soft time limit."""
    return type(error).__name__ in SOFT_TIME_LIMIT_ERRORS
