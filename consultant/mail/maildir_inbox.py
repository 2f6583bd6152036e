"""The embedded default's inbox: a local Maildir where any dropped file is a consult email.

After the fetch step it is the same path as IMAP: the intake commits the
bytes and queues processing, and only then is the file moved to the
processed Maildir. A file still being written (changed in the last second)
is left for the next pass, so a slow copy is never read half-way.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from consultant.mail.intake import FetchedMessage, Intake

log = logging.getLogger(__name__)
MAILDIR_SUBDIRS = ("tmp", "new", "cur")


def ensure_maildir(path: Path) -> Path:
    """Create ``path`` with its tmp/new/cur folders if missing."""
    for sub in MAILDIR_SUBDIRS:
        (path / sub).mkdir(parents=True, exist_ok=True)
    return path


class MaildirInbox:
    """Feeds files from ``<inbox>/new`` and ``<inbox>/cur`` to the intake."""

    def __init__(
        self,
        inbox: Path,
        processed: Path,
        intake: Intake,
        poll_seconds: float = 1.0,
        settle_seconds: float = 1.0,
        batch_size: int = 50,
    ) -> None:
        self.inbox = ensure_maildir(inbox)
        self.processed = ensure_maildir(processed)
        self.intake = intake
        self.poll_seconds = poll_seconds
        self.settle_seconds = settle_seconds
        self.batch_size = batch_size
        self.mailbox = f"maildir:{inbox.resolve()}"

    def _ready_files(self) -> list[Path]:
        now = time.time()
        found: list[tuple[float, str, Path]] = []
        for sub in ("new", "cur"):
            for entry in os.scandir(self.inbox / sub):
                if entry.name.startswith(".") or not entry.is_file():
                    continue
                mtime = entry.stat().st_mtime
                if now - mtime >= self.settle_seconds:
                    found.append((mtime, entry.name, Path(entry.path)))
        return [path for _, _, path in sorted(found)]

    def poll_once(self) -> int:
        """Take in every settled file; the number of new messages stored."""
        files = self._ready_files()
        stored = 0
        for start in range(0, len(files), self.batch_size):
            batch = files[start : start + self.batch_size]
            messages = [FetchedMessage(raw=path.read_bytes()) for path in batch]
            stored += len(self.intake.store(self.mailbox, messages))
            for path in batch:
                os.replace(path, self._processed_path(path.name))
        return stored

    def _processed_path(self, name: str) -> Path:
        """Where ``name`` goes in the processed Maildir, never over an earlier message.

        People drop files by hand and reuse names (``question.eml``); replacing
        the processed copy would silently lose a message from that folder.
        """
        target = self.processed / "cur" / name
        if target.exists():
            target = target.with_name(f"{time.time_ns()}.{name}")
        return target

    def run(self, stop: threading.Event) -> None:
        """Poll until ``stop`` is set; a failing pass is logged and tried again."""
        log.info("watching %s (drop .eml files into %s)", self.mailbox, self.inbox / "new")
        while not stop.is_set():
            try:
                self.poll_once()
            except Exception:
                log.exception("reading %s failed; trying again", self.inbox)
            stop.wait(self.poll_seconds)
