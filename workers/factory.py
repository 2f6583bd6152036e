"""Building the Celery app from settings: broker, reliability settings, the sweep on beat."""

from __future__ import annotations

from celery import Celery
from kombu import Exchange, Queue

from config import Settings

TASK_MODULES = ["workers.tasks"]
SEND_TASK = "consultant.send_reply"
SEND_BATCH_TASK = "consultant.send_replies"
SEND_TASKS = (SEND_TASK, SEND_BATCH_TASK)


def make_celery(settings: Settings) -> Celery:
    """A Celery app configured for at-least-once delivery of idempotent tasks."""
    app = Celery("consultant", include=TASK_MODULES)
    app.conf.update(
        broker_url=settings.broker_url or "memory://",
        task_always_eager=not settings.broker_url,
        task_eager_propagates=True,
        task_default_queue=settings.task_queue,
        # Replies and account mail wait in a queue of their own: a slow SMTP server
        # holds up the sender, never the processing of new mail (and a backlog of
        # processing never holds up an acknowledgment).
        task_routes={task: {"queue": settings.send_queue} for task in SEND_TASKS},
        # A task is acknowledged when it finishes, and requeued if its worker dies.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # A task running when the broker goes away finishes (its rows record what it
        # did); its acknowledgment is lost, so the broker may deliver it again, even
        # while it still runs: the claims keep that copy waiting (consultant.cases.runs).
        worker_cancel_long_running_tasks_on_connection_loss=False,
        task_ignore_result=True,
        # Every task stops at the soft limit (the job records why) and its process is
        # replaced at the hard one; the claim leases are based on the hard limit.
        task_soft_time_limit=settings.task_soft_time_limit_seconds,
        task_time_limit=settings.task_time_limit_seconds,
        broker_connection_retry_on_startup=True,
        # Redis redelivers a task unacknowledged this long; retries stay far shorter.
        broker_transport_options={"visibility_timeout": 3600},
        timezone="UTC",
        beat_schedule={
            "sweep": {"task": "consultant.sweep", "schedule": settings.sweep_seconds},
        },
    )
    return app


def consume_only(app: Celery, queue: str) -> None:
    """Make a worker started on ``app`` without ``-Q`` consume ``queue`` and no other.

    The queue is declared as a sender that only routes to it declares it (its
    own direct exchange), so both agree on the binding; sending to the other
    queue still works, as routes name it.
    """
    app.conf.task_queues = [Queue(queue, Exchange(queue), routing_key=queue)]
