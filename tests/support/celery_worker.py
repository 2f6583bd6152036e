"""A real Celery worker process (prefork) on a real Redis, with its own queue and settings."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

READY_MARK = "ready."


def worker_command(
    name: str,
    concurrency: int,
    queues: list[str] | None = None,
    app: str = "workers.celery_app",
    chatter: bool = False,
) -> list[str]:
    """The Procfile's worker (prefork), named ``name``, without the chatter tests do not need.

    ``queues`` (``-Q``) replaces the queue ``app`` consumes: a test's worker
    usually takes both processing and sending, as one small deployment would.
    ``chatter`` keeps gossip, mingle and heartbeats on, as the Procfile does:
    without all three a worker sends no events, and a monitor cannot see it.
    """
    quiet = [] if chatter else ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        app,
        "worker",
        *([f"--queues={','.join(queues)}"] if queues else []),
        "--pool=prefork",
        f"--concurrency={concurrency}",
        "--loglevel=INFO",
        *quiet,
        "-n",
        name,
    ]


@contextmanager
def celery_worker(
    env: dict[str, str], log_path: Path, concurrency: int = 2, chatter: bool = False
) -> Iterator[str]:
    """Start ``celery -A workers.celery_app worker`` with ``env``; yields its queue name.

    The worker gets queues of its own (CONSULTANT_TASK_QUEUE for processing and
    ``<that>.send`` for sending, both consumed), so tests never share tasks with
    anything else on the same Redis.
    """
    queue = f"cc-test-{uuid.uuid4().hex[:8]}"
    full_env = {
        **os.environ,
        **env,
        "CONSULTANT_TASK_QUEUE": queue,
        "CONSULTANT_SEND_QUEUE": f"{queue}.send",
    }
    with log_path.open("w") as log:
        process = subprocess.Popen(
            worker_command(f"{queue}@%h", concurrency, [queue, f"{queue}.send"], chatter=chatter),
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while READY_MARK not in log_path.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Celery worker did not start:\n{log_path.read_text()}")
            time.sleep(0.1)
        yield queue
    finally:
        _stop(process)
        redis.Redis.from_url(env["CONSULTANT_BROKER_URL"]).delete(queue, f"{queue}.send")


@contextmanager
def celery_beat(env: dict[str, str], workdir: Path) -> Iterator[None]:
    """Start ``celery -A workers.celery_app beat`` (the Procfile's beat) with ``env``."""
    log_path = workdir / "beat.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "workers.celery_app",
                "beat",
                "--loglevel=INFO",
                f"--schedule={workdir / 'celerybeat-schedule'}",
            ],
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Warm shutdown: TERM to the main process only, never to its process group."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
