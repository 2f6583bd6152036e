"""A Redis server for the tests: the machine's own, or a private redis-server started here."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import redis

from tests.support.required import find_binary, free_port, require_service

DEFAULT_URL = "redis://127.0.0.1:6379/15"


def _reachable(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@dataclass
class PrivateRedis:
    """A redis-server of the test's own, which it may freeze and thaw."""

    url: str
    process: subprocess.Popen[bytes]

    def pause(self) -> None:
        """SIGSTOP: connections are accepted by the kernel, and never answered."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)


@contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    """A redis-server started for the caller alone; stopped (thawed first) on the way out."""
    binary = find_binary("redis-server")
    if binary is None:
        require_service("Redis (no redis-server binary to start a private one)")
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="cc-redis-")
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while not _reachable(url):
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            require_service("Redis (a private redis-server did not start)")
        time.sleep(0.05)
    server = PrivateRedis(url, process)
    try:
        yield server
    finally:
        server.resume()
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis URL; tests keep apart from other users of it by their own queue names."""
    url = os.environ.get("CONSULTANT_TEST_REDIS_URL", DEFAULT_URL)
    if _reachable(url):
        yield url
        return
    if find_binary("redis-server") is None:
        require_service(f"Redis (none at {url}, and no redis-server binary to start one)")
    with private_redis() as server:
        yield server.url
