"""How a committed row's work gets started: a Celery task, or a direct call in-process.

Services commit their row first and then call ``dispatch(task, row_id)``.
Which dispatcher is used is chosen by settings and found by entry point
(group ``consultant.dispatchers``), so that ``consultant`` never imports
``workers`` or Celery: with a broker URL the ``celery`` dispatcher queues
the task, without one the ``inline`` dispatcher runs it right here.
A dispatcher never raises: the row is committed, and if starting its work
fails the periodic sweep starts it again.
"""

from __future__ import annotations

import logging
import threading
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Protocol

from config import Settings

if TYPE_CHECKING:
    from consultant.services import Services

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "consultant.dispatchers"
DEFERRED = "deferred"  # the outcome a job returns when it must run again later


class Dispatcher(Protocol):
    """Starts the work for one committed row; never raises."""

    def __call__(self, task: str, row_id: int) -> None: ...

    def bind(self, services: Services) -> None:
        """Receive the services the work will run with (the inline dispatcher needs them)."""


class InlineDispatcher:
    """The embedded default: run the job in this process, right after the commit.

    A job that asks to wait (a reply stored in the same batch before the message
    it answers) is run again after the next job finishes, instead of waiting for
    the sweep.
    """

    def __init__(self, settings: Settings) -> None:
        self._services: Services | None = None
        self._waiting: list[tuple[str, int]] = []
        self._lock = threading.Lock()

    def bind(self, services: Services) -> None:
        self._services = services

    def __call__(self, task: str, row_id: int) -> None:
        if self._run(task, row_id) != DEFERRED:
            with self._lock:
                waiting, self._waiting = self._waiting, []
            for job in waiting:
                self._run(*job)

    def _run(self, task: str, row_id: int) -> object:
        from consultant.jobs import run_job

        assert self._services is not None, "InlineDispatcher used before bind()"
        try:
            outcome = run_job(self._services, task, row_id)
        except Exception:
            log.exception("%s(%s) failed; the sweep will start it again", task, row_id)
            return None
        if outcome == DEFERRED:
            with self._lock:
                self._waiting.append((task, row_id))
        return outcome


def make_dispatcher(settings: Settings) -> Dispatcher:
    """The ``celery`` dispatcher when a broker URL is set, else ``inline``."""
    name = "celery" if settings.broker_url else "inline"
    found = entry_points(group=ENTRY_POINT_GROUP, name=name)
    if not found:
        raise RuntimeError(
            f"no '{name}' dispatcher installed (entry point group {ENTRY_POINT_GROUP}); "
            "reinstall the package with `pip install -e .`"
        )
    factory = next(iter(found)).load()
    return factory(settings)
