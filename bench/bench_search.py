"""Code search at full size, on SQLite and on PostgreSQL: p50, p95 and p99 by kind of query.

Loads the full ICD-10-CM (the April 2026 tabular shipped in ``simple-icd-10-cm``),
the real HCPCS Level II 2020 file (../shared/data) and a CONSTRUCTED ICD-10-PCS
order file of 78,000 codes (bench/constructed_pcs.py: made-up codes in the real
layout, written to a temporary directory, never kept) into a new SQLite file
and a new PostgreSQL database, about 184,000 codes and 369 modifiers. Then it
times ``search_codes`` (what the page and the API call, without HTTP) over
four kinds of query, each query run --rounds times after one warm-up round:
codes and their starts, words (whole and half-typed, as search-as-you-type
sends them), misspelt words, and searches filtered by code set and billable.

usage: .venv/bin/python bench/bench_search.py [--rounds 20]
         [--postgres postgresql://postgres@127.0.0.1:5432/test] [--keep]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import psycopg  # noqa: E402

from bench import constructed_pcs  # noqa: E402
from consultant.codes.importers import importer_for  # noqa: E402
from consultant.codes.importers.icd10cm import default_tabular  # noqa: E402
from consultant.codes.importing import import_release  # noqa: E402
from consultant.codes.readonly import Reader  # noqa: E402
from consultant.codes.search import CodeSet, search_codes  # noqa: E402
from consultant.db import Database, upgrade  # noqa: E402

HCPCS_ZIP = REPO.parent / "shared" / "data" / "cms" / "2020-Alpha-Numeric-HCPCS-File.zip"
ON = date(2026, 6, 1)
ICD, PCS, HCPCS, MODS = CodeSet.ICD10CM, CodeSet.ICD10PCS, CodeSet.HCPCS, CodeSet.MODIFIERS
Query = tuple[str, frozenset[CodeSet], bool]


def _plain(*queries: str) -> list[Query]:
    return [(q, frozenset(), False) for q in queries]


QUERIES: dict[str, list[Query]] = {
    "code prefix": _plain(
        "E11",
        "e11.9",
        "S52.5",
        "S52.521A",
        "M17.1",
        "Z79.4",
        "I10",
        "J1",
        "G0",
        "A4",
        "0DT",
        "0",
        "2",
        "25",
        "59",
        "E119",
        "K2",
        "R1",
        "0SR",
        "L8",
    ),
    "words": _plain(
        "diabetes",
        "diab",
        "type 2 diabetes mellitus with",
        "fracture radius",
        "fr",
        "fracture of right radius",
        "open approach",
        "right",
        "ri",
        "knee",
        "colonoscopy",
        "left side",
        "kidney disease",
        "hypertension",
        "pain in right knee",
        "excision of left",
        "drainage device",
        "insulin",
        "wheelchair",
        "injection",
        "kimmelstiel",
        "xs",
        "osteoarthritis knee",
        "bypass coronary artery",
        "screening mammography",
        "of",
        "a",
    ),
    "typo'd words": _plain(
        "diabetis mellitus",
        "fractre radius",
        "colonoscpy",
        "hypertenson",
        "osteoarthritus knee",
        "pnuemonia",
        "apendicitis",
        "excison of left",
        "percutanous approach",
        "insulin pumpp",
        "wheelchiar",
        "astma",
        "migrane",
        "arthroscpy knee",
        "diabetis",
        "fractre of rigth radius",
    ),
    "filtered": [
        ("diabetes", frozenset({ICD}), True),
        ("fracture radius", frozenset({ICD}), True),
        ("right", frozenset({PCS}), True),
        ("colonoscopy", frozenset({HCPCS}), True),
        ("left side", frozenset({MODS}), False),
        ("E11", frozenset({ICD}), True),
        ("0DT", frozenset({PCS}), True),
        ("open approach", frozenset({PCS, HCPCS}), True),
        ("injection", frozenset({HCPCS}), True),
        ("wheelchair", frozenset({HCPCS, MODS}), True),
        ("knee", frozenset(), True),
        ("diabetis", frozenset({ICD}), True),
        ("r", frozenset({ICD, PCS}), False),
        ("left", frozenset({ICD}), True),
    ],
}


def load(url: str, pcs: Path) -> dict[str, float]:
    """Import the three code sets into the migrated, empty database at ``url``."""
    upgrade(url)
    db = Database(url)
    seconds = {}
    for kind, path in (("icd10cm", default_tabular()), ("hcpcs", HCPCS_ZIP), ("icd10pcs", pcs)):
        started = time.perf_counter()
        result = import_release(db, importer_for(kind), [path])
        if result.already_loaded:
            sys.exit(f"{kind} is already loaded at {url}: give an empty database")
        seconds[kind] = round(time.perf_counter() - started, 1)
    db.dispose()
    return seconds


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(url: str, rounds: int) -> dict[str, list[float]]:
    """Milliseconds of each search, by kind; the first round (warm-up) is not counted."""
    reader = Reader(url)
    times: dict[str, list[float]] = {kind: [] for kind in QUERIES}
    for round_ in range(rounds + 1):
        for kind, queries in QUERIES.items():
            for query, sets, billable in queries:
                started = time.perf_counter()
                search_codes(reader, query, ON, 50, 0, sets=sets, billable=billable)
                if round_:
                    times[kind].append((time.perf_counter() - started) * 1000)
    reader.close()
    return times


def report(name: str, seconds: dict[str, float], times: dict[str, list[float]]) -> None:
    print(f"\n{name}  (import seconds: {seconds})")
    print(f"  {'kind':<14}{'searches':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for kind, values in [*times.items(), ("all", [v for vs in times.values() for v in vs])]:
        print(
            f"  {kind:<14}{len(values):>9}{statistics.median(values):>9.1f}"
            f"{percentile(values, 0.95):>9.1f}{percentile(values, 0.99):>9.1f}{max(values):>9.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--keep", action="store_true", help="keep both databases; print them")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-search-"))
    pcs = constructed_pcs.write(tmp / "icd10pcs_order_2026.txt")
    sqlite_url = f"sqlite:///{tmp}/search.db"
    name = f"cc_bench_search_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.postgres, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    postgres_url = f"{args.postgres.rsplit('/', 1)[0]}/{name}"
    try:
        for label, url in (("SQLite", sqlite_url), ("PostgreSQL", postgres_url)):
            seconds = load(url, pcs)
            report(label, seconds, measure(url, args.rounds))
    finally:
        pcs.unlink()
        if args.keep:
            print(f"\nkept: {sqlite_url} {postgres_url}")
        else:
            (tmp / "search.db").unlink(missing_ok=True)
            tmp.rmdir()
            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
