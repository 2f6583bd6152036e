"""The Procfile's roles as processes of their own, for the benchmarks that need a real stack.

Each role runs with the settings' environment and writes its log beside the
benchmark's other files; a Celery role is waited for until it is ready and
its pool has warmed up, as it would be long before mail arrives.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy import make_url

from consultant.db import upgrade
from tests.support.dovecot import Dovecot

READY = "ready."
CELERY = [sys.executable, "-m", "celery"]
WORKER = [*CELERY, "-A", "workers.celery_app", "worker"]
SENDER = [*CELERY, "-A", "workers.sender_app", "worker"]
POLLER = [sys.executable, "-m", "consultant", "poll"]


def start(name: str, command: list[str], env: dict[str, str], logs: Path) -> subprocess.Popen:
    """Start ``command`` as role ``name``; a Celery worker only once it is ready."""
    log = (logs / f"{name}.log").open("w")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    if command[: len(CELERY)] == CELERY:
        deadline = time.monotonic() + 60
        while READY not in (logs / f"{name}.log").read_text():
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit(f"{name} did not start: {(logs / f'{name}.log').read_text()}")
            time.sleep(0.1)
        time.sleep(2)  # the pool's warm-up
    return process


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=60)


def peak_rss_mb(pid: int) -> float:
    """The peak resident memory of process ``pid`` since its exec (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


def children(pid: int) -> list[int]:
    """The direct children of ``pid`` (a Celery worker's pool processes)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def reading(server: Dovecot) -> dict[str, object]:
    """The settings that make the poller read ``server``'s inbox (plain IMAP, this machine)."""
    return {
        "imap_host": server.host,
        "imap_port": server.port,
        "imap_user": server.user,
        "imap_password": server.password,
        "imap_tls": "none",
    }


@contextmanager
def fresh_database(url: str | None, workdir: Path) -> Iterator[str]:
    """A new, migrated database for one run: a SQLite file in ``workdir`` when ``url`` is None,
    else a database of its own on ``url``'s PostgreSQL server, dropped afterwards."""
    if url is None:
        fresh = f"sqlite:///{workdir / 'bench.db'}"
        upgrade(fresh)
        yield fresh
        return
    name = f"cc_bench_{uuid.uuid4().hex[:8]}"
    server = make_url(url).set(drivername="postgresql")
    maintenance = server.set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(maintenance, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    fresh = server.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(fresh)
        yield fresh
    finally:
        with psycopg.connect(maintenance, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
