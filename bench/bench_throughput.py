"""Throughput from a loaded IMAP inbox: every message to a stored draft, every acknowledgment sent.

Starts a private Dovecot and an SMTP server (aiosmtpd) on this machine,
stages ``--messages`` corpus messages in a folder of their own (beyond the
1,000 of ../shared/corpus/bench/corpus-1000.mbox, copies with Message-IDs
and thread headers of their own), starts the Procfile's roles as processes
(the poller; with a broker, a Celery worker of ``--workers`` processes and
the sender), and once they are ready moves all the staged mail into the
inbox in one IMAP command. Measures from that moment:

- drafts: until every message is processed (its case, draft and
  acknowledgment stored in one transaction: the acknowledgment is queued);
- sent: until every acknowledgment was accepted by the SMTP server;

and the peak RSS (VmHWM) of the poller and of the worker's processes.
Checks that every message was stored and processed once, replies joined
their question's case, and every acknowledgment arrived exactly once.

usage: .venv/bin/python bench/bench_throughput.py [--messages 1000] [--workers 2]
       [--embedded] [--database-url URL] [--broker-url redis://127.0.0.1:6379/0]
"""

from __future__ import annotations

import argparse
import json
import mailbox
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import redis
from sqlalchemy import func, select

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import roles  # noqa: E402  (bench/roles.py, beside this script)
from roles import POLLER, SENDER, WORKER  # noqa: E402

from config import Settings  # noqa: E402
from consultant.db import Database  # noqa: E402
from consultant.models import Case, InboundMessage, OutboundMessage  # noqa: E402
from tests.support.dovecot import Dovecot, running_dovecot  # noqa: E402
from tests.support.required import free_port  # noqa: E402
from tests.support.smtp import ClosingController, RecordingHandler, SmtpServer  # noqa: E402
from tests.support.stack import stack_env  # noqa: E402

BENCH = REPO.parent / "shared" / "corpus" / "bench"
STAGED = "Staged"
THREAD_HEADERS = re.compile(
    rb"(?im)^(message-id|in-reply-to|references):[^\r\n]*(\r?\n[ \t][^\r\n]*)*"
)
MESSAGE_ID = re.compile(rb"<([^<>@\s]+)@")


