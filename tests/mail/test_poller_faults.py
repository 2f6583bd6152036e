"""The poller under real faults: a dead IMAP server, a second poller, kill -9 at the worst moments.

Each fault is made for real: Dovecot's processes are SIGKILLed and started
again on the same port and mail directory; two pollers read one mailbox; the
poller process is killed while its INSERT waits on a table lock another
session holds (between fetch and commit), or while it hangs queuing its
first task on a Redis that was SIGSTOPped (between commit and the move).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from consultant.mail.imap_poller import ImapPoller
from consultant.mail.intake import Intake
from consultant.services import Services
from tests.support.dovecot import Dovecot, running_dovecot
from tests.support.intake import (
    QUESTIONS,
    fast_poller,
    folder_message_ids,
    inbound_count,
    inbound_rows,
    message_id,
    poller_environment,
    row_counter,
    running,
    with_message_id,
)
from tests.support.redis import private_redis
from tests.support.waiting import wait_until

log = logging.getLogger(__name__)
POLL = [sys.executable, "-m", "consultant", "poll"]


def numbered(n: int) -> bytes:
    """A corpus question with a Message-ID of its own, so that many distinct ones can be sent."""
    return with_message_id(QUESTIONS[n % len(QUESTIONS)], f"<m{n}@clinic.example>".encode())


def assert_each_stored_and_processed_once(
    services: Services, server: Dovecot, raws: list[bytes]
) -> None:
    """What an operator checks: one row per message, INBOX empty, each in Processed once."""
    expected = sorted(message_id(raw) for raw in raws)
    assert sorted(r.message_id or "" for r in inbound_rows(services)) == expected
    assert server.messages("INBOX") == []
    assert sorted(folder_message_ids(server, "Processed")) == expected


# -- the IMAP server dies during IDLE and comes back ------------------------------------


@pytest.fixture
def own_dovecot() -> Iterator[Dovecot]:
    """A Dovecot for this test alone: it is killed."""
    with running_dovecot() as server:
        yield server


def thread_cpu_seconds(thread: threading.Thread) -> float:
    """User and system CPU time of ``thread`` so far, from /proc (utime and stime, in ticks)."""
    assert thread.native_id is not None
    stat = Path(f"/proc/self/task/{thread.native_id}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()  # fields 3 onwards; the name may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_killed_server_is_noticed_at_once_waited_out_idly_and_caught_up_after_restart(
    own_dovecot: Dovecot,
    build_sqlite: Callable[..., Services],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The production IDLE settings: a 5 s check and renewal only every 5 minutes, so that
    # neither is what notices the dead server.
    services = build_sqlite(own_dovecot, imap_idle_check_seconds=5.0, imap_idle_renew_seconds=300)
    poller = ImapPoller(
        services.settings,
        Intake(services.db, services.dispatch),
        backoff_first=0.5,
        backoff_ceiling=2.0,
    )
    own_dovecot.append(QUESTIONS[0])

    def lost() -> list[logging.LogRecord]:
        return [r for r in caplog.records if "IMAP connection" in r.getMessage()]

    with running(poller) as thread:
        wait_until(lambda: not own_dovecot.messages("INBOX"), "the first message")
        time.sleep(0.5)  # into IDLE
        cpu_before, killed = thread_cpu_seconds(thread), time.monotonic()
        own_dovecot.kill()
        wait_until(lost, "the poller to notice the dead server", timeout=30, interval=0.01)
        noticed = time.monotonic() - killed
        time.sleep(4)  # the outage: the poller retries with backoff, and otherwise waits
        cpu = thread_cpu_seconds(thread) - cpu_before
        outage = time.monotonic() - killed
        own_dovecot.restart()
        restarted = time.monotonic()
        own_dovecot.append(QUESTIONS[1])
        wait_until(lambda: inbound_count(services) == 2, "the message sent after the restart")
        caught_up = time.monotonic() - restarted

    log.info(
        "dead server noticed after %.3f s; %.2f s of CPU in a %.1f s outage; "
        "mail after the restart stored after %.2f s",
        noticed,
        cpu,
        outage,
        caught_up,
    )
    assert noticed < 3, f"the dead server was noticed after {noticed:.1f} s"
    # Spinning on idle_check would use the whole outage; a few reconnect attempts use little.
    assert cpu < 0.1 * outage, f"{cpu:.2f} s of CPU in a {outage:.1f} s outage"
    assert caught_up < 10, f"mail after the restart was stored after {caught_up:.1f} s"
    assert own_dovecot.messages("INBOX") == []
    assert len(own_dovecot.messages("Processed")) == 2
    assert all(r.levelno == logging.WARNING for r in lost())


# -- two pollers on one mailbox -----------------------------------------------------------


@pytest.mark.parametrize("server_name", ["dovecot", "dovecot_basic"])
def test_two_pollers_on_one_mailbox_store_and_move_each_message_once(
    server_name: str,
    build: Callable[..., Services],
    request: pytest.FixtureRequest,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With MOVE and IDLE, and with neither (COPY, EXPUNGE and polling)."""
    dovecot: Dovecot = request.getfixturevalue(server_name)
    raws = [numbered(n) for n in range(60)]
    for raw in raws[:40]:
        dovecot.append(raw)
    # Small batches, so the two interleave: both fetch, store and move the same UIDs.
    first, second = (build(dovecot, imap_batch_size=4, imap_poll_seconds=0.2) for _ in "12")

    with running(fast_poller(first)), running(fast_poller(second)):
        for raw in raws[40:]:  # and more while both are watching
            dovecot.append(raw)
        wait_until(
            lambda: inbound_count(first) == len(raws) and not dovecot.messages("INBOX"),
            "both pollers to take in all the mail",
            timeout=120,
        )

    assert_each_stored_and_processed_once(first, dovecot, raws)
    trouble = [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("consultant.mail") and r.levelno >= logging.WARNING
    ]
    assert trouble == []


