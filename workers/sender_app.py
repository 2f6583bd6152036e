"""The Celery app the Procfile's sender loads (``celery -A workers.sender_app worker``).

The same app and tasks as ``workers.celery_app``, consuming only the send
queue: replies and account mail go out however long processing's queue is,
and a slow SMTP server keeps only this process waiting.
"""

from __future__ import annotations

from workers.celery_app import app, settings
from workers.factory import consume_only
from workers.metrics import serve_on

consume_only(app, settings.send_queue)
serve_on(settings, settings.sender_metrics_port)

__all__ = ["app"]
