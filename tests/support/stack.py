"""The real stack for the fault matrix: Dovecot, poller, Celery worker and beat, PostgreSQL, SMTP.

Each process runs as in production (``consultant poll``, ``celery ... worker``,
``celery ... beat``), so a test can kill -9 any of them, stop the servers they
depend on, and at the end count everything: every message in exactly one
case, threads joined as the corpus says, nothing delivered twice, nothing
approved and left unsent.
"""

from __future__ import annotations

import base64
import email
import json
import mailbox
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from email import policy
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from config import Settings
from consultant.models import Case, CaseEvent, InboundMessage, OutboundMessage
from consultant.services import Services, build_services
from tests.support.cases import approve_current, save_draft
from tests.support.celery_worker import worker_command
from tests.support.corpus import BENCH_MBOX, SHARED
from tests.support.dovecot import Dovecot
from tests.support.smtp import SmtpServer
from tests.support.waiting import wait_until

BENCH_JSON = SHARED / "corpus" / "bench" / "corpus-1000.json"
READY_MARK = "ready."
SETTLE_SECONDS = 120.0


@cache
def _corpus() -> tuple[list[dict[str, Any]], list[bytes]]:
    entries = json.loads(BENCH_JSON.read_text())
    box = mailbox.mbox(str(BENCH_MBOX), create=False)
    raws = [box.get_bytes(key) for key in box.iterkeys()]
    box.close()
    assert len(raws) == len(entries)
    return entries, raws


@dataclass(frozen=True)
class Sample:
    """Corpus messages for one run, in corpus order, with the threads they form."""

    entries: list[dict[str, Any]]
    raws: list[bytes]

    @property
    def message_ids(self) -> list[str]:
        return [e["message_id"] for e in self.entries]

    @property
    def threads(self) -> dict[int, set[str]]:
        found: dict[int, set[str]] = {}
        for entry in self.entries:
            found.setdefault(entry["thread_root"], set()).add(entry["message_id"])
        return found


