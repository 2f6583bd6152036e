"""The ``celery`` dispatcher: queue the task for a committed row on the broker."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from config import Settings
from consultant.dispatch import Rows
from workers.factory import make_celery

if TYPE_CHECKING:
    from consultant.services import Services

log = logging.getLogger(__name__)
TASK_NAMES = {
    "process_message": "consultant.process_message",
    "process_messages": "consultant.process_messages",
    "send_reply": "consultant.send_reply",
    "send_replies": "consultant.send_replies",
}


class CeleryDispatcher:
    """Sends tasks by name, so the sender needs neither the task code nor a worker."""

    def __init__(self, settings: Settings) -> None:
        self.app = make_celery(settings)

    def bind(self, services: Services) -> None:
        """Nothing to bind: the worker builds its own services."""

    def warm(self) -> None:
        """Connect to the broker and declare the queues, in the background.

        The first task queued paid for connecting (27 ms against 0.5 ms for
        the next): the poller's first message waited for it.
        """
        threading.Thread(target=self._connect, name="broker-warm-up", daemon=True).start()

    def _connect(self) -> None:
        try:
            with self.app.producer_or_acquire() as producer:
                producer.connection.ensure_connection(max_retries=1)
                for queue in self.app.amqp.queues.values():
                    queue.bind(producer.channel).declare()
        except Exception as error:  # the first task connects instead, and says so if it fails
            log.info("broker not reached at start (%s); the first task connects", error)

    def __call__(self, task: str, row_id: Rows) -> None:
        try:
            self.app.send_task(TASK_NAMES[task], args=[row_id])
        except Exception as error:  # the row is committed; the sweep queues it later
            log.warning("could not queue %s(%s): %s; the sweep will", task, row_id, error)
