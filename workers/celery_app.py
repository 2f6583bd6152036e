"""The Celery app the Procfile's worker and beat load (``celery -A workers.celery_app``).

With no broker URL the app runs tasks eagerly, in-process.
"""

from __future__ import annotations

import sys

from config import ConfigError, Settings, load_settings
from workers.factory import make_celery


def _settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigError as error:
        print(error, file=sys.stderr)
        sys.exit(2)


app = make_celery(_settings_or_exit())