def corpus(count: int) -> tuple[list[bytes], int]:
    """``count`` messages (the corpus, then renamed copies of it) and how many threads."""
    box = mailbox.mbox(BENCH / "corpus-1000.mbox", create=False)
    raws = [box.get_bytes(key) for key in box.iterkeys()]
    meta = json.loads((BENCH / "corpus-1000.json").read_text())
    threads = len({m["thread_root"] for m in meta})
    copies = [_copy(raws[n % len(raws)], n // len(raws)) for n in range(count)]
    whole, left = divmod(count, len(raws))
    partial = len({m["thread_root"] for m in meta[:left]})
    return copies, whole * threads + partial


def _copy(raw: bytes, k: int) -> bytes:
    """``raw`` with every id in its thread headers made its own for copy ``k`` (0: as it is)."""
    if k == 0:
        return raw
    end = raw.find(b"\r\n\r\n") if b"\r\n\r\n" in raw else raw.find(b"\n\n")
    head, body = raw[:end], raw[end:]

    def rename(header: re.Match[bytes]) -> bytes:
        return MESSAGE_ID.sub(lambda m: b"<" + m.group(1) + f".c{k}@".encode(), header.group(0))

    return THREAD_HEADERS.sub(rename, head) + body


def stage(server: Dovecot, raws: list[bytes]) -> None:
    with server.client() as client:
        client.create_folder(STAGED)
        for raw in raws:
            client.append(STAGED, raw)


def release(server: Dovecot) -> None:
    """Move every staged message into the inbox at once (one server-side command)."""
    with server.client() as client:
        client.select_folder(STAGED)
        client.move("1:*", "INBOX")  # a UID range: 20,000 UIDs are too long a command


def wait(db: Database, query: object, target: int, what: str, timeout: float) -> float:
    """Seconds until ``query`` counts ``target``; gives up after ``timeout``."""
    started = time.perf_counter()
    while True:
        with db.read_session() as session:
            found = session.scalar(query)  # type: ignore[call-overload]
        if found >= target:
            return time.perf_counter() - started
        if time.perf_counter() - started > timeout:
            raise SystemExit(f"{what}: {found} of {target} after {timeout:.0f} s")
        time.sleep(0.01)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2, help="worker processes (concurrency)")
    parser.add_argument("--embedded", action="store_true", help="no broker: the poller processes")
    parser.add_argument(
        "--database-url", help="a PostgreSQL server to make a database on; default: SQLite"
    )
    parser.add_argument("--broker-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="cc-throughput-"))
    raws, threads = corpus(args.messages)
    handler = RecordingHandler()
    smtp_port = free_port()
    controller = ClosingController(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    smtp = SmtpServer("127.0.0.1", smtp_port, handler)
    processes: list[subprocess.Popen] = []
    queue = f"cc-throughput-{uuid.uuid4().hex[:6]}"
    try:
        with roles.fresh_database(args.database_url, workdir) as url, running_dovecot() as server:
            stage(server, raws)
            settings = Settings(
                var_dir=workdir / "var",
                database_url=url,
                broker_url=None if args.embedded else args.broker_url,
                task_queue=queue,
                send_queue=f"{queue}.send",
                consult_address="consult@caseconsultant.example",
                # The copies repeat the corpus's senders: past the hourly limit they would
                # be held, unanswered, which is cheaper than the questions measured here.
                sender_hourly_limit=10 * args.messages,
                smtp_host="127.0.0.1",
                smtp_port=smtp_port,
                smtp_tls="none",
                **roles.reading(server),  # type: ignore[arg-type]
            )
            env = {**os.environ, **stack_env(settings), "CONSULTANT_LOG_LEVEL": "INFO"}
            worker = None
            if not args.embedded:
                worker = roles.start(
                    "worker", [*WORKER, f"--concurrency={args.workers}"], env, workdir
                )
                processes += [worker, roles.start("sender", SENDER, env, workdir)]
            poller = roles.start("poller", POLLER, env, workdir)
            processes.append(poller)
            time.sleep(3)  # the poller's first pass over the empty inbox, then IDLE
            db = Database(url)
            release(server)
            processed = select(func.count(InboundMessage.id)).where(
                InboundMessage.processed_at.is_not(None)
            )
            to_drafts = wait(db, processed, len(raws), "processed", args.timeout)
            with db.read_session() as session:
                acks = session.scalar(select(func.count(OutboundMessage.id))) or 0
            sent = select(func.count(OutboundMessage.id)).where(OutboundMessage.state == "sent")
            to_sent = wait(db, sent, acks, "acknowledgments sent", args.timeout) + to_drafts
            with db.read_session() as session:
                stored = session.scalar(select(func.count(InboundMessage.id)))
                cases = session.scalar(select(func.count(Case.id)))
                failed = session.scalar(
                    select(func.count(InboundMessage.id)).where(InboundMessage.route == "failed")
                )
            db.dispose()
            memory = {"poller": roles.peak_rss_mb(poller.pid)}
            if worker is not None:
                pool = roles.children(worker.pid)
                memory["worker"] = max(roles.peak_rss_mb(p) for p in [worker.pid, *pool])
    finally:
        roles.stop(processes)
        controller.stop()
        if not args.embedded:
            redis.Redis.from_url(args.broker_url).delete(queue, f"{queue}.send")

    deliveries = smtp.deliveries()
    problems = []
    if stored != len(raws):
        problems.append(f"{stored} stored, not {len(raws)}")
    if cases != threads:
        problems.append(f"{cases} cases for {threads} threads")
    if failed:
        problems.append(f"{failed} set aside as failed")
    if len(deliveries) != acks or set(deliveries.values()) != {1}:
        problems.append(f"{acks} acknowledgments, {sum(deliveries.values())} delivered")
    stack = "embedded (the poller processes)" if args.embedded else f"{args.workers} worker(s)"
    print(f"stack:        {stack}, {url.split(':')[0]}")
    print(
        f"drafts:       {len(raws)} messages in {to_drafts:.2f} s = "
        f"{len(raws) / to_drafts:.0f}/s (inbox to every draft stored, acknowledgment queued)"
    )
    print(f"sent:         {acks} acknowledgments, all accepted after {to_sent:.2f} s")
    print(f"cases:        {cases} (threads: {threads})")
    print("peak memory:  " + ", ".join(f"{k} {v:.0f} MB" for k, v in memory.items()))
    print(f"problems:     {len(problems)}")
    for problem in problems:
        print(f"  - {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
