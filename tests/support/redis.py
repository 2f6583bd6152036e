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
    """A redis-server of the test's own, which it may freeze and thaw, stop and start again.

    It keeps nothing on disk, as in CI: a restart loses every queued task.
    """

    binary: str
    port: int
    workdir: str
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server on its port and wait until it answers."""
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.workdir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not _reachable(self.url):
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.process.kill()
                require_service("Redis (a private redis-server did not start)")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server (SIGKILL: no goodbye to its clients, nothing saved)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait(timeout=10)

    def pause(self) -> None:
        """SIGSTOP: connections are accepted by the kernel, and never answered."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)


@contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    """A redis-server started for the caller alone; stopped on the way out."""
    binary = find_binary("redis-server")
    if binary is None:
        require_service("Redis (no redis-server binary to start a private one)")
    server = PrivateRedis(binary, free_port(), tempfile.mkdtemp(prefix="cc-redis-"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


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
