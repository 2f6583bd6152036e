"""The parser under a long fuzz run and on three large hostile messages.

Runs the generator of tests/support/hostile_mail.py (hostile header lines,
broken MIME trees, spliced and random bytes) for N examples and prints how
many parsed, how many were refused with MessageParseError and how many broke
(any other exception, or a result breaking the invariants), the p99 and
the slowest example's time (and that example's again, replayed alone) and the
peak RSS. Then parses, each in a fresh process so that its
peak RSS is its own: 10 MB of HTML, MIME nested 1,000 deep and a 30 MB
attachment, printing time and peak memory.

usage: .venv/bin/python bench/fuzz_parser.py [N]   (default 20,000)
"""

from __future__ import annotations

import argparse
import base64
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from consultant.mail.parse import ParseLimits, parse_message  # noqa: E402

MB = 1 << 20
QUESTION = "Is 99213 billable with modifier 25 on the same day as 20610?"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _own_peak_mb() -> float:
    """This process's peak RSS (Linux VmHWM): ru_maxrss carries the parent's over fork and exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return _peak_mb()


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def fuzz(count: int) -> None:
    """``count`` generated messages; broken ones and the slowest are kept in a temp dir for replay.

    Imported here, not at the top: the child processes that measure the large
    messages must not carry hypothesis and the extractor in their peak RSS.
    """
    from hypothesis import HealthCheck, Phase, given, settings

    from tests.support.hostile_mail import exercise, limits, mail

    tally: Counter[str] = Counter()
    seconds_each: list[float] = []
    slowest = (0.0, b"", ParseLimits())
    kept = Path(tempfile.mkdtemp(prefix="cc-fuzz-"))

    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(raw=mail, limits=limits)
    def run(raw: bytes, limits: ParseLimits) -> None:
        nonlocal slowest
        try:
            outcome = exercise(raw, limits)
        except Exception as error:  # counted and kept: the run goes on
            tally[f"broken ({type(error).__name__})"] += 1
            (kept / f"broken-{sum(tally.values())}.eml").write_bytes(raw)
            return
        tally[f"refused: {outcome.refusal}" if outcome.refusal else "parsed"] += 1
        seconds_each.append(outcome.seconds)
        if outcome.seconds > slowest[0]:
            slowest = (outcome.seconds, raw, limits)

    started = time.perf_counter()
    run()
    elapsed = time.perf_counter() - started
    print(f"fuzz: {sum(tally.values()):,} examples in {elapsed:.1f} s")
    for outcome, n in sorted(tally.items()):
        print(f"  {outcome:<72} {n:7,}")
    seconds, raw, limits_used = slowest
    (kept / "slowest.eml").write_bytes(raw)
    alone = min(_timed(lambda: exercise(raw, limits_used)) for _ in range(3))
    p99 = sorted(seconds_each)[int(len(seconds_each) * 0.99)] if seconds_each else 0.0
    print(f"  {'p99 per example':<72} {p99 * 1000:7.1f} ms")
    print(f"  {'slowest example':<72} {seconds * 1000:7.1f} ms ({len(raw):,} bytes)")
    # In the run, a pause of the garbage collector over the fuzzer's heap lands on some example.
    print(f"  {'the same example, replayed alone':<72} {alone * 1000:7.1f} ms")
    print(f"  slowest and broken examples kept in {kept}")
    print(f"  {'peak RSS':<72} {_peak_mb():7.0f} MB")


def html_10mb() -> bytes:
    row = "<tr><td>99213</td><td>office visit, modifier 25 &amp; 20610</td></tr>\n"
    html = f"<html><body><p>{QUESTION}</p><table>{row * (10 * MB // len(row))}</table>"
    head = "From: Dana <dana@ex.com>\r\nSubject: html\r\nContent-Type: text/html\r\n\r\n"
    return (head + html).encode()


def mime_1000_deep() -> bytes:
    """The question, then a part nested 1,000 deep."""
    part = "Content-Type: text/plain\r\n\r\ndeep\r\n"
    for level in range(1000, 0, -1):
        part = (
            f'Content-Type: multipart/mixed; boundary="b{level}"\r\n\r\n'
            f"--b{level}\r\n{part}--b{level}--\r\n"
        )
    return (
        "From: Dana <dana@ex.com>\r\nSubject: deep\r\n"
        'Content-Type: multipart/mixed; boundary="top"\r\n\r\n'
        f"--top\r\nContent-Type: text/plain\r\n\r\n{QUESTION}\r\n--top\r\n{part}--top--\r\n"
    ).encode()


def attachment_30mb() -> bytes:
    data = base64.encodebytes(bytes(range(256)) * (30 * MB // 256)).decode()
    return (
        "From: Dana <dana@ex.com>\r\nSubject: scan\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="XX"\r\n\r\n'
        f"--XX\r\nContent-Type: text/plain\r\n\r\n{QUESTION}\r\n"
        "--XX\r\nContent-Type: application/pdf; name=scan.pdf\r\n"
        f"Content-Transfer-Encoding: base64\r\n\r\n{data}--XX--\r\n"
    ).encode()


CASES: dict[str, Callable[[], bytes]] = {
    "10 MB HTML": html_10mb,
    "MIME 1,000 deep": mime_1000_deep,
    "30 MB attachment": attachment_30mb,
}


def measure(path: Path) -> None:
    """Parse one file in this (fresh) process: time, and peak RSS over the input already held."""
    raw = path.read_bytes()
    holding = _own_peak_mb()
    started = time.perf_counter()
    parsed = parse_message(raw)
    elapsed = time.perf_counter() - started
    peak = _own_peak_mb()
    print(
        f"{len(raw) / MB:6.1f} MB in {elapsed:5.2f} s, peak RSS {peak:5.0f} MB "
        f"(+{peak - holding:.0f} MB over the input), {len(parsed.text):,} chars of text, "
        f"limits: {'; '.join(parsed.limits) or 'none'}"
    )


def large_cases() -> None:
    with tempfile.TemporaryDirectory(prefix="cc-bench-parse-") as work:
        for name, build in CASES.items():
            path = Path(work) / "message.eml"
            path.write_bytes(build())
            child = subprocess.run(
                [sys.executable, __file__, "--measure", str(path)],
                capture_output=True,
                text=True,
                check=True,
            )
            print(f"{name:<18} {child.stdout.strip()}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", nargs="?", type=int, default=20_000, help="fuzz examples")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure)
        return 0
    fuzz(args.count)
    large_cases()
    return 0


if __name__ == "__main__":
    sys.exit(main())
