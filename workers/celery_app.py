"""The Celery app the Procfile's worker and beat load (``celery -A workers.celery_app``).

A worker started on this app consumes the processing queue only; the
Procfile's ``sender`` loads ``workers.sender_app``, the same app consuming the
send queue. With no broker URL the app runs tasks eagerly, in-process.
"""

from __future__ import annotations

import sys

from config import ConfigError, Settings, load_settings
from workers.factory import consume_only, make_celery


def _settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigError as error:
        print(error, file=sys.stderr)
        sys.exit(2)


settings = _settings_or_exit()
app = make_celery(settings)
consume_only(app, settings.task_queue)
