"""Medicare Coverage Database at full scale: the articles and LCD imports, coverage lookups.

A national MCD download is the largest code data the application loads in one
release (about a million article code rows, HTML fields past the csv module's
limit), and every drafted answer about a procedure asks the coverage lookup
once per code. This measures both on a full-size CONSTRUCTED export written by
bench/gen_mcd_export.py (made-up values in the published layout: never CMS
data), so a change to the importer or to the lookup queries can be judged on
a realistic volume:

* the import of the articles download and of the LCD download, into a new
  SQLite file and into a new PostgreSQL database (created and dropped here;
  skipped with a note when PostgreSQL cannot be reached), each in a fresh
  process of its own so that its peak memory (ru_maxrss) is the import's own:
  rows loaded, seconds, rows per second, peak MB;
* ``CodeLookup.coverage.coverage(code, diagnoses, on, Jurisdiction(state))``
  for --queries questions drawn deterministically from the loaded data (codes
  that articles list and some that none lists, 0-3 diagnoses covered, not
  covered or not listed, a state of the export's contractors or none, a date
  of service within the article version's dates), after a warm-up: p50, p95,
  p99 and max milliseconds per database.

The export is written to --out and reused while it was written there with the
same --articles, --lcds and --seed (``gen_mcd_export.json`` records them).

usage: .venv/bin/python bench/bench_coverage.py [--articles 3000] [--lcds 1100]
         [--seed 2026] [--queries 2000] [--out /tmp/mcd_full] [--sqlite-only]
         [--postgres postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
GENERATOR = REPO / "bench" / "gen_mcd_export.py"
EXPORTS = {"mcd-articles": "all_article.zip", "mcd-lcds": "all_lcd.zip"}
STAMP = "gen_mcd_export.json"
GENERATOR_DEFAULTS = {"articles": 3000, "lcds": 1100, "seed": 2026}  # as gen_mcd_export.py

if TYPE_CHECKING:
    from consultant.codes.lookup import CodeLookup

# One step in a fresh interpreter: "upgrade URL", or "import URL KIND PATH", which prints
# the rows loaded, the seconds and the process's peak RSS (KiB on Linux) as JSON.
CHILD = """
import json, resource, sys, time
from pathlib import Path
from consultant.db import Database, upgrade
if sys.argv[1] == "upgrade":
    upgrade(sys.argv[2])
    sys.exit()
