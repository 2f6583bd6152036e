"""Server time of the queue, search and case pages with 100,000 cases, on PostgreSQL and SQLite.

Fills a new database with realistic rows in bulk: the 1,000 questions of
../shared/corpus/bench/corpus-1000.mbox (parsed and analysed once) spread over
100,000 cases with the statuses, ages, assignees and claims of a year's work,
each with its message, draft, timeline and search text as processing writes
them. Then, signed in through the Flask test client, requests each page
again and again and prints p50/p95 of the time the app took to answer:

  queue      the default view (open work, oldest first), a filtered view,
             a late page of "all", the ignored mail
  search     a code (20956, E11.9) and words
  case page  GET /cases/<ref> of random cases

Targets: queue and search under 100 ms, case page under 50 ms.

usage: .venv/bin/python bench/bench_queue.py [--cases 100000] [--runs 40]
       [--postgres-url postgresql://postgres@127.0.0.1:5432/postgres] [--only sqlite|postgresql]
       [--keep]
"""

from __future__ import annotations

import argparse
import hashlib
import mailbox
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import insert, text

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from config import Settings  # noqa: E402
from consultant.analysis.analyze import analyze  # noqa: E402
from consultant.cases.search_index import IndexedMessage  # noqa: E402
from consultant.db import Database, upgrade  # noqa: E402
from consultant.mail.parse import ParseLimits, parse_message  # noqa: E402
from consultant.models import (  # noqa: E402
    Case,
    CaseEvent,
    CaseSearch,
    Draft,
    InboundMessage,
    Role,
    User,
)
from consultant.services import build_services  # noqa: E402
from consultant.users import create_user  # noqa: E402
from consultant.web import create_app  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus" / "bench" / "corpus-1000.mbox"
NOW = datetime.now(UTC)
BATCH = 5_000
PASSWORD = "a long bench password"
REVIEWERS = [f"expert{n}@clinic.example" for n in range(1, 7)]
# status, share of the cases, how far back their waiting started (days)
STATUSES = [
    ("sent", 0.80, 365),
    ("rejected", 0.04, 365),
    ("ignored", 0.03, 365),
    ("awaiting_review", 0.09, 12),
    ("failed", 0.01, 30),
    ("approved", 0.01, 1),
    ("sending", 0.01, 1),
    ("received", 0.01, 1),
]
TARGETS = {"queue": 100.0, "search": 100.0, "case page": 50.0}


def corpus() -> list[dict[str, Any]]:
    """The bench corpus as processing would index it: subject, sender, text, codes, topics."""
    box = mailbox.mbox(CORPUS, create=False)
    limits = ParseLimits()
    questions = []
    for key in box.iterkeys():
        parsed = parse_message(box.get_bytes(key), limits)
        analysis = analyze(parsed.subject, parsed.new_text)
        questions.append(
            {
                "subject": parsed.subject,
                "name": parsed.from_name or None,
                "address": parsed.from_address or None,
                "text": parsed.text,
                "codes": list(dict.fromkeys(c.code for c in analysis.codes)),
                "topics": list(analysis.topics),
                "attachments": [a.filename for a in parsed.attachments],
                "analysis": analysis.as_json(),
            }
        )
    return questions


def _status(rng: random.Random) -> tuple[str, int]:
    pick, total = rng.random(), 0.0
    for status, share, days in STATUSES:
        total += share
        if pick < total:
            return status, days
    return STATUSES[0][0], STATUSES[0][2]


