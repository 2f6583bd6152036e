"""The fault matrix: the real stack under each fault, ending with a full count.

Every case runs the production processes (``consultant poll``, a Celery
worker and beat on Redis, PostgreSQL, Dovecot, an SMTP server) on a sample
of the 1,000-message corpus with whole threads, injects one fault, and ends
with ``Stack.assert_whole``: every message stored once and in exactly one
case, threads joined as ``corpus-1000.json`` says, no message delivered
twice as counted at the SMTP server (except a re-send after an unknown
outcome, which the timeline records), nothing approved and left unsent,
the inbox emptied. Each case also checks that the timeline says what
happened. The README's fault matrix lists these cases and their results.
"""

from __future__ import annotations

import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from config import Settings
from consultant.db_errors import TransientError
from consultant.models import InboundMessage, OutboundMessage
from tests.support.dovecot import Dovecot
from tests.support.postgres import outage, terminate_connections
from tests.support.redis import private_redis
from tests.support.required import free_port
from tests.support.smtp import ACCEPT_AND_DROP, DROP, SmtpServer
from tests.support.stack import Sample, Stack, running_stack, sample
from tests.support.waiting import wait_until
from workers.factory import SEND_TASKS


@pytest.fixture
def make_stack(
    make_settings: Callable[..., Settings],
    postgres_url: str,
    redis_url: str,
    dovecot: Dovecot,
    smtp_server: SmtpServer,
    tmp_path: Path,
) -> Iterator[Callable[..., Stack]]:
    """Builds the stack with short timings: faults are noticed in seconds, not minutes."""
    with ExitStack() as running:

        def make(**overrides: object) -> Stack:
            values: dict[str, object] = {
                "database_url": postgres_url,
                "broker_url": redis_url,
                "task_queue": f"cc-fault-{uuid.uuid4().hex[:8]}",
                "imap_host": dovecot.host,
                "imap_port": dovecot.port,
                "imap_user": dovecot.user,
                "imap_password": dovecot.password,
                "imap_tls": "none",
                "imap_batch_size": 10,
                "imap_idle_check_seconds": 0.5,
                "smtp_host": smtp_server.host,
                "smtp_port": smtp_server.port,
                "smtp_tls": "none",
                "smtp_timeout_seconds": 5,
                "send_retry_seconds": 0.2,
                "sweep_seconds": 1,
                "stale_after_seconds": 3,
                "task_soft_time_limit_seconds": 4,
                "task_time_limit_seconds": 6,
            }
            values.update(overrides)
            settings = make_settings(**values)
            return running.enter_context(running_stack(settings, dovecot, smtp_server, tmp_path))

        yield make


def _run_to_the_end(stack: Stack, mail: Sample) -> list[str]:
    """Let everything be processed, approve every case, let every reply go out."""
    stack.settle(len(mail.raws))
    approved = stack.approve_all()
    stack.settle(len(mail.raws))
    return approved


def _claimed(stack: Stack) -> int:
    return stack.count(
        select(func.count(InboundMessage.id)).where(InboundMessage.claim_token.is_not(None))
    )


class _TableLock:
    """Holds a lock on a table from the test's own connection, so writers to it wait."""

    def __init__(self, url: str, table: str) -> None:
        self.connection = psycopg.connect(url)
        self.connection.execute(f'LOCK TABLE "{table}" IN EXCLUSIVE MODE')

    def release(self) -> None:
        self.connection.rollback()
        self.connection.close()


# --- the baseline -------------------------------------------------------------------------


def test_no_fault(make_stack: Callable[..., Stack]) -> None:
    stack, mail = make_stack(log_format="json"), sample()
    stack.worker(), stack.beat(), stack.poller()
    stack.deliver(mail)

    approved = _run_to_the_end(stack, mail)

    stack.assert_whole(mail, approved)
    assert all(d["unfinished_runs"] == 0 for _, d in stack.events("processing_restarted"))
    assert stack.events("send_outcome_unknown") == []
    # Every line of a task's run on a message or a reply names its case, Celery's own
    # closing line included (only "received", before the run, cannot know it, and a run
    # that did nothing: it waits for the message its message answers, or another run
    # holds or has done the message, before any case is read).
    waiting = (": deferred", "Retry in", ": busy", ": already_done", "'busy'", "'already_done'")
    about_mail = [
        line
        for line in stack.log_lines("worker")
        if line["task"]
        and not any(mark in line["message"] for mark in waiting)
        and (
            "process_message[" in line["message"]
            or "send_reply[" in line["message"]
            or line["inbound"]
            or line["outbound"]
        )
    ]
    assert len(about_mail) >= 2 * len(mail.raws)
    without_case = [line["message"] for line in about_mail if not line["case"].startswith("CC-")]
    assert without_case == []


