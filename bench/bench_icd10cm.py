"""The full ICD-10-CM load: the April 2026 tabular shipped in ``simple-icd-10-cm``.

Imports the tabular into a fresh SQLite database (or into the empty, migrated
database at --database-url, e.g. PostgreSQL) and prints the seconds taken,
the rows loaded (codes and notes), the billable codes, and the peak memory of
the process (the imports of the application included).

usage: .venv/bin/python bench/bench_icd10cm.py [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from consultant.codes.importers.icd10cm import Icd10CmImporter, default_tabular  # noqa: E402
from consultant.codes.importing import import_release  # noqa: E402
from consultant.codes.tables import CodeRelease  # noqa: E402
from consultant.db import Database, upgrade  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="an empty database (default: a new SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/icd10cm.db"
        upgrade(url)
        db = Database(url)
        started = time.perf_counter()
        result = import_release(db, Icd10CmImporter(), [default_tabular()])
        seconds = time.perf_counter() - started
        with db.session() as session:
            details = session.get_one(CodeRelease, result.release["id"]).details
        db.dispose()
    if result.already_loaded:
        sys.exit("the tabular is already loaded there: give an empty database")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "database": url.split(":", 1)[0],
                "source": result.release["source"],
                "version": result.release["version"],
                "seconds": round(seconds, 2),
                "rows": result.rows,
                "codes": details["codes"],
                "billable": details["billable"],
                "notes": details["notes"],
                "peak_mb": round(peak_mb, 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
