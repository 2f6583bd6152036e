"""Analysis alone on the 1,000-message corpus: microseconds per message, mean and p99.

Parses every message of ../shared/corpus/bench/corpus-1000.mbox first (not
timed), then times ``analyze(subject, text)`` on each, in several rounds after
a warm-up one; the figures are over every analysis of every round.
The target is under 1 ms per message on average: the whole pipeline must turn
1,000 messages into drafts in about 2 s.

usage: .venv/bin/python bench/bench_analysis.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import mailbox
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from consultant.analysis.analyze import analyze  # noqa: E402
from consultant.mail.parse import ParsedMessage, parse_message  # noqa: E402

MBOX = REPO.parent / "shared" / "corpus" / "bench" / "corpus-1000.mbox"
TARGET_US = 1000.0


def _messages() -> list[ParsedMessage]:
    box = mailbox.mbox(MBOX, create=False)
    try:
        return [parse_message(box.get_bytes(key)) for key in box.iterkeys()]
    finally:
        box.close()


def _round(messages: list[ParsedMessage]) -> list[float]:
    """Microseconds to analyse each message once."""
    timings = []
    for message in messages:
        started = time.perf_counter_ns()
        analyze(message.subject, message.text)
        timings.append((time.perf_counter_ns() - started) / 1000)
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    messages = _messages()
    _round(messages)  # warm up: compiled patterns, caches
    rounds = [_round(messages) for _ in range(args.rounds)]
    timings = [t for timings in rounds for t in timings]
    mean = statistics.fmean(timings)
    p99 = statistics.quantiles(timings, n=100)[98]
    per_round = ", ".join(f"{statistics.fmean(r):.0f}" for r in rounds)

    print(f"messages: {len(messages)}, rounds: {args.rounds}")
    print(f"mean: {mean:.0f} us per message (per round: {per_round})")
    print(f"p99:  {p99:.0f} us per message")
    print(f"target, mean under {TARGET_US:.0f} us: {'met' if mean < TARGET_US else 'NOT met'}")
    return 0 if mean < TARGET_US else 1


if __name__ == "__main__":
    sys.exit(main())