# --- the worker killed --------------------------------------------------------------------


def _killed_while_processing(
    make_stack: Callable[..., Stack], postgres_url: str, whole: bool
) -> tuple[Stack, Sample, list[dict[str, Any]]]:
    """Kill the worker (its pool only, or whole) while it holds two messages mid-processing.

    A lock on ``case_event`` from the test's own connection makes processing
    wait at its first timeline entry, after the message was claimed.
    """
    stack, mail = make_stack(), sample()
    worker = stack.worker()
    stack.beat(), stack.poller()
    lock = _TableLock(postgres_url, "case_event")
    try:
        stack.deliver(mail)
        wait_until(lambda: _claimed(stack) >= 2, "two messages claimed by the worker")
        if whole:
            worker.kill()
        else:
            assert worker.kill_children()
            time.sleep(1)
    finally:
        lock.release()
    if whole:
        stack.worker()
    approved = _run_to_the_end(stack, mail)
    stack.assert_whole(mail, approved)
    return stack, mail, [d for _, d in stack.events("processing_restarted")]


def test_worker_pool_killed_while_processing(
    make_stack: Callable[..., Stack], postgres_url: str
) -> None:
    """The OOM killer takes the process running a task: the same task comes back at once."""
    _, _, restarted = _killed_while_processing(make_stack, postgres_url, whole=False)

    killed = [d for d in restarted if d["unfinished_runs"] >= 1]
    assert len(killed) >= 2  # the two runs that were killed, taken over by their own tasks


def test_whole_worker_killed_while_processing(
    make_stack: Callable[..., Stack], postgres_url: str
) -> None:
    """The worker's machine dies mid-task: its tasks are gone until the sweep restarts them."""
    _, _, restarted = _killed_while_processing(make_stack, postgres_url, whole=True)

    assert any(d["restarted_by_sweep"] >= 1 and d["unfinished_runs"] >= 1 for d in restarted)


def test_worker_pool_killed_while_sending(make_stack: Callable[..., Stack]) -> None:
    """Killed while the server held the message: sent again with the same Message-ID, once."""
    stack, mail = make_stack(), sample(singles=6, threads=2)
    worker = stack.worker()
    stack.beat(), stack.poller()
    stack.deliver(mail)
    stack.settle(len(mail.raws))
    stack.smtp.handler.hold = release = threading.Event()
    stack.smtp.handler.held.clear()
    first = stack.approve_all()[0]
    wait_until(stack.smtp.handler.held.is_set, "the reply to reach the server")
    assert worker.kill_children()
    stack.smtp.handler.hold = None
    release.set()  # the server goes on and accepts the message it was holding

    approved = [first, *_run_to_the_end(stack, mail)]

    stack.assert_whole(mail, approved)
    unknown = stack.events("send_outcome_unknown")
    assert unknown and all("worker is gone" in d["reason"] for _, d in unknown), unknown
    assert {c for c, _ in stack.events("send_outcome_resolved")} == {c for c, _ in unknown}


# --- a slow SMTP server ---------------------------------------------------------------------


def test_stalled_smtp_server_never_delays_new_cases(make_stack: Callable[..., Stack]) -> None:
    """The Procfile's worker and sender apart: sending stuck, every new message still drafted."""
    stack, mail = make_stack(), sample()
    stack.smtp.handler.hold = release = threading.Event()
    stack.smtp.handler.held.clear()
    stack.worker(concurrency=1, sends=False)
    sender = stack.sender(concurrency=1)
    stack.beat(), stack.poller()
    consumed = sender.log.read_text().split("[queues]")[1]
    assert stack.settings.send_queue in consumed
    assert f".> {stack.settings.task_queue} " not in consumed
    stack.deliver(mail)

    wait_until(stack.smtp.handler.held.is_set, "the first acknowledgment to reach the server")
    wait_until(lambda: stack.processed() == len(mail.raws), "every message processed")
    # Every acknowledgment but the one the server holds waits in the send queue;
    # nothing waits to be processed.
    assert stack.queued(stack.settings.task_queue) == 0
    assert stack.queued(stack.settings.send_queue) >= 1
    assert stack.smtp.received == []
    stack.smtp.handler.hold = None
    release.set()

    stack.assert_whole(mail, _run_to_the_end(stack, mail))