from consultant.codes.importers import importer_for
from consultant.codes.importing import import_release
db = Database(sys.argv[2])
started = time.perf_counter()
result = import_release(db, importer_for(sys.argv[3]), [Path(sys.argv[4])])
seconds = time.perf_counter() - started
assert not result.already_loaded, "the export is already loaded there"
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"rows": result.rows, "seconds": seconds, "peak_kib": peak}))
"""


@dataclass(frozen=True)
class Imported:
    rows: int
    seconds: float
    peak_mb: float

    def line(self, label: str) -> str:
        rate = self.rows / self.seconds
        return (
            f"{label:<30} {self.rows:>10,} rows {self.seconds:7.1f} s "
            f"{rate:>9,.0f} rows/s  peak {self.peak_mb:5.0f} MB"
        )


@dataclass(frozen=True)
class Query:
    code: str
    diagnoses: tuple[str, ...]
    on: date
    state: str | None


# --- the export ---


def export_files(out: Path, articles: int, lcds: int, seed: int) -> dict[str, Path]:
    """The two downloads in ``out``: those written there with these settings, or new ones."""
    wanted = {"articles": articles, "lcds": lcds, "seed": seed}
    paths = {kind: out / name for kind, name in EXPORTS.items()}
    stamp = out / STAMP
    if stamp.exists() and all(p.exists() for p in paths.values()):
        recorded = json.loads(stamp.read_text())
        sizes = {p.name: p.stat().st_size for p in paths.values()}
        if recorded.get("settings") == wanted and recorded.get("sizes") == sizes:
            print(f"Export: reusing {out} ({_describe(wanted)})")
            return paths
    print(f"Export: writing {out} ({_describe(wanted)})", flush=True)
    stamp.unlink(missing_ok=True)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(GENERATOR), str(out)]
        + [f"--{name}={value}" for name, value in wanted.items()],
        check=True,
    )
    print(f"Export written in {time.perf_counter() - started:.1f} s")
    sizes = {p.name: p.stat().st_size for p in paths.values()}
    stamp.write_text(json.dumps({"settings": wanted, "sizes": sizes}, indent=2))
    return paths


def _describe(settings: dict[str, int]) -> str:
    return ", ".join(f"{name} {value:,}" for name, value in settings.items())


# --- imports, each in a process of its own ---


def _child(*args: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", CHILD, *args],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
    ).stdout


def import_all(label: str, url: str, exports: dict[str, Path]) -> None:
    """Migrate the database at ``url`` and import both downloads, printing a row for each."""
    _child("upgrade", url)
    for kind, path in exports.items():
        figures = json.loads(_child("import", url, kind, str(path)))
        imported = Imported(figures["rows"], figures["seconds"], figures["peak_kib"] / 1024)
        print(imported.line(f"{label} import {kind}"), flush=True)


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str | None]:
    """The URL of a new PostgreSQL database, dropped afterwards; None if none can be made."""
    import psycopg

    name = f"cc_bench_coverage_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(f"PostgreSQL: skipped, {admin_url} is not reachable ({reason})")
        yield None
        return
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- the questions ---


class _Loaded:
    """What the queries are drawn from: the article versions of the loaded export."""

    def __init__(self, lookup: CodeLookup) -> None:
        from consultant.codes.coverage import ARTICLE_KIND
        from consultant.codes.importing import int_to_date

        release = lookup.in_force(ARTICLE_KIND, date.today())
        assert release is not None, "no articles export is loaded"
        self.reader = lookup.reader
        self.codes_table = release.details["codes_table"]
        rows = self.reader.rows
        self.dates: dict[tuple[int, int], tuple[date, date]] = {}
        for document_id, version, effective, ending in rows(
            "SELECT document_id, version, effective, ending FROM mcd_document WHERE release_id = ?",
            (release.id,),
        ):
            first = int_to_date(effective) or release.effective_from
            last = int_to_date(ending) or max(release.effective_from, first)
            self.dates[(document_id, version)] = (first, last)
        self.procedures: dict[tuple[int, int], list[str]] = {}
        for document_id, version, code in rows(
            f'SELECT document_id, version, code FROM "{self.codes_table}" WHERE list = ? '
            "ORDER BY document_id, version, code",
            ("hcpc",),
        ):
            self.procedures.setdefault((document_id, version), []).append(code)
        self.versions = sorted(self.procedures)
        self.listed = {code for codes in self.procedures.values() for code in codes}
        self.diagnoses = [
            code
            for (code,) in rows(
                f'SELECT DISTINCT code FROM "{self.codes_table}" WHERE list = ? ORDER BY code',
                ("covered",),
            )
        ]
        self.states: dict[tuple[int, int], list[str]] = {}
        for document_id, version, state in rows(
            "SELECT DISTINCT x.document_id, x.version, j.state FROM mcd_document_contractor x "
            "JOIN mcd_jurisdiction j ON j.release_id = x.release_id "
            "AND j.contractor_id = x.contractor_id AND j.type_id = x.type_id "
            "WHERE x.release_id = ? ORDER BY x.document_id, x.version, j.state",
            (release.id,),
        ):
            self.states.setdefault((document_id, version), []).append(state)
        self.all_states = sorted({s for states in self.states.values() for s in states})

    def lists(self, key: tuple[int, int]) -> dict[str, list[str]]:
        """The version's covered and non-covered diagnoses."""
        found: dict[str, list[str]] = {"covered": [], "noncovered": []}
        for kind, code in self.reader.rows(
            f'SELECT list, code FROM "{self.codes_table}" WHERE document_id = ? AND version = ? '
            "AND list IN ('covered', 'noncovered') ORDER BY list, code",
            key,
        ):
            found[kind].append(code)
        return found


def draw_queries(loaded: _Loaded, count: int, seed: int) -> list[Query]:
    """``count`` questions, the same for a given export and seed.

    Nine in ten ask about a procedure code an article version lists, on a day
    within that version's dates; one in ten about a code no article lists.
    Each diagnosis is covered by the version (half), listed as not covered
    (where it lists any), or listed nowhere in it. The state is one the
    version's contractors cover (half), any state of the export (a quarter),
    or none.
    """
    rng = random.Random(seed)
    queries = []
    for _ in range(count):
        key = rng.choice(loaded.versions)
        first, last = loaded.dates[key]
        on = first + timedelta(days=rng.randint(0, (last - first).days))
        if rng.random() < 0.9:
            code = rng.choice(loaded.procedures[key])
        else:
            code = _unlisted(rng, loaded.listed, lambda: f"V{rng.randrange(1000, 10000)}")
        lists = loaded.lists(key)
        listed = set(lists["covered"]) | set(lists["noncovered"])
        diagnoses = []
        for _ in range(rng.randint(0, 3)):
            roll = rng.random()
            if roll < 0.5 and lists["covered"]:
                diagnoses.append(rng.choice(lists["covered"]))
            elif roll < 0.7 and lists["noncovered"]:
                diagnoses.append(rng.choice(lists["noncovered"]))
            else:
                diagnoses.append(_unlisted(rng, listed, lambda: rng.choice(loaded.diagnoses)))
        roll = rng.random()
        if roll < 0.5:
            state: str | None = rng.choice(loaded.states[key])
        elif roll < 0.75:
            state = rng.choice(loaded.all_states)
        else:
            state = None
        queries.append(Query(code, tuple(diagnoses), on, state))
    return queries


