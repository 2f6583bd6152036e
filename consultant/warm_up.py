"""Pay at start what the first message would otherwise pay: the first draft as fast as the rest.

A worker that builds its services and compiles its templates on the first
task took about a second longer on it than on the next. ``warm_up`` compiles
every reply template and rehearses processing one sample question, from the
claim to the acknowledgment, in a transaction it rolls back (``rehearsal``):
nothing is kept, and the pooled connection it used is warm too.
A database that is away is no reason not to start: the warm-up says so in
the log and the first task pays instead.
"""

from __future__ import annotations

import gc
import logging
import time

from consultant.cases.rehearsal import rehearse
from consultant.services import Services

log = logging.getLogger(__name__)

SAMPLE = (
    b"From: Warm Up <warm-up@example.invalid>\r\n"
    b"To: consult@example.invalid\r\n"
    b"Subject: Can 20956 be billed with 20902 on the same day?\r\n"
    b"Message-ID: <warm-up@example.invalid>\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
    b"Hello,\r\n\r\nCan CPT 20956 be billed with 20902 on the same day with modifier 59?\r\n"
    b"Diagnosis M84.350A, date of service 01/15/2025, Medicare.\r\n\r\nThanks\r\n"
)


def warm_up(services: Services) -> float:
    """Warm this process up; the seconds it took (logged)."""
    started = time.perf_counter()
    services.dispatch.warm()  # the broker connection the first job queued would open
    env = services.renderer.env
    for name in env.list_templates(filter_func=lambda n: n.startswith("replies/")):
        env.get_template(name)
    try:
        outcome = rehearse(services, SAMPLE)
        log.info("rehearsed processing a sample message (%s; nothing kept)", outcome)
    except Exception as error:  # whatever it is, the first task meets it and says so
        log.warning("warm-up incomplete (%s): the first message pays instead", error)
    settle()
    elapsed = time.perf_counter() - started
    log.info("warmed up in %.0f ms", elapsed * 1000)
    return elapsed


def settle() -> None:
    """Collect what start-up left behind, then exempt everything alive now from later collections.

    A process holds what it built at start (templates, code tables, compiled
    statements) for its whole life, yet each full collection scanned it all
    again: 60 ms, in the middle of whichever message was being processed
    (the latency's p95). Frozen (``gc.freeze``), a full collection took 2 ms.
    """
    gc.collect()
    gc.freeze()