def _scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_worker_and_sender_serve_their_metrics(make_stack: Callable[..., Stack]) -> None:
    """What Prometheus reads from the worker and the sender: their runs, and the deployment."""
    worker_port, sender_port = free_port(), free_port()
    stack = make_stack(worker_metrics_port=worker_port, sender_metrics_port=sender_port)
    mail = sample(singles=4, threads=2)
    stack.worker(sends=False), stack.sender(), stack.beat(), stack.poller()
    stack.deliver(mail)
    approved = _run_to_the_end(stack, mail)
    stack.assert_whole(mail, approved)

    worker, sender = _scrape(worker_port), _scrape(sender_port)
    process = "consultant.process_messages"  # the intake's batches
    cases = len(mail.entries) - 2  # each thread's reply joins its question's case
    assert (
        worker[("consultant_worker_tasks_total", (("outcome", "new_case"), ("task", process)))]
        == cases
    )
    runs = {
        dict(labels)["outcome"]: value
        for (name, labels), value in worker.items()
        if name == "consultant_worker_tasks_total" and dict(labels)["task"] == process
    }
    assert runs["follow_up"] == 2, runs  # the two threads' replies
    # Every message is counted by its outcome, and every batch run is timed.
    assert sum(runs.values()) >= len(mail.raws)
    timed = worker[("consultant_worker_task_seconds_count", (("task", process),))]
    assert 1 <= timed <= sum(runs.values())
    sent = sum(
        sender.get(("consultant_worker_tasks_total", (("outcome", "sent"), ("task", task))), 0)
        for task in SEND_TASKS  # acknowledgments go in batches, the experts' replies alone
    )
    assert sent == cases + len(approved)  # the acknowledgments and the experts' replies
    assert not any(
        name == "consultant_worker_tasks_total" and dict(labels)["task"] in SEND_TASKS
        for name, labels in worker
    )
    # Both also answer for the whole deployment, read from the database and the broker.
    for found in (worker, sender):
        assert found[("consultant_messages_received_total", ())] == len(mail.raws)
        assert found[("consultant_backlog", (("work", "sending"),))] == 0
        assert found[("consultant_queue_depth", (("queue", stack.settings.task_queue),))] == 0


# --- the poller killed, two pollers --------------------------------------------------------


def test_poller_killed_between_fetch_and_commit(
    make_stack: Callable[..., Stack], postgres_url: str
) -> None:
    stack, mail = make_stack(), sample()
    stack.worker(), stack.beat()
    lock = _TableLock(postgres_url, "inbound_message")  # the poller's first INSERT waits
    try:
        stack.deliver(mail)
        poller = stack.poller()
        time.sleep(3)  # it has fetched its first batch and waits to commit it
        poller.kill()
    finally:
        lock.release()
    assert stack.count(select(func.count(InboundMessage.id))) == 0
    stack.poller()

    approved = _run_to_the_end(stack, mail)

    stack.assert_whole(mail, approved)


def test_poller_killed_between_commit_and_the_imap_move(make_stack: Callable[..., Stack]) -> None:
    """The poller queues each stored message before it moves it: with the broker frozen it
    stops right after its commit, and is killed there."""
    with private_redis() as broker:
        stack, mail = make_stack(broker_url=broker.url), sample()
        stack.worker(), stack.beat()
        broker.pause()
        try:
            stack.deliver(mail)
            poller = stack.poller()
            stored = select(func.count(InboundMessage.id))
            wait_until(lambda: stack.count(stored) > 0, "the first batch committed")
            time.sleep(1)
            poller.kill()
        finally:
            broker.resume()
        assert len(stack.dovecot.messages("INBOX")) == len(mail.raws)  # none moved yet
        stack.poller()

        approved = _run_to_the_end(stack, mail)

        stack.assert_whole(mail, approved)


def test_two_pollers_on_one_mailbox(make_stack: Callable[..., Stack]) -> None:
    stack, mail = make_stack(imap_batch_size=3), sample()
    stack.worker(), stack.beat(), stack.poller(), stack.poller()
    stack.deliver(mail)

    approved = _run_to_the_end(stack, mail)

    stack.assert_whole(mail, approved)


def test_imap_server_killed_during_idle_and_restarted(make_stack: Callable[..., Stack]) -> None:
    stack, mail = make_stack(), sample()
    first, second = _halves(mail)
    stack.worker(), stack.beat(), stack.poller()
    stack.deliver(first)
    stack.settle(len(first.raws))
    stack.dovecot.kill()
    time.sleep(2)
    stack.dovecot.restart()
    stack.deliver(second)

    approved = _run_to_the_end(stack, mail)

    stack.assert_whole(mail, approved)


