"""The worker's and the sender's own Prometheus endpoint: their task runs, plus the deployment's.

With ``CONSULTANT_WORKER_METRICS_PORT`` (the Procfile's worker) or
``CONSULTANT_SENDER_METRICS_PORT`` (its sender) set, the Celery main process
serves ``/metrics`` on that port at ``CONSULTANT_METRICS_BIND``:

- ``consultant_worker_tasks_total{task,outcome}`` runs finished, by what the
  job returned (``new_case``, ``follow_up``, ``sent``, ``deferred`` …) or
  ``retry`` / ``failure``; a batch (``consultant.process_messages``,
  ``consultant.send_replies``) counts each of its rows by its own outcome;
- ``consultant_worker_task_seconds{task}`` how long runs took (a histogram);
- ``consultant_worker_send_errors_total{outcome}`` sends that did not deliver
  this time (``deferred``, ``failed``, ``retry``, ``failure``);
- the deployment's families of ``consultant.metrics`` (received, processed,
  failed, backlog, queue depth, reply latency, send errors), read at the scrape.

The pool's processes count into files in a directory of this main process
(prometheus_client's multiprocess mode), so a child replaced after its time
limit or killed loses nothing it counted.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from celery.signals import task_postrun, task_prerun, worker_process_shutdown, worker_ready

from config import Settings
from workers.factory import SEND_TASKS

log = logging.getLogger(__name__)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
SEND_ERRORS = frozenset({"deferred", "failed", "retry", "failure"})


class _State:
    settings: Settings | None = None
    port: int | None = None
    directory: Path | None = None
    started: dict[str, float] = {}  # noqa: RUF012 (one per process)
    counters: Any = None


def serve_on(settings: Settings, port: int | None) -> None:
    """Serve this worker's metrics on ``port`` (None: off).

    Called where the app is loaded, before the pool forks: the children must
    find the multiprocess directory in their environment before they count.
    """
    _State.settings, _State.port = settings, port
    if port is None:
        if _State.directory is not None:  # the sender app, after the worker app's call
            os.environ.pop(MULTIPROC_ENV, None)
            _State.directory = None
        return
    directory = Path(settings.var_dir).resolve() / "metrics" / f"worker-{os.getpid()}"
    _remove_dead_siblings(directory.parent)
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(directory)
    _State.directory = directory
    values = sys.modules.get("prometheus_client.values")
    if values is not None:
        # Imported already (the ``celery`` command loads Flower's subcommand, which
        # imports it): metrics made from now on must still count into the files.
        values.ValueClass = values.get_value_class()  # type: ignore[attr-defined]


def _remove_dead_siblings(parent: Path) -> None:
    """Drop the directories of main processes that are gone (a restart's leftovers)."""
    for sibling in parent.glob("worker-*"):
        pid = sibling.name.removeprefix("worker-")
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(sibling, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: not ours to judge
        return True
    return True


def _counters() -> Any:
    """The metric objects, made on first use (after the multiprocess directory is set)."""
    if _State.counters is None:
        from prometheus_client import Counter, Histogram

        _State.counters = (
            Counter("consultant_worker_tasks", "Task runs finished.", ["task", "outcome"]),
            Histogram("consultant_worker_task_seconds", "Task run time.", ["task"]),
            Counter("consultant_worker_send_errors", "Sends that did not deliver.", ["outcome"]),
        )
    return _State.counters


@worker_ready.connect
def _start_server(**_: object) -> None:
    if _State.port is None or _State.settings is None:
        return
    from prometheus_client import CollectorRegistry, multiprocess, start_http_server

    from consultant.db import Database
    from consultant.metrics import DeploymentCollector

    settings = _State.settings
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(DeploymentCollector(Database(settings.database_url), settings))
    start_http_server(_State.port, addr=settings.metrics_bind, registry=registry)
    log.info("metrics on http://%s:%s/metrics", settings.metrics_bind, _State.port)


@task_prerun.connect
def _run_starts(task_id: str, **_: object) -> None:
    if _State.port is not None:
        _State.started[task_id] = time.monotonic()


@task_postrun.connect
def _run_ends(
    task_id: str, task: Any, retval: Any = None, state: str | None = None, **_: object
) -> None:
    started = _State.started.pop(task_id, None)
    if _State.port is None or started is None:
        return
    tasks, seconds, send_errors = _counters()
    seconds.labels(task.name).observe(time.monotonic() - started)
    if state == "SUCCESS" and isinstance(retval, dict):  # a batch: how many ended which way
        counted = {str(each): int(count) for each, count in retval.items()}
    else:
        counted = {str(retval) if state == "SUCCESS" else str(state or "unknown").lower(): 1}
    for outcome, count in counted.items():
        tasks.labels(task.name, outcome).inc(count)
        if task.name in SEND_TASKS and outcome in SEND_ERRORS:
            send_errors.labels(outcome).inc(count)


@worker_process_shutdown.connect
def _child_ends(pid: int | None = None, **_: object) -> None:
    if _State.port is not None and os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid or os.getpid())
