"""Extraction on the labelled sets: per-field precision, recall and F1, PHI exactness.

Reads each set of tests/data (LABELS.md: the labelled set of 160 questions the
analysis was fitted to, the held-out set of 60, and the unseen set of 60 it
never was; forwards, HTML-only, tables, inline replies, look-alikes, PHI and
near-PHI, every topic), turns each question into an email, reads it as
processing does and prints the figures per set; --misses lists every
disagreement. As in processing, the reading may ask the code data (the shipped
ICD-10-CM, the real HCPCS 2020 file and the shared add-on edit file, all read
from where they are, never copied here) to settle ambiguous shapes. Targets:
codes and modifiers F1 >= 0.99, topics >= 0.9, PHI exact
(tests/analysis/test_labelled.py holds them).

usage: .venv/bin/python bench/bench_extraction.py [--misses]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.labelled import SETS, load, load_code_data, score  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list every disagreement")
    args = parser.parse_args()
    load_code_data()
    for name, path in SETS.items():
        if not path.exists():
            print(f"{name}: no {path.name}")
            continue
        items = load(path)
        started = time.perf_counter()
        report = score(items)
        elapsed = time.perf_counter() - started
        print(
            f"{name}: {report.items} questions, read in {elapsed * 1000 / report.items:.2f} ms each"
        )
        print(f"  {'field':<10} {'precision':>9} {'recall':>7} {'F1':>6}")
        for field, tally in report.fields.items():
            print(f"  {field:<10} {tally.precision:9.3f} {tally.recall:7.3f} {tally.f1:6.3f}")
        print(f"  PHI exact on {report.phi_exact:.1%} of questions")
        print(f"  coding or not: right on {report.purpose_accuracy:.1%} of questions")
        if args.misses:
            for tally in report.fields.values():
                for miss in tally.misses:
                    print(f"    {miss}")
            for wrong in report.wrong_phi + report.wrong_purpose:
                print(f"    {wrong}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
