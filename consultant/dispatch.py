"""How a committed row's work gets started: a Celery task, or a direct call in-process.

Services commit their row first and then call ``dispatch(task, row_id)``, or
``dispatch(batch_task, [row ids])`` for a batch job (``consultant.jobs``).
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


Rows = int | list[int]  # a job's row id, or a batch job's list of them


class Dispatcher(Protocol):
    """Starts the work for one committed row, or a batch of them; never raises."""

    def __call__(self, task: str, row_id: Rows) -> None: ...

    def bind(self, services: Services) -> None:
        """Receive the services the work will run with (the inline dispatcher needs them)."""

    def warm(self) -> None:
        """Open now what the first job started would otherwise wait for; never raises.

        Called by the roles that start work as it comes (the poller, the
        worker), not by every process that builds services.
        """


class InlineDispatcher:
    """The embedded default: run the job in this process, right after the commit.

    A job that asks to wait (a reply whose parent is stored but not processed)
    is run again after the next job that gets something done, instead of
    waiting for the sweep; in a batch, the rows that wait are run again as a
    batch of their own.
    """

    def __init__(self, settings: Settings) -> None:
        self._services: Services | None = None
        self._waiting: list[tuple[str, Rows]] = []
        self._lock = threading.Lock()

    def bind(self, services: Services) -> None:
        self._services = services

    def warm(self) -> None:
        """Nothing to open: the job runs in this process (``warm_up`` warms that)."""

    def __call__(self, task: str, row_id: Rows) -> None:
        progressed = self._run(task, row_id)
        while progressed:
            with self._lock:
                waiting, self._waiting = self._waiting, []
            if not waiting:
                return
            progressed = any([self._run(*job) for job in waiting])

    def _run(self, task: str, rows: Rows) -> bool:
        """Run the job; whether it got anything done (a job that failed did: the sweep retries)."""
        from consultant.jobs import run_job

        assert self._services is not None, "InlineDispatcher used before bind()"
        try:
            outcome = run_job(self._services, task, rows)
        except Exception:
            log.exception("%s(%s) failed; the sweep will start it again", task, rows)
            return True
        if isinstance(outcome, dict):
            waiting = [row for row, done in outcome.items() if done == DEFERRED]
            if waiting:
                with self._lock:
                    self._waiting.append((task, waiting))
            return len(waiting) < len(outcome)
        if outcome == DEFERRED:
            with self._lock:
                self._waiting.append((task, rows))
            return False
        return True


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
