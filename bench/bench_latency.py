"""Latency of one message at a time: IMAP APPEND to draft stored, and the project's own part.

Starts a private Dovecot and the Procfile's roles as separate processes (the
poller; with a broker, a Celery worker and the sender), then appends the
corpus questions one at a time, waiting for each draft and a short gap
(``--gap``, so that the poller is back in IDLE) before the next. A
watcher holds its own IDLE on the inbox and notes when the server announces
each message: Dovecot holds IDLE notifications for about half a second
(``NOTIFY_DELAY_MSECS``), the same for the poller and the watcher, so

- total = draft stored - APPEND sent (what a requester's mail waits), and
- own   = draft stored - server's announcement (what CaseConsultant takes:
  fetch, store, queue, process, draft).

Dovecot tells each IDLE session on a timer of its own: the poller hears of a
message up to 20 ms before or after the watcher does. So the own part is also
given from the poller's own news (its log line at DEBUG, millisecond
timestamps), and split at the stored row and the claim.

Prints p50, p95 and max of both, and the first message's own part apart
(the worker builds its services at start, so it should be like the rest).

usage: .venv/bin/python bench/bench_latency.py [--messages 200] [--embedded]
       [--database-url URL] [--broker-url URL]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from imapclient import IMAPClient
from sqlalchemy import select

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import roles  # noqa: E402  (bench/roles.py, beside this script)
from roles import POLLER, SENDER, WORKER  # noqa: E402

from config import Settings  # noqa: E402
from consultant.db import Database  # noqa: E402
from consultant.models import Draft, InboundMessage  # noqa: E402
from tests.support.corpus import question_files  # noqa: E402
from tests.support.dovecot import Dovecot, running_dovecot  # noqa: E402
from tests.support.stack import stack_env  # noqa: E402


class Watcher:
    """An IDLE connection of its own: when the server announced each new message."""

    def __init__(self, server: Dovecot) -> None:
        self.client = IMAPClient(server.host, port=server.port, ssl=False, timeout=30)
        self.client.login(server.user, server.password)
        self.client.select_folder("INBOX")
        self.announced = threading.Event()
        self.at = 0.0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.client.idle()
        self.thread.start()

    def _watch(self) -> None:
        while not self.stop.is_set():
            for response in self.client.idle_check(timeout=0.2):
                if len(response) > 1 and response[1] == b"EXISTS" and not self.announced.is_set():
                    self.at = time.time()
                    self.announced.set()

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.client.idle_done()
        self.client.logout()


def _message(raw: bytes, marker: str) -> bytes:
    """``raw`` with a Message-ID of its own, so that each append is a new question."""
    lines = [line for line in raw.split(b"\n") if not line.lower().startswith(b"message-id:")]
    return f"Message-ID: <{marker}@bench.example>\n".encode() + b"\n".join(lines)


class Stored(NamedTuple):
    """When the poller stored the message, a run claimed it, and its draft was stored."""

    received: float
    claimed: float
    drafted: float


def _seconds(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _draft_stored(db: Database, message_id: str, timeout: float = 30) -> Stored:
    deadline = time.monotonic() + timeout
    query = (
        select(InboundMessage.received_at, InboundMessage.claimed_at, Draft.created_at)
        .join(InboundMessage, InboundMessage.case_id == Draft.case_id)
        .where(InboundMessage.message_id == message_id)
    )
    while time.monotonic() < deadline:
        with db.read_session() as session:
            found = session.execute(query).first()
        if found is not None:
            return Stored(*(_seconds(moment) for moment in found))
        time.sleep(0.002)
    raise SystemExit(f"no draft for {message_id} after {timeout:.0f} s")


def _poller_heard(log: Path, drafts: list[Stored]) -> list[float]:
    """Draft stored - the poller's own news of the message, where it had any (seconds).

    The news is the last announcement the poller logged before storing the
    row, if it came less than 100 ms before (otherwise the poller found the
    message without being told). Log times are local, to the millisecond.
    """
    news = sorted(
        datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()
        for line in log.read_text().splitlines()
        if "the server announced new mail" in line
    )
    heard = []
    for times in drafts:
        before = [at for at in news if at <= times.received + 0.001]
        if before and times.received - before[-1] < 0.1:
            heard.append(times.drafted - before[-1])
    return heard


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--embedded", action="store_true", help="no broker: the poller processes")
    parser.add_argument(
        "--database-url", help="a PostgreSQL server to make a database on; default: SQLite"
    )
    parser.add_argument("--broker-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument(
        "--gap", type=float, default=0.8, help="seconds between one draft and the next APPEND"
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="cc-latency-"))
    raws = [path.read_bytes() for path in question_files()]
    processes: list[subprocess.Popen] = []
    with roles.fresh_database(args.database_url, workdir) as url, running_dovecot() as server:
        settings = Settings(
            var_dir=workdir / "var",
            database_url=url,
            broker_url=None if args.embedded else args.broker_url,
            task_queue=f"cc-latency-{uuid.uuid4().hex[:6]}",
            consult_address="consult@caseconsultant.example",
            imap_idle_check_seconds=0.5,
            **roles.reading(server),  # type: ignore[arg-type]
        )
        env = {
            **os.environ,
            **stack_env(settings),
            "CONSULTANT_LOG_LEVEL": "INFO",
            "CONSULTANT_LOG_DEBUG": "consultant.mail.imap_poller",  # when it heard the news
        }
        try:
            if not args.embedded:
                processes.append(roles.start("worker", [*WORKER, "--concurrency=2"], env, workdir))
                processes.append(roles.start("sender", [*SENDER, "--concurrency=1"], env, workdir))
            processes.append(roles.start("poller", POLLER, env, workdir))
            time.sleep(2)  # the poller's first pass and IDLE
            db = Database(url)
            totals, owns, unannounced, drafts = [], [], 0, []
            steps: dict[str, list[float]] = {"store": [], "queue": [], "process": []}
            appender = IMAPClient(server.host, port=server.port, ssl=False, timeout=30)
            appender.login(server.user, server.password)
            watcher = Watcher(server)
            for n in range(args.messages):
                time.sleep(args.gap)  # everyone back in IDLE, as between real messages
                marker = f"m{n}-{uuid.uuid4().hex[:8]}"
                watcher.announced.clear()
                sent = time.time()
                appender.append("INBOX", _message(raws[n % len(raws)], marker))
                times = _draft_stored(db, f"<{marker}@bench.example>")
                drafts.append(times)
                stored = times.drafted
                totals.append(stored - sent)
                # The poller can see a message before the server announces it (in the NOOP it
                # sends before IDLE); the server then announces nothing: no own part to take.
                if watcher.announced.wait(2):
                    owns.append(stored - watcher.at)
                    steps["store"].append(times.received - watcher.at)
                    steps["queue"].append(times.claimed - times.received)
                    steps["process"].append(times.drafted - times.claimed)
                else:
                    unannounced += 1
            watcher.close()
            appender.logout()
            db.dispose()
        finally:
            roles.stop(processes)
    heard = _poller_heard(workdir / "poller.log", drafts)

    def ms(value: float) -> str:
        return f"{value * 1000:.0f} ms"

    stack = "embedded (poller processes inline)" if args.embedded else "poller + worker on Redis"
    print(f"stack:      {stack}, {url.split(':')[0]}")
    print(f"messages:   {len(totals)}, one at a time")
    print(
        f"total:      p50 {ms(statistics.median(totals))}, p95 {ms(_percentile(totals, 0.95))}, "
        f"max {ms(max(totals))}  (APPEND to draft stored)"
    )
    print(
        f"own part:   p50 {ms(statistics.median(owns))}, p95 {ms(_percentile(owns, 0.95))}, "
        f"max {ms(max(owns))}  (server's announcement to draft stored)"
    )
    for name, what in (
        ("store", "announcement to the poller's row (fetch, parse headers, INSERT)"),
        ("queue", "row to claimed (commit, queue, a worker takes the task, the claim)"),
        ("process", "claimed to draft stored (analysis, case, draft, acknowledgment)"),
    ):
        values = steps[name]
        print(
            f"  {name + ':':<9} p50 {ms(statistics.median(values))}, "
            f"p95 {ms(_percentile(values, 0.95))}, first {ms(values[0])}  ({what})"
        )
    if heard:
        print(
            f"from the poller's news: p50 {ms(statistics.median(heard))}, "
            f"p95 {ms(_percentile(heard, 0.95))}, max {ms(max(heard))}, first {ms(heard[0])}  "
            f"({len(heard)} messages it heard of in IDLE)"
        )
    print(f"first:      own part {ms(owns[0])}, total {ms(totals[0])}")
    print(f"unannounced: {unannounced} (taken by the poller before the server told anyone)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
