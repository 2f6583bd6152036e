"""Flower, Celery's monitor, on the Procfile's worker: it sees the worker and each task run.

The worker needs no ``-E``: Flower turns task events on by remote control
every few seconds, so the runs it shows start from then. A task's arguments
are row ids only, so Flower never shows a subject, an address or a patient's
details.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from config import Settings
from consultant.services import build_services
from tests.support.cases import file_messages
from tests.support.celery_worker import celery_worker
from tests.support.corpus import QUESTIONS
from tests.support.required import free_port
from tests.support.stack import stack_env
from tests.support.waiting import wait_until


@contextmanager
def _flower(env: dict[str, str], log_path: Path) -> Iterator[str]:
    """``celery -A workers.celery_app flower`` on a free local port; yields its address."""
    port = free_port()
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "workers.celery_app", "flower"),
                *(f"--port={port}", "--address=127.0.0.1"),
            ],
            env={**os.environ, **env, "FLOWER_UNAUTHENTICATED_API": "true"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def _get(url: str) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.loads(response.read())
    except OSError:
        return None  # not listening yet


def test_flower_sees_the_worker_and_its_tasks(
    make_settings: Callable[..., Settings], sqlite_url: str, redis_url: str, tmp_path: Path
) -> None:
    env = stack_env(make_settings(database_url=sqlite_url, broker_url=redis_url))
    with celery_worker(env, tmp_path / "worker.log", concurrency=1, chatter=True) as queue:
        env |= {"CONSULTANT_TASK_QUEUE": queue, "CONSULTANT_SEND_QUEUE": f"{queue}.send"}
        with _flower(env, tmp_path / "flower.log") as flower:
            workers: dict[str, Any] = {}

            def worker_listed() -> bool:
                workers.update(_get(f"{flower}/api/workers?refresh=1") or {})
                return any(name.startswith(f"{queue}@") for name in workers)

            wait_until(worker_listed, "Flower to list the worker", timeout=60)
            name = next(n for n in workers if n.startswith(f"{queue}@"))
            worker_log = tmp_path / "worker.log"
            wait_until(
                lambda: "enabled by remote" in worker_log.read_text(),
                "Flower to turn the worker's task events on",
                timeout=60,
            )
            assert "consultant.process_messages" in workers[name]["registered"]

            services = build_services(
                make_settings(
                    database_url=sqlite_url,
                    broker_url=redis_url,
                    task_queue=queue,
                    send_queue=f"{queue}.send",
                )
            )
            try:
                [inbound] = file_messages(services, (QUESTIONS / "01.eml").read_bytes())
            finally:
                services.db.dispose()
            tasks: dict[str, Any] = {}

            def both_ran() -> bool:
                tasks.update(_get(f"{flower}/api/tasks") or {})
                done = {(t["name"], t["state"]) for t in tasks.values()}
                return {
                    ("consultant.process_messages", "SUCCESS"),
                    ("consultant.send_replies", "SUCCESS"),
                } <= done

            wait_until(both_ran, "Flower to show the processing and the acknowledgment", 60)
    runs = {t["name"]: t for t in tasks.values()}
    processing = runs["consultant.process_messages"]  # the intake's batch, of one here
    assert processing["worker"] == name and processing["args"] == f"[[{inbound}]]"
    assert processing["result"] == "{'new_case': 1}"
    assert runs["consultant.send_replies"]["result"] == "{'sent': 1}"  # its acknowledgment
    assert "@" not in json.dumps([t["args"] for t in tasks.values()])
