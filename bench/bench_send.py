"""Sending throughput: approved replies through the outbox to a local SMTP server, each once.

Files the 1,000-message benchmark corpus (processing in-process, nothing
sent), has an expert approve a reply on every case, then sends the queued
replies and measures replies per second, in this one process one reply at
a time (``send_reply``, what an approval starts) and in batches
(``send_replies``, what a batch of processing and the sweep start), and
then, with ``--broker-url``, in batches through the Procfile's ``sender`` (a
real Celery worker on Redis). An aiosmtpd server on this machine receives
them; every Message-ID must arrive exactly once.

usage: .venv/bin/python bench/bench_send.py [--replies 1000] [--database-url URL]
       [--broker-url redis://127.0.0.1:6379/0] [--concurrency 2] [--batch 50]
"""

from __future__ import annotations

import argparse
import mailbox
import os
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

from config import Settings  # noqa: E402
from consultant.cases.outbox import send_outbound  # noqa: E402
from consultant.cases.send_batches import send_outbounds  # noqa: E402
from consultant.dispatch import make_dispatcher  # noqa: E402
from consultant.jobs import run_job  # noqa: E402
from consultant.mail.intake import FetchedMessage, Intake  # noqa: E402
from consultant.models import Case, OutboundMessage, OutboundState  # noqa: E402
from consultant.services import Services, build_services  # noqa: E402
from tests.support.cases import answer_and_approve  # noqa: E402
from tests.support.required import free_port  # noqa: E402
from tests.support.smtp import ClosingController, RecordingHandler, SmtpServer  # noqa: E402
from tests.support.stack import stack_env  # noqa: E402

BENCH = REPO.parent / "shared" / "corpus" / "bench"


class Collecting:
    """Processes inline, and keeps every send for later instead of sending it."""

    def __init__(self) -> None:
        self.services: Services | None = None
        self.sends: list[int] = []

    def bind(self, services: Services) -> None:
        self.services = services

    def __call__(self, task: str, row_id: int) -> None:
        if task == "send_reply":
            self.sends.append(row_id)
            return
        assert self.services is not None
        run_job(self.services, task, row_id)


def _prepare(settings: Settings, replies: int) -> list[int]:
    """File the corpus and approve a reply on ``replies`` cases (at most one a case); the
    replies' outbox ids."""
    collecting = Collecting()
    services = build_services(settings, dispatch=collecting)
    box = mailbox.mbox(BENCH / "corpus-1000.mbox", create=False)
    raws = [box.get_bytes(key) for key in box.iterkeys()]
    intake = Intake(services.db, services.dispatch)
    for start in range(0, len(raws), 50):
        intake.store("bench", [FetchedMessage(raw=raw) for raw in raws[start : start + 50]])
    with services.db.read_session() as session:
        references = list(session.scalars(select(Case.reference).order_by(Case.id)))
    ids = [answer_and_approve(services, reference) for reference in references[:replies]]
    services.db.dispose()
    return ids


def _sent_once(services: Services, server: SmtpServer, ids: list[int]) -> tuple[int, int]:
    with services.db.read_session() as session:
        message_ids = set(
            session.scalars(select(OutboundMessage.message_id).where(OutboundMessage.id.in_(ids)))
        )
        sent = session.scalar(
            select(func.count(OutboundMessage.id)).where(
                OutboundMessage.id.in_(ids), OutboundMessage.state == OutboundState.SENT
            )
        )
    counts = server.deliveries()
    twice = sum(1 for m in message_ids if counts.get(m, 0) > 1)
    missing = sum(1 for m in message_ids if counts.get(m, 0) == 0)
    assert sent is not None
    return sent, twice + missing


