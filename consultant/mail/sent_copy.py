"""A copy of each sent message in the IMAP Sent folder, so the mailbox shows the whole thread."""

from __future__ import annotations

from typing import Protocol

from config import Settings
from consultant.mail.imap import ensure_folder, imap_connection


class SentCopy(Protocol):
    """Files a copy of a message we sent."""

    def append(self, raw: bytes) -> None: ...


class ImapSentFolder:
    """Appends to ``CONSULTANT_IMAP_SENT_FOLDER`` (created if missing), marked \\Seen."""

    def __init__(self, settings: Settings) -> None:
        assert settings.imap_sent_folder
        self.settings = settings
        self.folder = settings.imap_sent_folder

    def append(self, raw: bytes) -> None:
        with imap_connection(self.settings) as client:
            ensure_folder(client, self.folder)
            client.append(self.folder, raw, flags=[b"\\Seen"])


def make_sent_copy(settings: Settings) -> SentCopy | None:
    """An IMAP Sent folder when IMAP and a Sent folder are configured, else no copy."""
    if settings.imap_host and settings.imap_sent_folder:
        return ImapSentFolder(settings)
    return None