def _halves(mail: Sample) -> tuple[Sample, Sample]:
    half = len(mail.raws) // 2
    return (
        Sample(mail.entries[:half], mail.raws[:half]),
        Sample(mail.entries[half:], mail.raws[half:]),
    )


# --- the queue lost -------------------------------------------------------------------------


def test_tasks_flushed_from_the_queue(make_stack: Callable[..., Stack]) -> None:
    """Redis lost its queue: the sweep restarts every message, and threads stay whole."""
    stack, mail = make_stack(), sample()
    stack.poller()
    stack.deliver(mail)
    wait_until(
        lambda: stack.count(select(func.count(InboundMessage.id))) == len(mail.raws),
        "every message stored",
    )
    # The poller commits each batch, then queues its task: wait for the last task too.
    wait_until(lambda: stack.queued_rows() >= len(mail.raws), "every message in a queued task")
    assert stack.flush_queue() >= 1
    stack.worker(), stack.beat()

    approved = _run_to_the_end(stack, mail)

    stack.assert_whole(mail, approved)
    restarted = {c for c, d in stack.events("processing_restarted") if d["restarted_by_sweep"]}
    assert len(restarted) == len(mail.threads)


def test_redis_stopped_and_restarted_while_mail_arrives(make_stack: Callable[..., Stack]) -> None:
    """Redis dies (losing every queued task) while mail comes in, and comes back empty."""
    with private_redis() as broker:
        stack, mail = make_stack(broker_url=broker.url), sample()
        first, second = _halves(mail)
        stack.worker(), stack.beat(), stack.poller()
        stack.deliver(first)
        stack.settle(len(first.raws))
        broker.stop()
        stack.deliver(second)
        stored = select(func.count(InboundMessage.id))
        wait_until(lambda: stack.count(stored) == len(mail.raws), "the mail stored meanwhile")
        time.sleep(2)
        broker.start()

        approved = _run_to_the_end(stack, mail)

        stack.assert_whole(mail, approved)
        restarted = [d for _, d in stack.events("processing_restarted")]
        assert len([d for d in restarted if d["restarted_by_sweep"]]) >= len(second.threads)


# --- PostgreSQL connections terminated ----------------------------------------------------


