"""Which run holds a claim, and whether it can still be working: the takeover rule of claims.

A claim names its run (a token: the Celery task id, the same when the broker
delivers the task again) and the process it runs in (``host/namespace:pid``). A later
run may take the claim over when the holder is provably gone, at once, or
when the claim's lease has passed (the holder may be on another machine).
The same token alone proves nothing: a broker that lost its connection
delivers a task again while the first copy still runs.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache

from config import Settings
from consultant.models import utcnow


@cache
def _machine() -> str:
    """This host, and its process namespace: two containers may share a host name.

    A pid is only meaningful within its namespace; a claim from another one
    is someone else's process, whatever its number.
    """
    try:
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        namespace = 0
    return f"{socket.gethostname()}/{namespace}"


def this_process() -> str:
    """``host/namespace:pid`` of the running process, as a claim records it."""
    return f"{_machine()}:{os.getpid()}"


class Takeover(StrEnum):
    """Whether a run may take a claim nobody released, and why."""

    NO = "no"  # its run may still be working on it
    RETRY = "retry"  # an earlier run of this same task, in this process, ended
    GONE = "gone"  # its run's process no longer exists
    LEASE_OVER = "lease_over"  # its run may be alive elsewhere, but its lease has passed


def lease_seconds(settings: Settings) -> float:
    """How long a claim protects its run when nobody can tell whether the run is alive.

    Under Celery the hard time limit ends any run before this; in-process (the
    embedded default) the caps on each message and the send deadline keep
    work far shorter.
    """
    return settings.task_time_limit_seconds + 5


def takeover(
    token: str | None,
    claimed_by: str | None,
    claimed_at: datetime | None,
    my_token: str,
    lease: float,
) -> Takeover:
    """May run ``my_token`` take over the claim of run ``token`` held by ``claimed_by``?

    Gone: a process of this machine that no longer exists; an earlier run of
    the same task in this very process (a task runs once at a time in a
    process). Anything else may be alive: another machine, a live process,
    this process running another task (the embedded default runs tasks in
    threads); such a claim is taken over only once its lease has passed.
    """
    here = claimed_by == this_process()
    if here and token == my_token:
        return Takeover.RETRY
    if not here and _process_gone(claimed_by):
        return Takeover.GONE
    if claimed_at is None or claimed_at + timedelta(seconds=lease) < utcnow():
        return Takeover.LEASE_OVER
    return Takeover.NO


def _process_gone(claimed_by: str | None) -> bool:
    """True for a process of this machine that no longer exists."""
    if not claimed_by or ":" not in claimed_by:
        return False
    machine, _, pid_text = claimed_by.rpartition(":")
    if machine != _machine() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False
