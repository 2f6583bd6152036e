"""Code data at full scale: PTP import (SQLite and PostgreSQL), pair lookups, `codes show`.

Writes a 4,000,000-row NCCI PTP file with ../shared/tools/gen_ncci_ptp.py
(random rows in the published layout: never CMS data), imports it into a new
SQLite file and into a new PostgreSQL database (COPY), each in a process of
its own so its peak memory is its own, then times 20,000 pair lookups
against the loaded table and the whole `consultant codes show` command.

usage: .venv/bin/python bench/bench_codes.py [--rows 4000000]
         [--postgres postgresql://postgres@127.0.0.1:5432/test] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
GENERATOR = REPO.parent / "shared" / "tools" / "gen_ncci_ptp.py"
PTP_NAME = "ccipra-v331r0-f1.TXT"

IMPORT_CHILD = """
import sys, time, resource
from pathlib import Path
from consultant.db import Database, upgrade
from consultant.codes.importers import importer_for
from consultant.codes.importing import import_release
upgrade(sys.argv[1])
db = Database(sys.argv[1])
started = time.perf_counter()
result = import_release(db, importer_for("ncci-ptp"), [Path(sys.argv[2])])
print(result.rows, time.perf_counter() - started,
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def _import(url: str, path: Path) -> tuple[int, float, int]:
    out = subprocess.run(
        [sys.executable, "-c", IMPORT_CHILD, url, str(path)],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
    ).stdout.split()
    return int(out[0]), float(out[1]), int(out[2])


def _lookups(url: str) -> dict[str, tuple[float, float]]:
    from consultant.codes.cms_edits import CmsEditLookups
    from consultant.codes.tables import ptp_table_name
    from consultant.db import Database

    db = Database(url)
    lookups = CmsEditLookups(db)
    release = lookups._release("ncci-ptp", date.today(), "practitioner")
    assert release is not None
    with db.engine.connect() as conn:
        pairs = conn.exec_driver_sql(
            f'SELECT column1, column2 FROM "{ptp_table_name(release.id)}"'
        ).fetchall()
    rng = random.Random(1)
    hits = [
        (a, b) if rng.random() < 0.5 else (b, a)
        for a, b in (rng.choice(pairs) for _ in range(25_000))
    ]
    misses = [(a, "99999") for a, _ in hits[:20_000]]
    figures = {}
    for name, queries in (("warm-up", hits[:5_000]), ("hit", hits[5_000:]), ("miss", misses)):
        times = []
        for a, b in queries:
            started = time.perf_counter_ns()
            lookups.ptp(a, b)
            times.append(time.perf_counter_ns() - started)
        times.sort()
        figures[name] = (times[len(times) // 2] / 1000, times[int(len(times) * 0.99)] / 1000)
    db.dispose()
    return figures


def _show_command(var_dir: Path, code: str, runs: int = 15) -> float:
    env = {**os.environ, "CONSULTANT_VAR_DIR": str(var_dir)}
    binary = Path(sys.executable).with_name("consultant")
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [str(binary), "codes", "show", code], env=env, check=True, capture_output=True
        )
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4_000_000)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="cc-bench-codes-"))
    work.mkdir(parents=True, exist_ok=True)
    ptp = work / PTP_NAME
    if not ptp.exists():
        subprocess.run(
            [sys.executable, str(GENERATOR), str(ptp), "--rows", str(args.rows)], check=True
        )
    print(f"PTP file: {ptp} ({ptp.stat().st_size / 1e6:.0f} MB, {args.rows:,} rows)")

    import psycopg

    # Both imports run before this process grows: a child's peak memory on Linux
    # starts from its parent's size at fork time.
    sqlite_url = f"sqlite:///{work / 'var' / 'consultant.db'}"
    rows, seconds, peak = _import(sqlite_url, ptp)
    print(f"SQLite import:     {rows:,} rows in {seconds:.1f} s, peak {peak} MB (index included)")
    database = f"cc_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.postgres, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    pg_url = f"{args.postgres.rsplit('/', 1)[0]}/{database}"
    try:
        rows, seconds, peak = _import(pg_url, ptp)
        print(f"PostgreSQL import: {rows:,} rows in {seconds:.1f} s, peak {peak} MB (COPY)")
        for label, url in (("SQLite", sqlite_url), ("PostgreSQL", pg_url)):
            for name, (p50, p99) in _lookups(url).items():
                print(f"{label} pair {name:<8} p50 {p50:6.1f} us   p99 {p99:6.1f} us")
    finally:
        with psycopg.connect(args.postgres, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    show_db = work / "show"
    env = {**os.environ, "CONSULTANT_VAR_DIR": str(show_db)}
    binary = Path(sys.executable).with_name("consultant")
    subprocess.run([str(binary), "db", "upgrade"], env=env, check=True, capture_output=True)
    started = time.perf_counter()
    loaded = subprocess.run(
        [str(binary), "codes", "import", "icd10cm"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    print(
        f"ICD-10-CM from the package: {loaded.stdout.strip()} "
        f"({time.perf_counter() - started:.1f} s as a whole command)"
    )
    print(
        f"`consultant codes show E11.9`: median {_show_command(show_db, 'E11.9'):.3f} s "
        "as a whole command"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
