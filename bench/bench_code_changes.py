"""What changed between two full ICD-10-CM releases, timed on SQLite and PostgreSQL.

Imports the April 2026 tabular shipped in ``simple-icd-10-cm`` (98,186 codes,
74,719 billable), makes a second release from it in SQL (every code copied; 300
descriptions reworded, 40 codes billable no more, 200 deleted, 250 added: the
size of an October update), then times ``changes.compare`` and the CSV it
writes, best and median of --runs, on a new SQLite file and a new PostgreSQL
database (dropped afterwards).

usage: .venv/bin/python bench/bench_code_changes.py [--runs 5]
         [--postgres postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

from sqlalchemy import text

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from consultant.codes import changes  # noqa: E402
from consultant.codes.changes_csv import csv_lines  # noqa: E402
from consultant.codes.importers.icd10cm import Icd10CmImporter, default_tabular  # noqa: E402
from consultant.codes.importing import import_release  # noqa: E402
from consultant.codes.readonly import Reader  # noqa: E402
from consultant.db import Database, upgrade  # noqa: E402

REWORDED, UNBILLABLE, DELETED, ADDED = 300, 40, 200, 250
COPY = (
    "INSERT INTO code_entry (release_id, code, billable, parent, short_description, "
    "long_description, added, effective, terminated, details) SELECT :new, code, billable, "
    "parent, short_description, long_description, added, effective, terminated, details "
    "FROM code_entry WHERE release_id = :old"
)


def second_release(db: Database, first: int) -> None:
    """The first release again as a later one, with an update's worth of changes."""
    with db.engine.begin() as conn:
        new = conn.execute(
            text(
                "INSERT INTO code_release (kind, setting, version, source, sha256, "
                "effective_from, row_count, imported_at, details) VALUES ('icd10cm', '', "
                "'FY2027', 'constructed from FY2026', :sha, :day, 0, :day, '{}') RETURNING id"
            ),
            {"sha": uuid.uuid4().hex, "day": date(2026, 10, 1)},
        ).scalar_one()
        conn.execute(text(COPY), {"new": new, "old": first})
        codes = [
            row[0]
            for row in conn.execute(
                text(
                    "SELECT code FROM code_entry WHERE release_id = :r AND billable ORDER BY code"
                ),
                {"r": new},
            )
        ]
        step = len(codes) // (REWORDED + UNBILLABLE + DELETED)
        picked = codes[::step]
        reword, unbill = picked[:REWORDED], picked[REWORDED : REWORDED + UNBILLABLE]
        gone = picked[REWORDED + UNBILLABLE : REWORDED + UNBILLABLE + DELETED]
        for sql, chosen in (
            ("UPDATE code_entry SET long_description = long_description || ', revised'", reword),
            ("UPDATE code_entry SET billable = false", unbill),
            ("DELETE FROM code_entry", gone),
        ):
            for code in chosen:
                conn.execute(
                    text(f"{sql} WHERE release_id = :r AND code = :c"), {"r": new, "c": code}
                )
        for n in range(ADDED):
            conn.execute(
                text(
                    "INSERT INTO code_entry (release_id, code, billable, long_description, "
                    "details) VALUES (:r, :c, true, :d, '{}')"
                ),
                {"r": new, "c": f"U9{n // 100}.{n % 100:02d}", "d": f"Constructed code {n}"},
            )


def timed(url: str, runs: int) -> dict[str, object]:
    upgrade(url)
    db = Database(url)
    loaded = import_release(db, Icd10CmImporter(), [default_tabular()])
    second_release(db, loaded.release["id"])
    db.dispose()
    reader = Reader(url)
    later, earlier = changes.releases(reader, "icd10cm")
    ((codes,),) = reader.rows("SELECT count(*) FROM code_entry WHERE release_id = ?", (later.id,))
    compare, write = [], []
    for _ in range(runs):
        started = time.perf_counter()
        found = changes.compare(reader, earlier, later)
        compare.append(time.perf_counter() - started)
        started = time.perf_counter()
        size = sum(len(line) for line in csv_lines(found))
        write.append(time.perf_counter() - started)
    reader.close()
    return {
        "database": url.split(":", 1)[0],
        "codes": codes,
        "counts": found.counts,
        "compare_ms": {
            "best": round(min(compare) * 1000, 1),
            "median": round(statistics.median(compare) * 1000, 1),
        },
        "csv_ms": {"best": round(min(write) * 1000, 1), "bytes": size},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(timed(f"sqlite:///{tmp}/changes.db", args.runs))
    import psycopg

    database = f"cc_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.postgres, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    try:
        results.append(timed(f"{args.postgres.rsplit('/', 1)[0]}/{database}", args.runs))
    finally:
        with psycopg.connect(args.postgres, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