def _in_process(settings: Settings, server: SmtpServer, ids: list[int], batch: int) -> None:
    """Send ``ids`` in this process: one at a time when ``batch`` is 1, else in batches."""
    services = build_services(settings)
    started = time.perf_counter()
    if batch == 1:
        for outbound_id in ids:
            send_outbound(services, outbound_id)
    else:
        for start in range(0, len(ids), batch):
            send_outbounds(services, ids[start : start + batch])
    elapsed = time.perf_counter() - started
    sent, wrong = _sent_once(services, server, ids)
    services.transport.close()  # type: ignore[attr-defined]
    services.db.dispose()
    how = "one at a time" if batch == 1 else f"in batches of {batch}"
    print(
        f"in one process, {how}: {sent} replies in {elapsed:.2f} s = {sent / elapsed:.0f}/s "
        f"(sent twice or never: {wrong})"
    )


def _through_sender(
    settings: Settings,
    server: SmtpServer,
    ids: list[int],
    concurrency: int,
    batch: int,
    workdir: Path,
) -> None:
    env = {**os.environ, **stack_env(settings), "CONSULTANT_LOG_LEVEL": "INFO"}
    log = workdir / "sender.log"
    command = [sys.executable, "-m", "celery", "-A", "workers.sender_app", "worker"]
    command += [f"--concurrency={concurrency}", "--loglevel=INFO"]
    process = subprocess.Popen(command, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while "ready." not in log.read_text():
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit(f"the sender did not start:\n{log.read_text()}")
            time.sleep(0.1)
        time.sleep(2)  # the pool's warm-up
        services = build_services(settings)
        dispatch = make_dispatcher(settings)
        dispatch.bind(services)
        started = time.perf_counter()
        for start in range(0, len(ids), batch):
            dispatch("send_replies", ids[start : start + batch])
        while _sent_once(services, server, ids)[0] < len(ids):
            if time.perf_counter() - started > 600:
                raise SystemExit("the sender did not finish in 10 minutes")
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        sent, wrong = _sent_once(services, server, ids)
        services.db.dispose()
    finally:
        process.terminate()
        process.wait(timeout=60)
    print(
        f"through the sender, in batches of {batch}: {sent} replies in {elapsed:.2f} s = "
        f"{sent / elapsed:.0f}/s (Celery worker, {concurrency} processes; "
        f"sent twice or never: {wrong})"
    )


def _run(args: argparse.Namespace, url: str, server: SmtpServer, workdir: Path) -> None:
    base = {
        "var_dir": workdir / "var",
        "database_url": url,
        "consult_address": "consult@caseconsultant.example",
        "send_acknowledgments": False,
    }
    ids = _prepare(Settings(**base), args.replies)  # type: ignore[arg-type]
    print(f"database:            {url.split(':')[0]}; {len(ids)} approved replies queued")
    smtp = {"smtp_host": "127.0.0.1", "smtp_port": server.port, "smtp_tls": "none"}
    parts = 3 if args.broker_url else 2
    share = len(ids) // parts
    one, batched, rest = ids[:share], ids[share : 2 * share], ids[2 * share :]
    if not args.broker_url:
        batched, rest = batched + rest, []
    in_process = Settings(**base, **smtp)  # type: ignore[arg-type]
    _in_process(in_process, server, one, 1)
    _in_process(in_process, server, batched, args.batch)
    if args.broker_url:
        queue = f"cc-send-{uuid.uuid4().hex[:6]}"
        broker = {"broker_url": args.broker_url, "task_queue": queue}
        settings = Settings(**base, **smtp, **broker)  # type: ignore[arg-type]
        try:
            _through_sender(settings, server, rest, args.concurrency, args.batch, workdir)
        finally:
            redis.Redis.from_url(args.broker_url).delete(queue, f"{queue}.send")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=1000)
    parser.add_argument(
        "--database-url", help="a PostgreSQL server to make a database on; default: SQLite"
    )
    parser.add_argument("--broker-url", help="also send through a real sender worker")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="cc-send-"))
    handler = RecordingHandler()
    port = free_port()
    controller = ClosingController(handler, hostname="127.0.0.1", port=port)
    controller.start()
    server = SmtpServer("127.0.0.1", port, handler)
    try:
        with roles.fresh_database(args.database_url, workdir) as url:
            _run(args, url, server, workdir)
    finally:
        controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