# -- kill -9 of the poller process at its two worst moments (PostgreSQL) -----------------


def waiting_on(connection: psycopg.Connection, table: str) -> bool:
    """True if some session of this database waits for a lock on ``table``."""
    row = connection.execute(
        "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
        "WHERE d.datname = current_database() AND l.relation = %s::regclass AND NOT l.granted",
        (table,),
    ).fetchone()
    return bool(row and row[0])


def poll_once(env: dict[str, str], log_file: Path) -> None:
    """``consultant poll --once`` as an operator would run it after a crash."""
    with log_file.open("ab") as output:
        subprocess.run(
            [*POLL, "--once"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=120,
        )


def test_poller_killed_between_fetch_and_commit_leaves_the_mail_to_the_next_run(
    dovecot: Dovecot, build_postgres: Callable[..., Services], tmp_path: Path
) -> None:
    services = build_postgres(dovecot)
    raws = [numbered(n) for n in range(5)]
    for raw in raws:
        dovecot.append(raw)
    url = services.settings.database_url
    env = poller_environment(dovecot, url, tmp_path / "var")
    log_file = tmp_path / "poller.log"

    with psycopg.connect(url) as blocker:  # a transaction: the lock lasts until its rollback
        blocker.execute("LOCK TABLE inbound_message IN EXCLUSIVE MODE")
        with log_file.open("ab") as output:
            first = subprocess.Popen(POLL, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            wait_until(
                lambda: waiting_on(blocker, "inbound_message"),
                "the poller's INSERT to wait on the lock",
            )
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        blocker.rollback()

    # It died with the batch fetched and not committed: nothing stored, nothing moved.
    assert inbound_count(services) == 0
    assert len(dovecot.messages("INBOX")) == len(raws)

    poll_once(env, log_file)

    assert_each_stored_and_processed_once(services, dovecot, raws)


def test_poller_killed_between_commit_and_move_finishes_without_storing_twice(
    dovecot: Dovecot, build_postgres: Callable[..., Services], tmp_path: Path
) -> None:
    services = build_postgres(dovecot)
    raws = [numbered(n) for n in range(5)]
    for raw in raws:
        dovecot.append(raw)
    url = services.settings.database_url
    log_file = tmp_path / "poller.log"

    with private_redis() as broker:
        env = poller_environment(dovecot, url, tmp_path / "var") | {
            "CONSULTANT_BROKER_URL": broker.url,
            "CONSULTANT_TASK_QUEUE": "poller-faults",
        }
        # Frozen: queuing the first row's task, right after its commit, hangs.
        broker.pause()
        with log_file.open("ab") as output, row_counter(url) as stored:
            first = subprocess.Popen(POLL, env=env, stdout=output, stderr=subprocess.STDOUT)
            try:
                wait_until(lambda: stored() >= 1, "the first commit", interval=0.01)
                time.sleep(1.0)  # ample time to queue the task and move the message, unblocked
            finally:
                first.send_signal(signal.SIGKILL)
                first.wait(timeout=10)

        # It died with one message committed and still in INBOX: the crash window.
        assert inbound_count(services) == 1, log_file.read_text()
        assert len(dovecot.messages("INBOX")) == len(raws)

        broker.resume()
        poll_once(env, log_file)

    assert_each_stored_and_processed_once(services, dovecot, raws)
