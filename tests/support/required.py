"""Skip, or fail in CI, when a server a test needs cannot be had.

With CONSULTANT_REQUIRE_SERVICES=1 (set by .ci/run) a missing server fails
the test; elsewhere the test is skipped with a line naming what is missing.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

REQUIRED = os.environ.get("CONSULTANT_REQUIRE_SERVICES") == "1"


def require_service(what: str) -> None:
    """Fail under CONSULTANT_REQUIRE_SERVICES=1, skip otherwise, naming what is missing."""
    message = f"needs {what}"
    if REQUIRED:
        pytest.fail(f"{message} (CONSULTANT_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(message)  # require_service's own skip: never under CONSULTANT_REQUIRE_SERVICES


def find_binary(name: str, *globs: str) -> str | None:
    """``name`` on PATH, or in the first directory matching one of ``globs``."""
    found = shutil.which(name)
    if found:
        return found
    for pattern in globs:
        for directory in sorted(Path("/").glob(pattern.lstrip("/")), reverse=True):
            if (directory / name).exists():
                return str(directory / name)
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
