"""CasePilot: the server time of an automatic answer, over the 1,000-message corpus.

Loads ICD-10-CM (from the package), HCPCS 2020 and the constructed NCCI, MUE,
add-on and PFS files (made-up values: never shown as real) into a new database,
makes a member, and asks each corpus message's new text as a question on the web
would (``POST /api/v1/ask`` through the Flask test client, with a member's
token), timing the whole request and the service's own ``elapsed_ms``
(analysis, facts, rules, answer, and the two transactions that check the
hourly limit and keep the turn). Prints p50, p95 and p99 of both. Target: an
automatic answer in under 100 ms server time.

usage: .venv/bin/python bench/bench_ask.py [--database-url URL] [--questions N]
"""

from __future__ import annotations

import argparse
import mailbox
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_drafting import CODE_FILES  # noqa: E402  (the same code data)

from config import Settings  # noqa: E402
from consultant import api_tokens  # noqa: E402
from consultant.codes.importers import importer_for  # noqa: E402
from consultant.codes.importers.icd10cm import default_tabular  # noqa: E402
from consultant.codes.importing import import_release  # noqa: E402
from consultant.db import upgrade  # noqa: E402
from consultant.mail.parse import parse_message  # noqa: E402
from consultant.models import Role  # noqa: E402
from consultant.services import build_services  # noqa: E402
from consultant.users import create_user  # noqa: E402
from consultant.web import create_app  # noqa: E402


def percentiles(name: str, values: list[float]) -> str:
    ordered = sorted(values)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))]

    return f"{name:<26} p50 {at(0.50):6.1f} ms   p95 {at(0.95):6.1f} ms   p99 {at(0.99):6.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a new SQLite file in a temp dir")
    parser.add_argument("--questions", type=int, default=1000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cc-bench-ask-"))
    url = args.database_url or f"sqlite:///{work / 'codes.db'}"
    upgrade(url)
    settings = Settings(var_dir=work / "var", database_url=url, ask_hourly_limit=100_000)
    services = build_services(settings)
    for kind, path in CODE_FILES:
        import_release(services.db, importer_for(kind), [path or default_tabular()])
    create_user(services.db, "bench@clinic.example", "a bench member password", Role.MEMBER)
    token = api_tokens.create(services.db, "bench@clinic.example", "bench").secret
    client = create_app(services).test_client()
    headers = {"Authorization": f"Bearer {token}"}

    box = mailbox.mbox(REPO.parent / "shared" / "corpus" / "bench" / "corpus-1000.mbox")
    questions = []
    for key in list(box.iterkeys())[: args.questions]:
        parsed = parse_message(box.get_bytes(key))
        text = parsed.question_text(settings.consult_address).strip()[:5000]
        if text:
            questions.append(text)

    for question in questions[:20]:  # warm the lookups' caches and the templates
        client.post("/api/v1/ask", json={"question": question}, headers=headers)
    request_ms: list[float] = []
    service_ms: list[float] = []
    for question in questions:
        started = time.perf_counter()
        response = client.post("/api/v1/ask", json={"question": question}, headers=headers)
        request_ms.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.get_json()
        service_ms.append(response.get_json()["elapsed_ms"])
    print(f"database: {url.split(':')[0]}, {len(questions)} questions asked over the API")
    print(percentiles("answer (service)", service_ms))
    print(percentiles("POST /api/v1/ask (whole)", request_ms))
    services.db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