def sample(singles: int = 16, threads: int = 6) -> Sample:
    """``threads`` question-and-reply threads of the corpus and ``singles`` other questions."""
    entries, raws = _corpus()
    replies = [e for e in entries if e["reply"] and not entries[e["parent"]]["reply"]][:threads]
    chosen = {e["index"] for e in replies} | {e["parent"] for e in replies}
    for entry in entries:
        if len(chosen) >= 2 * len(replies) + singles:
            break
        if not entry["reply"] and entry["index"] not in chosen:
            chosen.add(entry["index"])
    order = sorted(chosen)
    return Sample([entries[i] for i in order], [raws[i] for i in order])


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (the prefork pool of a Celery worker)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@dataclass
class Process:
    """One of the stack's processes, started as the Procfile would."""

    name: str
    command: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self, ready: str | None = None) -> Process:
        with self.log.open("a") as log:
            self.popen = subprocess.Popen(
                self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        if ready:
            wait_until(
                lambda: ready in self.log.read_text() or self.popen.poll() is not None,  # type: ignore[union-attr]
                f"{self.name} to start",
                timeout=60,
            )
            if self.popen.poll() is not None:
                pytest.fail(f"{self.name} exited:\n{self.log.read_text()[-3000:]}")
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def kill(self) -> None:
        """kill -9 the process and its children, as a crash of its machine would."""
        if self.popen is None or self.popen.poll() is not None:
            return
        children = _children(self.pid)
        self.popen.send_signal(signal.SIGKILL)
        for child in children:
            with suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        self.popen.wait()

    def kill_children(self) -> list[int]:
        """kill -9 the worker's pool processes only, as the kernel's OOM killer would."""
        killed = _children(self.pid)
        for child in killed:
            os.kill(child, signal.SIGKILL)
        return killed

    def stop(self) -> None:
        """Warm shutdown: TERM to the main process only."""
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()


@dataclass
class Stack:
    settings: Settings
    env: dict[str, str]
    services: Services
    dovecot: Dovecot
    smtp: SmtpServer
    workdir: Path
    processes: list[Process] = field(default_factory=list)

    # -- processes ------------------------------------------------------------------------

    def _process(self, name: str, *command: str) -> Process:
        count = sum(1 for p in self.processes if p.name == name)
        process = Process(
            name, list(command), {**os.environ, **self.env}, self.workdir / f"{name}-{count}.log"
        )
        self.processes.append(process)
        return process

    def worker(self, concurrency: int = 2, sends: bool = True) -> Process:
        """A worker on the processing queue and, unless ``sends`` is False, the send queue."""
        name = f"{self.settings.task_queue}-{uuid.uuid4().hex[:4]}@%h"
        queues = [self.settings.task_queue] + ([self.settings.send_queue] if sends else [])
        return self._process("worker", *worker_command(name, concurrency, queues)).start(READY_MARK)

    def sender(self, concurrency: int = 2) -> Process:
        """The Procfile's sender: ``celery -A workers.sender_app worker``, the send queue only."""
        name = f"{self.settings.send_queue}-{uuid.uuid4().hex[:4]}@%h"
        command = worker_command(name, concurrency, app="workers.sender_app")
        return self._process("sender", *command).start(READY_MARK)

    def beat(self) -> Process:
        return self._process(
            "beat",
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workers.celery_app",
            "beat",
            "--loglevel=INFO",
            f"--schedule={self.workdir / f'beat-{uuid.uuid4().hex[:6]}'}",
        ).start()

    def poller(self) -> Process:
        return self._process("poller", sys.executable, "-m", "consultant", "poll").start()

    def stop_all(self) -> None:
        for process in reversed(self.processes):
            process.stop()

    def log_lines(self, name: str) -> list[dict[str, Any]]:
        """The JSON log lines (``CONSULTANT_LOG_FORMAT=json``) of the stack's ``name`` processes."""
        lines = []
        for path in sorted(self.workdir.glob(f"{name}-*.log")):
            for line in path.read_text().splitlines():
                if line.startswith("{"):
                    lines.append(json.loads(line))
        return lines

    # -- mail -----------------------------------------------------------------------------

    def deliver(self, mail: Sample) -> None:
        for raw in mail.raws:
            self.dovecot.append(raw)

    def count(self, query: Any) -> int:
        """``query``'s number; asked again if a fault took the test's own connection away."""
        for attempt in range(20):
            try:
                with self.services.db.session() as session:
                    return int(session.scalar(query) or 0)
            except DBAPIError:
                if attempt == 19:
                    raise
                time.sleep(0.5)
        raise AssertionError("unreachable")

    def processed(self) -> int:
        return self.count(
            select(func.count(InboundMessage.id)).where(InboundMessage.processed_at.is_not(None))
        )

    def unfinished_sends(self) -> int:
        return self.count(
            select(func.count(OutboundMessage.id)).where(
                OutboundMessage.state.in_(("queued", "sending"))
            )
        )

    def settled(self, messages: int) -> bool:
        """Every message processed and no send left to do (False while the database is away)."""
        try:
            return self.processed() >= messages and self.unfinished_sends() == 0
        except DBAPIError:
            return False

    def settle(self, messages: int, timeout: float = SETTLE_SECONDS) -> None:
        """Wait until every message is processed and no send is left to do."""
        wait_until(
            lambda: self.settled(messages),
            f"{messages} messages processed and every send done (see {self.workdir})",
            timeout=timeout,
            interval=0.2,
        )

    def approve_all(self) -> list[str]:
        """An expert answers and approves every case awaiting review."""

        with self.services.db.session() as session:
            references = list(
                session.scalars(
                    select(Case.reference).where(Case.status == "awaiting_review").order_by(Case.id)
                )
            )
        for reference in references:
            assert reference is not None
            save_draft(
                self.services, reference, "Dear colleague,\n\nThe answer.\n", "expert@example.com"
            )
            approve_current(self.services, reference, "expert@example.com")
        return [r for r in references if r]

    def approved(self) -> list[str]:
        """Every case with a reply queued: what the experts approved."""
        with self.services.db.session() as session:
            return [
                r
                for r in session.scalars(
                    select(Case.reference)
                    .join(OutboundMessage, OutboundMessage.case_id == Case.id)
                    .where(OutboundMessage.kind == "reply")
                    .distinct()
                )
                if r
            ]

    def queued(self, queue: str | None = None) -> int:
        """How many tasks wait in the broker's queues (or in ``queue``)."""
        client = redis.Redis.from_url(self.settings.broker_url or "")
        queues = [queue] if queue else [self.settings.task_queue, self.settings.send_queue]
        return sum(int(client.llen(name)) for name in queues)

    def queued_rows(self) -> int:
        """How many rows the tasks waiting in the broker's queues name (a batch names several)."""
        client = redis.Redis.from_url(self.settings.broker_url or "")
        rows = 0
        for name in (self.settings.task_queue, self.settings.send_queue):
            for item in client.lrange(name, 0, -1):
                args, _, _ = json.loads(base64.b64decode(json.loads(item)["body"]))
                rows += len(args[0]) if isinstance(args[0], list) else 1
        return rows

    def flush_queue(self) -> int:
        """Drop every task waiting in the broker's queues, as a flushed Redis would."""
        client = redis.Redis.from_url(self.settings.broker_url or "")
        waiting = self.queued()
        client.delete(self.settings.task_queue, self.settings.send_queue)
        return waiting

    # -- the count ------------------------------------------------------------------------

    def events(self, kind: str) -> list[tuple[int, dict[str, Any]]]:
        with self.services.db.session() as session:
            return [
                (case_id, dict(details))
                for case_id, details in session.execute(
                    select(CaseEvent.case_id, CaseEvent.details).where(CaseEvent.kind == kind)
                )
            ]

    def assert_whole(
        self, mail: Sample, approved: list[str] | None = None, refused: str | None = None
    ) -> None:
        """Every message in exactly one case, threads whole, nothing twice, nothing unsent.

        ``refused``: a recipient the SMTP server refused for good; mail to it is
        ``failed`` with the server's words and never delivered, and its case failed.
        """
        with self.services.db.session() as session:
            rows = session.execute(
                select(InboundMessage.message_id, InboundMessage.case_id, InboundMessage.route)
            ).all()
            statuses = dict(session.execute(select(Case.reference, Case.status)).all())
            outbound = session.execute(
                select(
                    OutboundMessage.id,
                    OutboundMessage.case_id,
                    OutboundMessage.kind,
                    OutboundMessage.message_id,
                    OutboundMessage.state,
                    OutboundMessage.recipients,
                )
            ).all()
            refused_cases = {
                reference
                for (reference,) in session.execute(
                    select(Case.reference).where(Case.requester_address == refused)
                )
            }
        stored = Counter(m for m, _, _ in rows)
        assert stored == Counter(mail.message_ids), "every message stored exactly once"
        case_of = {m: c for m, c, _ in rows}
        assert all(case_of[m] is not None for m in mail.message_ids), "every message in a case"
        thread_cases = {root: {case_of[m] for m in ids} for root, ids in mail.threads.items()}
        split = {root: cases for root, cases in thread_cases.items() if len(cases) != 1}
        assert not split, f"threads split over cases: {split}"
        owners = Counter(next(iter(cases)) for cases in thread_cases.values())
        assert max(owners.values()) == 1, "two threads in one case"
        failed = [r for r, s in statuses.items() if s == "failed" and r not in refused_cases]
        assert not failed, f"failed cases: {failed}"
        for reference in approved or []:
            wanted = "failed" if reference in refused_cases else "sent"
            assert statuses[reference] == wanted, f"{reference} approved, {statuses[reference]}"
        unknown = {details.get("outbound_id") for _, details in self.events("send_outcome_unknown")}
        deliveries = self.smtp.deliveries()
        for outbound_id, _case_id, kind, message_id, state, recipients in outbound:
            if recipients == [refused]:
                assert state == "failed" and message_id not in deliveries
                continue
            assert state == "sent", f"{kind} #{outbound_id} is {state}"
            allowed = 2 if outbound_id in unknown else 1
            assert 1 <= deliveries[message_id] <= allowed, (
                f"{kind} #{outbound_id} delivered {deliveries[message_id]} times"
            )
        acks = Counter(c for _, c, kind, *_ in outbound if kind == "ack")
        assert set(acks.values()) <= {1}, "one acknowledgment per case"
        assert self.dovecot.messages("INBOX") == [], "the inbox is emptied"
        assert len(self.dovecot.messages("Processed")) == len(mail.message_ids)

    def delivered_messages(self) -> list[email.message.EmailMessage]:
        return [
            email.message_from_bytes(r.raw, policy=policy.default)  # type: ignore[misc]
            for r in self.smtp.received
        ]


def stack_env(settings: Settings) -> dict[str, str]:
    """The CONSULTANT_* environment that gives another process these settings."""
    env = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        env[f"CONSULTANT_{name.upper()}"] = (
            str(value).lower() if isinstance(value, bool) else str(value)
        )
    return env


@contextmanager
def running_stack(
    settings: Settings, dovecot: Dovecot, smtp: SmtpServer, workdir: Path
) -> Iterator[Stack]:
    """A stack on ``settings`` whose processes are stopped (or killed) when the test ends."""
    services = build_services(settings)
    stack = Stack(settings, stack_env(settings), services, dovecot, smtp, workdir)
    try:
        yield stack
    finally:
        stack.stop_all()
        services.db.dispose()
        if settings.broker_url:
            with suppress(redis.RedisError):
                redis.Redis.from_url(settings.broker_url, socket_timeout=2).delete(
                    settings.task_queue, settings.send_queue
                )