def rows(
    count: int, questions: list[dict[str, Any]], user_ids: list[int], seed: int = 7
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Batches of rows per table, in insertion order (cases before what refers to them)."""
    rng = random.Random(seed)
    for start in range(1, count + 1, BATCH):
        cases, searches, messages, drafts, events = [], [], [], [], []
        for case_id in range(start, min(start + BATCH, count + 1)):
            q = questions[rng.randrange(len(questions))]
            status, days = _status(rng)
            waiting = NOW - timedelta(seconds=rng.randrange(60, days * 86_400))
            claimed = status == "awaiting_review" and rng.random() < 0.15
            cases.append(
                {
                    "id": case_id,
                    "reference": f"CC-{case_id:06d}",
                    "requester_address": q["address"],
                    "requester_name": q["name"],
                    "subject": q["subject"],
                    "status": status,
                    "phi_flagged": rng.random() < 0.08,
                    "thread_message_ids": [],
                    "assignee_id": rng.choice(user_ids) if rng.random() < 0.3 else None,
                    "created_at": waiting - timedelta(seconds=20),
                    "updated_at": waiting + timedelta(hours=rng.randrange(1, 30)),
                    "waiting_since": waiting,
                    "claimed_by": rng.choice(REVIEWERS) if claimed else None,
                    "claimed_at": NOW - timedelta(minutes=10) if claimed else None,
                    "claim_expires_at": NOW + timedelta(minutes=20) if claimed else None,
                    "codes": " ".join(q["codes"]),
                    "topics": " ".join(q["topics"]),
                    "attachment_count": len(q["attachments"]),
                }
            )
            message = IndexedMessage(
                subject=q["subject"],
                sender=" ".join(p for p in (q["name"], q["address"]) if p),
                text=q["text"],
                attachments=q["attachments"],
                codes=q["codes"],
                topics=q["topics"],
            )
            searches.append({"case_id": case_id, "document": message.document_part()})
            raw = f"Subject: {q['subject']}\n\n{q['text']}".encode()
            messages.append(
                {
                    "id": case_id,
                    "mailbox": "INBOX",
                    "dedup_key": f"bench-{case_id}",
                    "message_id": f"<{case_id}.{uuid.uuid4().hex[:8]}@bench.example>",
                    "sha256": hashlib.sha256(raw).hexdigest(),
                    "raw": raw,
                    "size": len(raw),
                    "received_at": waiting - timedelta(seconds=30),
                    "processed_at": waiting - timedelta(seconds=25),
                    "route": "ignored" if status == "ignored" else "new_case",
                    "route_reason": "auto-reply" if status == "ignored" else None,
                    "from_address": q["address"],
                    "subject": q["subject"],
                    "text": q["text"],
                    "attachments": [
                        {"index": i, "filename": n, "content_type": "application/pdf", "size": 1}
                        for i, n in enumerate(q["attachments"])
                    ],
                    "case_id": case_id,
                    "unfinished_runs": 0,
                    "restarts": 0,
                }
            )
            body = f"Dear colleague,\n\nAbout {q['subject']}:\n\n" + q["text"][:1200]
            drafts.append(
                {
                    "case_id": case_id,
                    "version": 1,
                    "body_text": body,
                    "body_html": f"<p>{body}</p>",
                    "template": "answer",
                    "facts": {"analysis": q["analysis"], "phi_kinds": []},
                    "author": "system",
                    "inbound_message_id": case_id,
                    "created_at": waiting,
                }
            )
            for kind, details in (
                ("received", {"inbound_id": case_id, "sender": q["address"]}),
                ("status", {"from": "received", "to": "analyzing"}),
                ("draft_created", {"version": 1, "template": "answer"}),
                ("status", {"from": "analyzing", "to": "awaiting_review"}),
                ("ack_queued", {"kind": "ack"}),
            ):
                events.append(
                    {
                        "case_id": case_id,
                        "at": waiting,
                        "actor": "system",
                        "kind": kind,
                        "details": details,
                    }
                )
        yield "case", cases
        yield "case_search", searches
        yield "inbound_message", messages
        yield "draft", drafts
        yield "case_event", events


TABLES = {
    "case": Case,
    "case_search": CaseSearch,
    "inbound_message": InboundMessage,
    "draft": Draft,
    "case_event": CaseEvent,
}


def fill(url: str, count: int, questions: list[dict[str, Any]]) -> float:
    """Migrate ``url`` and fill it; returns the seconds it took."""
    started = time.perf_counter()
    upgrade(url)
    database = Database(url)
    for email in REVIEWERS:
        create_user(database, email, PASSWORD, Role.REVIEWER)
    with database.session() as session:
        user_ids = [u.id for u in session.query(User).order_by(User.id)]
    done = 0
    for table, batch in rows(count, questions, user_ids):
        with database.engine.begin() as connection:
            connection.execute(insert(TABLES[table]), batch)
        if table == "case":
            done += len(batch)
            print(f"\r  {done:,} cases", end="", flush=True)
    print()
    with database.engine.connect() as connection:
        if database.engine.dialect.name == "postgresql":
            connection.execute(text("SELECT setval('case_id_seq', :n)"), {"n": count})
            connection.commit()
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM ANALYZE")
            )
        else:
            connection.execute(text("ANALYZE"))
            connection.commit()
    database.dispose()
    return time.perf_counter() - started


def sign_in(client: Any) -> None:
    login = client.get("/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', login)
    assert match, "no CSRF token on the login page"
    response = client.post(
        "/login",
        data={"csrf_token": match.group(1), "email": REVIEWERS[0], "password": PASSWORD},
        headers={"Referer": "http://localhost/login"},
    )
    assert response.status_code == 302, response.status_code


def timed(client: Any, paths: list[str], runs: int) -> tuple[float, float]:
    """p50 and p95 in milliseconds of GET ``paths`` (cycled), after two warm-up rounds."""
    for path in paths[:2] * 2:
        client.get(path)
    times = []
    for n in range(runs):
        path = paths[n % len(paths)]
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    times.sort()
    return statistics.median(times), times[max(int(len(times) * 0.95) - 1, 0)]


def measure(url: str, count: int, runs: int, workdir: Path) -> list[tuple[str, str, float, float]]:
    settings = Settings(
        var_dir=workdir / "var",
        database_url=url,
        consult_address="consult@caseconsultant.example",
        secret_key="bench secret key, not for production",
    )
    services = build_services(settings)
    client = create_app(services).test_client()
    sign_in(client)
    rng = random.Random(11)
    cases = [f"/cases/CC-{rng.randrange(1, count + 1):06d}" for _ in range(runs)]
    late = max(count // 50 - 2, 1)
    scenarios = [
        ("queue", "default view (open, oldest first)", ["/"]),
        ("queue", "filtered (overdue, modifier topic)", ["/?overdue=1&topic=modifier"]),
        ("queue", "filtered (mine, sorted by requester)", ["/?mine=1&sort=requester"]),
        ("queue", f"late page ({late} of all)", [f"/?status=all&page={late}"]),
        ("queue", "ignored mail", ["/?status=ignored&page=3"]),
        ("search", "a code: 20956", ["/?status=all&q=20956"]),
        ("search", "a code: E11.9", ["/?status=all&q=E11.9"]),
        ("search", "words: modifier bundled", ["/?status=all&q=modifier+bundled"]),
        ("search", "a common word: knee", ["/?status=all&q=knee"]),
        ("case page", "GET /cases/<ref>", cases),
    ]
    results = []
    for kind, name, paths in scenarios:
        p50, p95 = timed(client, paths, runs)
        results.append((kind, name, p50, p95))
    services.db.dispose()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--keep", action="store_true", help="keep the databases to look into")
    args = parser.parse_args()

    print(f"parsing and analysing {CORPUS.name} ...")
    questions = corpus()
    workdir = Path(tempfile.mkdtemp(prefix="cc-bench-queue-"))
    failed = False
    for kind in ("sqlite", "postgresql"):
        if args.only and kind != args.only:
            continue
        name = f"cc_bench_queue_{uuid.uuid4().hex[:8]}"
        if kind == "sqlite":
            url = f"sqlite:///{workdir / 'bench.db'}"
        else:
            with psycopg.connect(args.postgres_url, autocommit=True) as connection:
                connection.execute(f'CREATE DATABASE "{name}"')
            url = f"{args.postgres_url.rsplit('/', 1)[0]}/{name}"
        try:
            print(f"{kind}: filling {args.cases:,} cases ...")
            seconds = fill(url, args.cases, questions)
            print(f"{kind}: filled in {seconds:.0f} s; {args.runs} requests per row")
            print(f"  {'page':<10} {'what':<40} {'p50 ms':>8} {'p95 ms':>8}  target")
            for page, what, p50, p95 in measure(url, args.cases, args.runs, workdir):
                target = TARGETS[page]
                verdict = "ok" if p95 < target else "OVER"
                failed = failed or p95 >= target
                print(f"  {page:<10} {what:<40} {p50:8.1f} {p95:8.1f}  <{target:.0f} {verdict}")
        finally:
            if args.keep:
                print(f"{kind}: kept {url}")
            elif kind == "postgresql":
                with psycopg.connect(args.postgres_url, autocommit=True) as connection:
                    connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
