"""Waiting for something another process or thread does, with a deadline that fails the test."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest


def wait_until(
    condition: Callable[[], object], what: str, timeout: float = 30.0, interval: float = 0.05
) -> None:
    """Poll ``condition`` until it is true; fail naming ``what`` after a generous deadline.

    The deadline is a safety net against hanging, never a speed requirement.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)
