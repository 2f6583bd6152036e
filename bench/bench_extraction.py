"""Extraction on the labelled set: per-field precision, recall and F1, PHI exactness.

Reads tests/data/labelled_questions.jsonl (160 hand-labelled questions:
forwards, HTML-only, tables, inline replies, look-alikes, PHI and near-PHI,
every topic), turns each into an email, reads it as processing does and
prints the figures; --misses lists every disagreement. As in processing, the
reading may ask the code data (the shipped ICD-10-CM, the real HCPCS 2020 file,
the add-on codes an add-on edit file would list) to settle ambiguous shapes. Targets: codes and
modifiers F1 >= 0.99, topics >= 0.9, PHI exact (tests/analysis/test_labelled.py
holds them).

usage: .venv/bin/python bench/bench_extraction.py [--misses]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.labelled import load, load_code_data, score  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list every disagreement")
    args = parser.parse_args()
    items = load()
    load_code_data()
    started = time.perf_counter()
    report = score(items)
    elapsed = time.perf_counter() - started
    print(f"{report.items} labelled questions, read in {elapsed * 1000 / report.items:.2f} ms each")
    print(f"{'field':<10} {'precision':>9} {'recall':>7} {'F1':>6}")
    for name, tally in report.fields.items():
        print(f"{name:<10} {tally.precision:9.3f} {tally.recall:7.3f} {tally.f1:6.3f}")
    print(f"PHI exact on {report.phi_exact:.1%} of questions")
    print(f"coding or not: right on {report.purpose_accuracy:.1%} of questions")
    if args.misses:
        for tally in report.fields.values():
            for miss in tally.misses:
                print(f"  {miss}")
        for wrong in report.wrong_phi + report.wrong_purpose:
            print(f"  {wrong}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
