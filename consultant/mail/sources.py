"""Where mail comes in: the main folder and each desk's own folder, one reader each.

IMAP (when a host is configured) or the local Maildir. A desk with a folder
of its own (``config.desks``) gets its own reader, in its own thread when
running: IDLE watches one selected folder per connection, and one folder's
trouble (deleted, unreadable) never stops the others.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Protocol

from config import Settings
from config.desks import Desk
from consultant.mail.imap_poller import ImapPoller
from consultant.mail.intake import Intake
from consultant.mail.maildir_inbox import MaildirInbox
from consultant.services import Services

log = logging.getLogger(__name__)


class Source(Protocol):
    def poll_once(self) -> int: ...

    def run(self, stop: threading.Event) -> None: ...


class AllSources:
    """Several readers as one: a pass reads each in turn, running runs each in a thread."""

    def __init__(self, sources: Sequence[Source]) -> None:
        self.sources = list(sources)

    def poll_once(self) -> int:
        """Take in what each folder holds now; the number of new messages stored.

        A folder that fails is logged and the others are still read; the
        failure is raised at the end so ``consultant poll --once`` exits non-zero.
        """
        stored, failed = 0, None
        for source in self.sources:
            try:
                stored += source.poll_once()
            except Exception as error:
                log.exception("reading %s failed", getattr(source, "mailbox", source))
                failed = failed or error
        if failed is not None:
            raise failed
        return stored

    def run(self, stop: threading.Event) -> None:
        """Run every reader until ``stop`` is set."""
        threads = [
            threading.Thread(target=source.run, args=(stop,), name=f"inbox-{n}", daemon=True)
            for n, source in enumerate(self.sources)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(timeout=1)


def make_source(services: Services) -> Source:
    """The readers of the main folder and of each desk's own folder."""
    settings = services.settings
    intake = Intake(services.db, services.dispatch)
    sources = [_reader(settings, intake, None)] + [
        _reader(settings, intake, desk) for desk in settings.desks.others if desk.folder
    ]
    return sources[0] if len(sources) == 1 else AllSources(sources)


def _reader(settings: Settings, intake: Intake, desk: Desk | None) -> Source:
    if settings.imap_host:
        return ImapPoller(settings, intake, desk=desk)
    return MaildirInbox(
        settings.maildir_desk_inbox(desk.key) if desk and desk.folder else settings.maildir_inbox,
        settings.maildir_processed,
        intake,
        poll_seconds=settings.maildir_poll_seconds,
        batch_max_bytes=settings.imap_batch_max_bytes,
        desk=desk.key if desk else None,
    )
