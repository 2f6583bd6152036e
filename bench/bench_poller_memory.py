"""Peak memory of a poller process taking in 1,000 corpus messages and five 30 MB messages.

Starts a private Dovecot (as the tests do), appends
../shared/corpus/bench/corpus-1000.mbox and five 30 MB messages (a 22 MB
attachment each, base64) to one folder and copies them to a second, then
runs the poller as a process of its own on each folder: once with the batch
byte cap (``--max-bytes``, the default of CONSULTANT_IMAP_BATCH_MAX_BYTES)
and once without (batches of up to 50 messages, whatever their size). The
poller process does what it does in production: fetch, commit, queue, move;
the queued tasks are only counted, as a worker elsewhere would run them.
Prints each run's peak RSS (that process's own VmHWM) beside that of a run
with nothing to take in, its time, and checks that every message was stored
once and moved.

usage: .venv/bin/python bench/bench_poller_memory.py [--database-url URL] [--max-bytes N]
"""

from __future__ import annotations

import argparse
import base64
import mailbox
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from config import Settings  # noqa: E402
from consultant.db import Database, upgrade  # noqa: E402
from consultant.mail.imap_poller import ImapPoller  # noqa: E402
from consultant.mail.intake import Intake  # noqa: E402
from tests.support.dovecot import Dovecot, running_dovecot  # noqa: E402

BENCH = REPO.parent / "shared" / "corpus" / "bench"
HUGE_MESSAGES = 5
ATTACHMENT_BYTES = 22_500_000  # about 30 MB once in base64
UNCAPPED = 10**12


def huge_message(n: int) -> bytes:
    """A question with a scanned 'op note' attached: ~30 MB, as such mail really comes."""
    scan = base64.encodebytes(random.Random(n).randbytes(ATTACHMENT_BYTES))
    return (
        b"From: Amy Park <apark@cedarortho.example>\r\n"
        b"To: CaseConsultant <consult@caseconsultant.example>\r\n"
        b"Subject: op note for 29880, is 29877 separate?\r\n"
        b"Date: Mon, 05 Oct 2026 13:23:00 +0000\r\n"
        + f"Message-ID: <huge-{n}@cedarortho.example>\r\n".encode()
        + b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nThe op note is attached.\r\n"
        b'--b\r\nContent-Type: application/pdf; name="op-note.pdf"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + scan + b"\r\n--b--\r\n"
    )


def fill(server: Dovecot, folders: list[str]) -> int:
    """Append the corpus and the huge messages to the first folder, copy them to the rest."""
    box = mailbox.mbox(BENCH / "corpus-1000.mbox", create=False)
    with server.client() as client:
        for folder in folders:
            client.create_folder(folder)
        for key in box.iterkeys():
            client.append(folders[0], box.get_bytes(key))
        for n in range(HUGE_MESSAGES):
            client.append(folders[0], huge_message(n))
        client.select_folder(folders[0])
        uids = client.search(["ALL"])
        for folder in folders[1:]:
            client.copy(uids, folder)
    return len(uids)


def child(args: argparse.Namespace) -> int:
    """The poller process: one pass over ``--folder``, tasks counted instead of queued."""
    with tempfile.TemporaryDirectory(prefix="cc-bench-var-") as var_dir:
        settings = Settings(
            var_dir=Path(var_dir),
            database_url=args.database_url,
            consult_address="consult@caseconsultant.example",
            imap_host="127.0.0.1",
            imap_port=args.imap_port,
            imap_user=args.imap_user,
            imap_password=args.imap_password,
            imap_tls="none",
            imap_folder=args.folder,
            imap_processed_folder=f"{args.folder}-done",
            imap_batch_max_bytes=args.max_bytes,
        )
        db = Database(settings.database_url)
        queued: list[int] = []
        intake = Intake(db, lambda task, row_id: queued.append(row_id))
        stored = ImapPoller(settings, intake).poll_once()
        db.dispose()
    print(stored, len(queued), peak_rss_kb())
    return 0


def peak_rss_kb() -> int:
    """This process's peak resident memory since its exec (VmHWM).

    Not ``ru_maxrss``: that one keeps the high-water mark across exec, so a
    child started from a big parent reports the parent's size.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def run_poller(server: Dovecot, url: str, folder: str, max_bytes: int) -> tuple[int, float, float]:
    """Messages stored, peak RSS in MB and seconds of one poller process."""
    command = [sys.executable, __file__, "--child", "--folder", folder]
    command += ["--max-bytes", str(max_bytes), "--database-url", url]
    command += ["--imap-port", str(server.port), "--imap-user", server.user]
    command += ["--imap-password", server.password]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"the poller process failed on {folder}:\n{result.stderr}")
    stored, queued, peak_kb = (int(word) for word in result.stdout.split())
    assert stored == queued, f"{stored} stored but {queued} tasks queued"
    return stored, peak_kb / 1024, elapsed


def left_in(server: Dovecot, folder: str) -> int:
    with server.client() as client:
        return int(client.folder_status(folder, [b"MESSAGES"])[b"MESSAGES"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a new SQLite file in a temp dir")
    parser.add_argument(
        "--max-bytes", type=int, default=Settings.model_fields["imap_batch_max_bytes"].default
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    for name in ("--folder", "--imap-user", "--imap-password"):
        parser.add_argument(name, help=argparse.SUPPRESS)
    parser.add_argument("--imap-port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)

    runs = [("capped", args.max_bytes), ("uncapped", UNCAPPED)]
    problems = []
    with tempfile.TemporaryDirectory(prefix="cc-bench-") as tmp, running_dovecot() as server:
        workdir = Path(tmp)
        started = time.perf_counter()
        total = fill(server, [name for name, _ in runs])
        print(
            f"mailbox:             {total} messages ({HUGE_MESSAGES} of ~30 MB), "
            f"filled in {time.perf_counter() - started:.1f} s"
        )
        with server.client() as client:
            client.create_folder("empty")
        empty_url = args.database_url or f"sqlite:///{workdir / 'empty'}.db"
        upgrade(empty_url)
        _, peak_mb, _ = run_poller(server, empty_url, "empty", args.max_bytes)
        print(f"{'nothing to take in:':<20} peak RSS {peak_mb:.0f} MB (the process itself)")
        for name, max_bytes in runs:
            url = args.database_url or f"sqlite:///{workdir / name}.db"
            upgrade(url)
            stored, peak_mb, elapsed = run_poller(server, url, name, max_bytes)
            cap = "none" if max_bytes == UNCAPPED else f"{max_bytes:,} bytes"
            print(
                f"{name + ':':<20} peak RSS {peak_mb:.0f} MB, {stored} stored in "
                f"{elapsed:.1f} s (batch byte cap: {cap})"
            )
            if stored != total or left_in(server, name) or left_in(server, f"{name}-done") != total:
                problems.append(f"{name}: {stored} of {total} stored, not all moved")
    for problem in problems:
        print(f"  - {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
