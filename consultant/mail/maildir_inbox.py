"""The embedded default's inbox: a local Maildir where any dropped file is a consult email.

After the fetch step it is the same path as IMAP: the intake commits the
bytes and queues processing, and only then is the file moved to the
processed Maildir. A file still being written (changed in the last second)
is left for the next pass, so a slow copy is never read half-way. Files are
taken in batches capped by count and by bytes, and a file that cannot be read
is left where it is without holding up the others.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from consultant.mail.intake import FetchedMessage, Intake, size_batches

log = logging.getLogger(__name__)
MAILDIR_SUBDIRS = ("tmp", "new", "cur")


@dataclass(frozen=True)
class DroppedFile:
    path: Path
    size: int


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
        batch_max_bytes: int = 20_000_000,
        desk: str | None = None,
    ) -> None:
        """``batch_max_bytes``: how much mail one batch may hold in memory (one file at least).

        ``desk``: the key of the desk whose own folder this is.
        """
        self.desk = desk
        self.inbox = ensure_maildir(inbox)
        self.processed = ensure_maildir(processed)
        self.intake = intake
        self.poll_seconds = poll_seconds
        self.settle_seconds = settle_seconds
        self.batch_size = batch_size
        self.batch_max_bytes = batch_max_bytes
        self.mailbox = f"maildir:{inbox.resolve()}"
        self._unreadable: set[str] = set()

    def _ready_files(self) -> list[DroppedFile]:
        """Settled files, oldest first; one that vanishes while we look is simply not there."""
        now = time.time()
        found: list[tuple[float, str, DroppedFile]] = []
        for sub in ("new", "cur"):
            for entry in os.scandir(self.inbox / sub):
                try:
                    if entry.name.startswith(".") or not entry.is_file():
                        continue
                    stat = entry.stat()
                except FileNotFoundError:
                    continue
                if now - stat.st_mtime >= self.settle_seconds:
                    found.append(
                        (stat.st_mtime, entry.name, DroppedFile(Path(entry.path), stat.st_size))
                    )
        return [dropped for _, _, dropped in sorted(found)]

    def poll_once(self) -> int:
        """Take in every settled file; the number of new messages stored."""
        files = self._ready_files()
        stored = 0
        for batch in size_batches(
            files, lambda dropped: dropped.size, self.batch_size, self.batch_max_bytes
        ):
            read = [(d.path, raw) for d in batch if (raw := self._read(d.path)) is not None]
            fetched = [FetchedMessage(raw, desk=self.desk) for _, raw in read]
            stored += len(self.intake.store(self.mailbox, fetched))
            for path, _ in read:
                self._move_to_processed(path)
        self._unreadable.intersection_update(dropped.path.name for dropped in files)
        return stored

    def _read(self, path: Path) -> bytes | None:
        """The file's bytes, or None if it cannot be read: one bad file never stops the rest.

        A file that cannot be read (permissions, an I/O error) stays where it
        is and is tried again on every pass, but reported only once. One gone
        since the listing was taken by another reader or removed: nothing to do.
        """
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            log.info("%s: %s went away before it was read", self.mailbox, path.name)
            return None
        except OSError as error:
            if path.name not in self._unreadable:
                log.warning(
                    "%s: cannot read %s (%s); left in the inbox, the other files go on",
                    self.mailbox,
                    path.name,
                    error.strerror or type(error).__name__,
                )
            self._unreadable.add(path.name)
            return None
        self._unreadable.discard(path.name)
        return raw

    def _move_to_processed(self, path: Path) -> None:
        """Move a stored file; another reader of the same folder may have moved it first."""
        try:
            os.replace(path, self._processed_path(path.name))
        except FileNotFoundError:
            log.info("%s: %s was moved away by someone else", self.mailbox, path.name)

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
