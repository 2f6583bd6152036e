"""Which run holds a claim, and whether it can still be working: the takeover rule of claims.

A claim names its run (a token: the Celery task id, the same when the broker
delivers the task again) and the process it runs in (``host:pid``). A later
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

from consultant.models import utcnow


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


class Holder(StrEnum):
    GONE = "gone"  # provably not working on it any more
    MAYBE = "maybe"  # may still be working on it


def holder(token: str, claimed_by: str | None, my_token: str) -> Holder:
    """Whether the run that holds a claim can still be working on it.

    Gone: a process of this machine that no longer exists; or this very
    process with the same token (a task runs once at a time in a process, so
    an earlier run of it here has ended). Anything else may be alive: another
    machine, a live process, this process running another task (the embedded
    default runs tasks in threads).
    """
    if not claimed_by or ":" not in claimed_by:
        return Holder.MAYBE
    host, _, pid_text = claimed_by.rpartition(":")
    if host != _machine() or not pid_text.isdigit():
        return Holder.MAYBE
    pid = int(pid_text)
    if pid == os.getpid():
        return Holder.GONE if token == my_token else Holder.MAYBE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return Holder.GONE
    except PermissionError:  # alive, someone else's
        return Holder.MAYBE
    return Holder.MAYBE


def lease_over(claimed_at: datetime | None, lease_seconds: float) -> bool:
    """True when the claim is older than its lease: its holder cannot be trusted to finish."""
    return claimed_at is None or claimed_at + timedelta(seconds=lease_seconds) < utcnow()
