"""Claim holders for tests: a process of this machine that is alive, or one that is gone."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

from consultant.cases.runs import this_process


def _holder(pid: int) -> str:
    return f"{this_process().rpartition(':')[0]}:{pid}"


def gone_process() -> str:
    """``claimed_by`` of a process of this machine that has ended (its worker was killed)."""
    process = subprocess.Popen(["true"])
    process.wait()
    return _holder(process.pid)


@contextmanager
def live_process() -> Iterator[str]:
    """``claimed_by`` of a process of this machine that is still running (a live worker)."""
    process = subprocess.Popen(["sleep", "60"])
    try:
        yield _holder(process.pid)
    finally:
        process.kill()
        process.wait()
