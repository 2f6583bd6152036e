"""Question to draft on the 1,000-message corpus: analysis, then facts and rendering.

Loads ICD-10-CM (from the package), HCPCS 2020 and the constructed NCCI, MUE,
add-on and PFS files (made-up values: never shown as real) into a new SQLite
file, parses every message of ../shared/corpus/bench/corpus-1000.mbox (not
timed), then times per message: the new text and its analysis; the facts
looked up, the rules run and the draft rendered. Prints means, p99s and the total.

usage: .venv/bin/python bench/bench_drafting.py [--database-url URL]
"""

from __future__ import annotations

import argparse
import mailbox
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from config import Settings  # noqa: E402
from consultant.analysis.analyze import analyze  # noqa: E402
from consultant.analysis.phi import redact  # noqa: E402
from consultant.cases.answering import known_in  # noqa: E402
from consultant.codes.importers import importer_for  # noqa: E402
from consultant.codes.importers.icd10cm import default_tabular  # noqa: E402
from consultant.codes.importing import import_release  # noqa: E402
from consultant.db import upgrade  # noqa: E402
from consultant.drafting.draft import make_draft  # noqa: E402
from consultant.drafting.facts import gather  # noqa: E402
from consultant.mail.parse import parse_message  # noqa: E402
from consultant.services import build_services  # noqa: E402

DATA = REPO.parent / "shared" / "data"
CODE_FILES = [
    ("icd10cm", None),
    ("hcpcs", DATA / "cms" / "2020-Alpha-Numeric-HCPCS-File.zip"),
    ("ncci-ptp", DATA / "constructed" / "ccipra-v323r0-f1.TXT"),
    ("mue", DATA / "constructed" / "MCR_MUE_PractitionerServices_Eff_10-01-2026.csv"),
    ("aoc", DATA / "constructed" / "AOC_V2026Q4-MCR.txt"),
    ("pfs", DATA / "constructed" / "PPRRVU2026_Oct_nonQPP.csv"),
]
TODAY = date(2026, 11, 2)


def _summary(name: str, micros: list[float]) -> str:
    ordered = sorted(micros)
    p99 = ordered[int(len(ordered) * 0.99)]
    return f"{name:<22} mean {statistics.mean(micros):7.0f} us   p99 {p99:7.0f} us"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a new SQLite file in a temp dir")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cc-bench-draft-"))
    url = args.database_url or f"sqlite:///{work / 'codes.db'}"
    upgrade(url)
    settings = Settings(var_dir=work / "var", database_url=url)
    services = build_services(settings)
    for kind, path in CODE_FILES:
        import_release(services.db, importer_for(kind), [path or default_tabular()])

    box = mailbox.mbox(REPO.parent / "shared" / "corpus" / "bench" / "corpus-1000.mbox")
    messages = [parse_message(box.get_bytes(key)) for key in box.iterkeys()]
    lookup = services.lookup
    known = known_in(lookup)

    analysis_us: list[float] = []
    drafting_us: list[float] = []
    for _ in range(2):  # the first round warms caches; the second is the one reported
        analysis_us.clear()
        drafting_us.clear()
        for parsed in messages:
            started = time.perf_counter()
            text = parsed.question_text(settings.consult_address)
            analysis = analyze(parsed.subject, text, known, TODAY)
            middle = time.perf_counter()
            facts = gather(analysis, lookup, TODAY)
            make_draft(
                services.renderer,
                analysis,
                facts,
                requester_name=parsed.from_name,
                subject=redact(parsed.subject),
                reference="CC-000001",
                question=redact(text),
                attachments=[a.filename for a in parsed.attachments],
                display_name=settings.display_name,
            )
            ended = time.perf_counter()
            analysis_us.append((middle - started) * 1e6)
            drafting_us.append((ended - middle) * 1e6)
    total = (sum(analysis_us) + sum(drafting_us)) / 1e6
    print(f"database: {url.split(':')[0]}, {len(messages)} messages")
    print(_summary("question + analysis", analysis_us))
    print(_summary("facts, rules, rendering", drafting_us))
    print(f"1,000 messages to drafts: {total:.2f} s on one core")
    services.db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
