"""The Celery app the Procfile's worker and beat load (``celery -A workers.celery_app``).

A worker started on this app consumes the processing queue only; the
Procfile's ``sender`` loads ``workers.sender_app``, the same app consuming the
send queue. With no broker URL the app runs tasks eagerly, in-process.
"""

from __future__ import annotations

import sys
from contextlib import ExitStack

from celery.signals import setup_logging, task_postrun, task_prerun

from config import ConfigError, Settings, load_settings
from consultant.logs import bound, configure_logging
from workers.factory import consume_only, make_celery
from workers.metrics import serve_on


def _settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigError as error:
        print(error, file=sys.stderr)
        sys.exit(2)


settings = _settings_or_exit()
app = make_celery(settings)
consume_only(app, settings.task_queue)
serve_on(settings, settings.worker_metrics_port)


@setup_logging.connect
def _configure_logging(**_: object) -> None:
    """Celery's own lines and ours, one format, each naming its case and task."""
    configure_logging(settings.log_level, settings.log_format, settings.log_debug)


_task_scopes: dict[str, ExitStack] = {}


@task_prerun.connect
def _log_scope_opens(task_id: str, **_: object) -> None:
    """Every line of a task's run, Celery's closing one included, names the task and its case."""
    scope = _task_scopes[task_id] = ExitStack()
    scope.enter_context(bound(task=task_id))


@task_postrun.connect
def _log_scope_closes(task_id: str, **_: object) -> None:
    scope = _task_scopes.pop(task_id, None)
    if scope is not None:
        scope.close()
