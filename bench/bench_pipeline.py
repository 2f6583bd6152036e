"""Throughput of the spine on the 1,000-message corpus, with loss and duplicate checks.

Stores ../shared/corpus/bench/corpus-1000.mbox through the intake in batches
(as the poller does), processes every message in-process (parse, route, case,
draft, acknowledgment to the Maildir outbox), then delivers 50 of them again.
Prints messages per second, milliseconds per message, peak memory, and checks
that every message ended in exactly one case: replies in their thread's case,
the rest in a case of their own, nothing stored twice, every attachment named,
every Windows path kept byte for byte.

usage: .venv/bin/python bench/bench_pipeline.py [--database-url URL] [--batch 50]
"""

from __future__ import annotations

import argparse
import json
import mailbox
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from config import Settings  # noqa: E402
from consultant.db import upgrade  # noqa: E402
from consultant.mail.intake import FetchedMessage, Intake  # noqa: E402
from consultant.models import Case, CaseEvent, InboundMessage, OutboundMessage  # noqa: E402
from consultant.services import build_services  # noqa: E402

BENCH = REPO.parent / "shared" / "corpus" / "bench"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a new SQLite file in a temp dir")
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="cc-bench-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    upgrade(url)
    settings = Settings(
        var_dir=workdir / "var",
        database_url=url,
        consult_address="consult@caseconsultant.example",
    )
    services = build_services(settings)
    intake = Intake(services.db, services.dispatch)

    box = mailbox.mbox(BENCH / "corpus-1000.mbox", create=False)
    raws = [box.get_bytes(key) for key in box.iterkeys()]
    meta = json.loads((BENCH / "corpus-1000.json").read_text())
    assert len(raws) == len(meta) == 1000

    started = time.perf_counter()
    for start in range(0, len(raws), args.batch):
        batch = raws[start : start + args.batch]
        intake.store("bench", [FetchedMessage(raw=raw) for raw in batch])
    elapsed = time.perf_counter() - started

    again = random.Random(7).sample(raws, 50)
    redelivered = intake.store("bench", [FetchedMessage(raw=raw) for raw in again])

    with services.db.session() as session:
        rows = {m.message_id: m for m in session.scalars(select(InboundMessage))}
        cases = session.scalar(select(func.count(Case.id)))
        acks = session.scalar(
            select(func.count(OutboundMessage.id)).where(OutboundMessage.state == "sent")
        )
        attachments = {
            e.details["message_id"]: e.details.get("attachments", [])
            for e in session.scalars(
                select(CaseEvent).where(CaseEvent.kind.in_(["received", "follow_up_received"]))
            )
        }
        problems = _check(meta, raws, rows, attachments)
        statuses = dict(
            session.execute(select(Case.status, func.count(Case.id)).group_by(Case.status)).all()
        )

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    threads = len({m["thread_root"] for m in meta})
    print(f"database:            {settings.database_url.split(':')[0]}")
    print(f"messages:            {len(raws)} in {elapsed:.2f} s")
    print(
        f"throughput:          {len(raws) / elapsed:.0f} messages/s "
        f"({1000 * elapsed / len(raws):.2f} ms per message, intake to acknowledgment sent)"
    )
    print(f"cases:               {cases} (threads in the corpus: {threads}) {statuses}")
    print(f"acknowledgments:     {acks}")
    print(f"redelivered 50:      {len(redelivered)} stored again")
    print(f"peak memory:         {peak_mb:.0f} MB")
    print(f"problems:            {len(problems)}")
    for problem in problems[:20]:
        print(f"  - {problem}")
    services.db.dispose()
    return 1 if problems or redelivered or cases != threads else 0


def _check(
    meta: list[dict[str, Any]],
    raws: list[bytes],
    rows: dict[str | None, InboundMessage],
    attachments: dict[str, list[str]],
) -> list[str]:
    problems = []
    case_of_root: dict[int, int] = {}
    for item, raw in zip(meta, raws, strict=True):
        row = rows.get(item["message_id"])
        if row is None:
            problems.append(f"{item['message_id']} was not stored")
            continue
        if row.raw != raw:
            problems.append(f"{item['message_id']} bytes changed")
        if row.case_id is None:
            problems.append(f"{item['message_id']} has no case ({row.route}: {row.error})")
            continue
        expected = case_of_root.setdefault(item["thread_root"], row.case_id)
        if row.case_id != expected:
            problems.append(f"{item['message_id']} is not in its thread's case")
        if item["reply"] != (row.route == "follow_up"):
            problems.append(f"{item['message_id']} routed {row.route}")
        if item["attachment"] and not attachments.get(item["message_id"]):
            problems.append(f"{item['message_id']} lost its attachment name")
    return problems


if __name__ == "__main__":
    sys.exit(main())
