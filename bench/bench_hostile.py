"""What one hostile message costs: processing time and peak memory, and its case page.

    .venv/bin/python bench/bench_hostile.py [--database-url URL]

(with a PostgreSQL URL, each case gets a database of its own on that server)

Each case runs in a process of its own (peak RSS is that process's own
VmHWM), on a fresh database (SQLite by default) with the constructed NCCI
PTP file loaded, processing in-process as the embedded default does:

- 10 MB of HTML: processing, then the case page viewed 5 times (median);
- a question listing 1,000 distinct CPT-shaped codes (every pair would be
  ~500,000 PTP lookups before the caps);
- 60,000 code-like tokens;
- a 30 MB attachment;
- MIME nested 1,000 deep.

Before this issue: 10 MB of HTML took ~0.9 GB in the worker and 19 s per view
of its case page; 1,000 codes took 53 s; 60,000 tokens ran past 120 s.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CASES = ("html-10mb", "codes-1000", "tokens-60000", "attachment-30mb", "mime-1000-deep")
HEADERS = (
    b"From: Amy Park <apark@cedarortho.example>\r\nTo: consult@caseconsultant.example\r\n"
    b"Message-ID: <hostile@cedarortho.example>\r\n"
)


def _message(name: str) -> bytes:
    rng = random.Random(7)
    if name == "html-10mb":
        row = b"<tr><td>99213</td><td>office visit, established patient</td></tr>\n"
        table = row * (10_000_000 // len(row))
        return (
            HEADERS + b"Subject: fee table\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
            b"<html><body><p>Can I bill 99213-25 with 11102?</p><table>"
            + table
            + b"</table></body></html>\r\n"
        )
    if name == "codes-1000":
        codes = ", ".join(str(10000 + 37 * i) for i in range(1000))
        return HEADERS + f"Subject: bundle?\r\n\r\nCan these go together: {codes}?\r\n".encode()
    if name == "tokens-60000":
        shapes = ("{:05d}", "E{:02d}.9", "J{:04d}", "A{:02d}")
        tokens = " ".join(rng.choice(shapes).format(rng.randint(10, 9999)) for _ in range(60_000))
        return HEADERS + f"Subject: list\r\n\r\n{tokens}\r\n".encode()
    if name == "attachment-30mb":
        scan = base64.encodebytes(rng.randbytes(22_500_000))
        return (
            HEADERS + b"Subject: op note\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; "
            b'boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n29880 with 29877?\r\n'
            b'--b\r\nContent-Type: application/pdf; name="op.pdf"\r\n'
            b"Content-Transfer-Encoding: base64\r\n\r\n" + scan + b"\r\n--b--\r\n"
        )
    parts = [HEADERS + b"Subject: deep\r\n"]
    for level in range(1000):
        parts.append(
            b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (level, level)
        )
    parts.append(b"Content-Type: text/plain\r\n\r\n99213 with 25?\r\n")
    parts.extend(b"--b%d--\r\n" % level for level in reversed(range(1000)))
    return b"".join(parts)


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _fresh_database(server_url: str) -> str:
    """A new, empty PostgreSQL database on the server of ``server_url``."""
    import psycopg

    name = f"cc_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"{server_url.rsplit('/', 1)[0]}/{name}"


def _drop_database(server_url: str, url: str) -> None:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def run_one(name: str, database_url: str | None) -> dict[str, object]:
    """One case in this process: load the PTP file, process the message, view its page."""
    from config import Settings
    from consultant.codes.importers import importer_for
    from consultant.codes.importing import import_release
    from consultant.db import upgrade
    from consultant.services import build_services
    from consultant.users import create_user
    from consultant.web import create_app
    from tests.support.cases import file_messages
    from tests.support.corpus import PTP_FILE

    var = Path(tempfile.mkdtemp(prefix="cc-hostile-"))
    url = _fresh_database(database_url) if database_url else f"sqlite:///{var / 'consultant.db'}"
    upgrade(url)
    services = build_services(
        Settings(var_dir=var, database_url=url, consult_address="consult@caseconsultant.example")
    )
    import_release(services.db, importer_for("ncci-ptp"), [PTP_FILE])
    raw = _message(name)
    before = _peak_mb()
    started = time.perf_counter()
    [inbound_id] = file_messages(services, raw)
    processing = time.perf_counter() - started
    peak = _peak_mb()
    create_user(services.db, "bench@example.com", "a long bench password", "reviewer")
    client = create_app(services).test_client()
    page = client.get("/login")
    token = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    client.post(
        "/login",
        data={
            "email": "bench@example.com",
            "password": "a long bench password",
            "csrf_token": token,
        },
        headers={"Referer": "http://localhost/login"},
    )
    views = []
    for _ in range(5):
        started = time.perf_counter()
        response = client.get("/cases/CC-000001")
        views.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    services.db.dispose()
    if database_url:
        _drop_database(database_url, url)
    return {
        "case": name,
        "message_mb": round(len(raw) / 1e6, 1),
        "processing_s": round(processing, 2),
        "peak_mb_before": round(before),
        "peak_mb": round(max(peak, _peak_mb())),
        "page_view_ms": round(statistics.median(views) * 1000, 1),
        "inbound_id": inbound_id,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--one", choices=CASES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.database_url)))
        return
    print(
        f"{'case':<18}{'size':>8}{'processing':>12}{'RSS before':>12}{'peak RSS':>10}"
        f"{'page view':>11}"
    )
    for name in CASES:
        command = [sys.executable, __file__, "--one", name]
        if args.database_url:
            command += ["--database-url", args.database_url]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        result = json.loads(out.strip().splitlines()[-1])
        print(
            f"{name:<18}{result['message_mb']:>6} MB{result['processing_s']:>10} s"
            f"{result['peak_mb_before']:>9} MB{result['peak_mb']:>7} MB"
            f"{result['page_view_ms']:>8} ms"
        )


if __name__ == "__main__":
    main()