def _terminating(url: str, stop: threading.Event, every: float) -> threading.Thread:
    def run() -> None:
        while not stop.wait(every):
            terminate_connections(url)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_postgres_connections_terminated_while_the_worker_writes(
    make_stack: Callable[..., Stack], postgres_url: str
) -> None:
    stack, mail = make_stack(), sample()
    stack.worker(), stack.beat(), stack.poller()
    stop = threading.Event()
    killer = _terminating(postgres_url, stop, every=0.15)
    try:
        stack.deliver(mail)
        # Under kills every 0.15 s a task can fail several times running, and each retry
        # backs off exponentially (with jitter): on a busy machine half the mail can take
        # longer than 30 s. What is tested is that nothing is lost or doubled, not speed.
        wait_until(lambda: stack.processed() >= len(mail.raws) // 2, "half the mail processed", 90)
    finally:
        stop.set()
        killer.join()

    approved = _run_to_the_end(stack, mail)

    stack.assert_whole(mail, approved)


def test_postgres_connections_terminated_while_an_expert_approves(
    make_stack: Callable[..., Stack], postgres_url: str
) -> None:
    stack, mail = make_stack(), sample()
    stack.worker(), stack.beat(), stack.poller()
    stack.deliver(mail)
    stack.settle(len(mail.raws))
    stop = threading.Event()
    killer = _terminating(postgres_url, stop, every=0.05)
    try:
        for _ in range(20):  # the expert clicks again after a "try again"
            try:
                stack.approve_all()
                break
            except TransientError:
                continue
    finally:
        stop.set()
        killer.join()
    stack.approve_all()  # whatever is left once the database is calm

    stack.settle(len(mail.raws))
    stack.assert_whole(mail, stack.approved())


def test_the_commit_after_the_servers_250_fails(
    make_stack: Callable[..., Stack], postgres_url: str
) -> None:
    """The database goes away the moment the server accepts: recorded later, never resent."""
    stack, mail = make_stack(), sample(singles=6, threads=2)
    stack.worker(), stack.beat(), stack.poller()
    outages: list[threading.Timer] = []
    first = threading.Lock()

    def once(_: object) -> None:
        with first:
            if not outages:
                outages.append(outage(postgres_url, 10.0))

    stack.smtp.handler.before_accept = once
    try:
        stack.deliver(mail)
        approved = _run_to_the_end(stack, mail)
    finally:
        for timer in outages:
            timer.join()
    stack.assert_whole(mail, approved)
    late = [d for kind in ("ack_sent", "reply_sent") for _, d in stack.events(kind)]
    assert any(d.get("recorded_late") for d in late)
    assert stack.events("send_outcome_unknown") == []  # known accepted: never sent again
    assert set(stack.smtp.deliveries().values()) == {1}


# --- the SMTP server misbehaving ----------------------------------------------------------


def test_smtp_server_faults(make_stack: Callable[..., Stack]) -> None:
    """421 and 451 for a while, a drop before and after accepting, 550 for one recipient."""
    stack, mail = make_stack(), sample()
    refused = mail.entries[-1]["from"]
    stack.smtp.refuse(refused, f"550 5.1.1 <{refused}>: Recipient address rejected")
    for plan in ("421 4.7.0 Try again later", "421 4.7.0 Try again later", DROP, ACCEPT_AND_DROP):
        stack.smtp.fail_next(plan)
    stack.smtp.fail_next("451 4.3.0 Mailbox busy", times=3)
    stack.worker(), stack.beat(), stack.poller()
    stack.deliver(mail)
    stack.settle(len(mail.raws))
    approved = stack.approve_all()
    stack.settle(len(mail.raws))

    with stack.services.db.session() as session:
        rows = session.execute(
            select(OutboundMessage.recipients, OutboundMessage.state, OutboundMessage.last_error)
        ).all()
    for recipients, state, error in rows:
        if recipients == [refused]:
            assert state == "failed" and "550" in (error or "")
        else:
            assert state == "sent"
    # Both drops came after the message was handed over: the client cannot tell them apart.
    assert len(stack.events("send_outcome_unknown")) == 2
    # Only the one the server had accepted arrived twice, with one Message-ID.
    assert sorted(stack.smtp.deliveries().values()).count(2) == 1
    assert len(stack.events("send_deferred")) >= 6
    stack.assert_whole(mail, approved, refused=refused)


# --- a real auto-responder ------------------------------------------------------------------


def test_an_auto_responder_exchanges_at_most_one_message(make_stack: Callable[..., Stack]) -> None:
    """Every message we send is answered twice: by the requester's out-of-office, threaded,
    and by a robot elsewhere that only echoes the subject. Nothing we send answers either."""
    stack, mail = make_stack(), sample(singles=4, threads=0)
    answered: list[str] = []

    def respond(received: object) -> None:
        message = received.message  # type: ignore[attr-defined]
        answered.append(str(message["Message-ID"]))
        to = str(message["To"])
        for raw in (_out_of_office(message, to), _echo(message)):
            stack.dovecot.append(raw)

    stack.smtp.handler.before_accept = respond
    stack.worker(), stack.beat(), stack.poller()
    stack.deliver(mail)
    wait_until(lambda: len(answered) >= len(mail.raws), "an answer to every acknowledgment")
    stack.settle(3 * len(mail.raws))
    time.sleep(3)  # anything more would have been sent by now

    assert len(stack.smtp.received) == len(mail.raws)  # one acknowledgment per question
    assert stack.count(select(func.count(InboundMessage.id))) == 3 * len(mail.raws)


def _out_of_office(message: EmailMessage, sender: str) -> bytes:
    reply = EmailMessage(policy=policy.SMTP)
    reply["From"] = sender
    reply["To"] = str(message["From"])
    reply["Subject"] = f"Re: {message['Subject']}"
    reply["Message-ID"] = f"<ooo-{uuid.uuid4().hex}@responder.example>"
    reply["In-Reply-To"] = str(message["Message-ID"])
    reply.set_content("I am out of the office until Monday.")
    return reply.as_bytes()


def _echo(message: EmailMessage) -> bytes:
    reply = EmailMessage(policy=policy.SMTP)
    reply["From"] = "robot@autoresponder.example"
    reply["To"] = str(message["From"])
    reply["Subject"] = f"Auto: {message['Subject']}"
    reply["Message-ID"] = f"<echo-{uuid.uuid4().hex}@autoresponder.example>"
    reply.set_content("Thank you for your message.")
    return reply.as_bytes()