def _unlisted(rng: random.Random, listed: set[str], draw: Callable[[], str]) -> str:
    """The first code ``draw`` gives that is not in ``listed``."""
    while (code := draw()) in listed:
        pass
    return code


# --- the lookups ---


def time_lookups(label: str, url: str, queries: list[Query], warm_up: int) -> None:
    """Ask every query once after ``warm_up`` of them; print percentiles and what came back."""
    from consultant.codes.coverage import Jurisdiction
    from consultant.codes.lookup import CodeLookup
    from consultant.db import Database

    db = Database(url)
    lookup = CodeLookup(db)
    for q in queries[:warm_up]:
        lookup.coverage.coverage(q.code, list(q.diagnoses), q.on, Jurisdiction(state=q.state))
    times: list[float] = []
    articles = 0
    answered = 0
    statuses: Counter[str] = Counter()
    for q in queries[warm_up:]:
        started = time.perf_counter_ns()
        result = lookup.coverage.coverage(
            q.code, list(q.diagnoses), q.on, Jurisdiction(state=q.state)
        )
        times.append((time.perf_counter_ns() - started) / 1e6)
        answered += bool(result.articles)
        articles += len(result.articles)
        statuses.update(d.status for a in result.articles for d in a.diagnoses)
    lookup.reader.close()
    db.dispose()
    cuts = statistics.quantiles(times, n=100, method="inclusive")
    print(
        f"{label + ' coverage':<30} {len(times):>6,} queries  p50 {cuts[49]:6.2f} ms  "
        f"p95 {cuts[94]:6.2f} ms  p99 {cuts[98]:6.2f} ms  max {max(times):7.2f} ms"
    )
    print(
        f"{'':<30} {answered:,} with an article in force ({articles:,} articles); "
        f"diagnoses {_statuses(statuses)}"
    )


def _statuses(statuses: Counter[str]) -> str:
    names = ("covered", "noncovered", "not_listed")
    return ", ".join(f"{name} {statuses[name]:,}" for name in names)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name, default in GENERATOR_DEFAULTS.items():
        parser.add_argument(f"--{name}", type=int, default=default, help="for the generator")
    parser.add_argument("--queries", type=int, default=2000, help="coverage lookups timed")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(tempfile.gettempdir()) / "mcd_full",
        help="where the export is written, or reused from",
    )
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    if args.queries < 1:
        parser.error("--queries must be at least 1")
    started = time.perf_counter()
    exports = export_files(args.out, args.articles, args.lcds, args.seed)
    for path in exports.values():
        print(f"  {path.name}: {path.stat().st_size / 1e6:.1f} MB")

    postgres: AbstractContextManager[str | None] = (
        nullcontext(None) if args.sqlite_only else postgres_database(args.postgres)
    )
    with tempfile.TemporaryDirectory(prefix="cc-bench-coverage-") as tmp, postgres as pg_url:
        databases = {"SQLite": f"sqlite:///{tmp}/consultant.db"}
        if pg_url:
            databases["PostgreSQL"] = pg_url
        # Every import runs before this process grows: on Linux a child's ru_maxrss
        # starts from its parent's size when it is forked.
        for label, url in databases.items():
            import_all(label, url, exports)
        print(f"SQLite file: {Path(tmp, 'consultant.db').stat().st_size / 1e6:.0f} MB")

        from consultant.codes.lookup import CodeLookup
        from consultant.db import Database

        source = Database(databases["SQLite"])
        drawing = CodeLookup(source)
        warm_up = max(100, args.queries // 10)
        loaded = _Loaded(drawing)
        listed = loaded.listed
        queries = draw_queries(loaded, warm_up + args.queries, args.seed)
        drawing.reader.close()
        source.dispose()
        _print_mix(queries[warm_up:], warm_up, listed)
        for label, url in databases.items():
            time_lookups(label, url, queries, warm_up)
    print(f"Run time: {time.perf_counter() - started:.0f} s")
    return 0


def _print_mix(queries: list[Query], warm_up: int, listed: set[str]) -> None:
    diagnoses = sum(len(q.diagnoses) for q in queries)
    stated = sum(q.state is not None for q in queries)
    unlisted = sum(q.code not in listed for q in queries)
    print(
        f"Queries: {len(queries):,} after {warm_up:,} warm-up; {unlisted:,} codes no article "
        f"lists, {diagnoses:,} diagnoses, {stated:,} with a state; "
        f"days {min(q.on for q in queries)} to {max(q.on for q in queries)}"
    )


if __name__ == "__main__":
    sys.exit(main())
