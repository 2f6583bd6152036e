"""The step every source shares after fetching: commit the raw bytes, then queue work.

A source (the IMAP poller, the Maildir inbox) hands over a batch of fetched
messages. They are stored in one transaction together with the source's
cursor, duplicates (same Message-ID, or same bytes when there is none) are
skipped, and only after the commit is ``process_message`` queued for each
new row. The source flags or moves the messages on its side after this
returns, so a crash at any point loses nothing and stores nothing twice.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from email import policy
from email.parser import BytesHeaderParser

from sqlalchemy import select
from sqlalchemy.orm import Session

from consultant.db import Database
from consultant.dispatch import Dispatcher
from consultant.mail.threads import normalise_message_id
from consultant.models import InboundMessage, MailboxCursor

log = logging.getLogger(__name__)
_HEADERS = BytesHeaderParser(policy=policy.compat32)
MAX_KEY_LENGTH = 300


@dataclass(frozen=True)
class FetchedMessage:
    """One message as a source read it, before anything is parsed."""

    raw: bytes
    uid: int | None = None
    uidvalidity: int | None = None


@dataclass(frozen=True)
class Identity:
    message_id: str | None
    sha256: str
    dedup_key: str


def identify(raw: bytes) -> Identity:
    """The Message-ID and checksum of ``raw``, read from the header block alone."""
    sha = hashlib.sha256(raw).hexdigest()
    try:
        message_id = normalise_message_id(_HEADERS.parsebytes(raw).get("message-id"))
    except (ValueError, TypeError, UnicodeError):
        message_id = None
    if message_id and len(message_id) + 4 <= MAX_KEY_LENGTH:
        return Identity(message_id, sha, f"mid:{message_id}")
    if message_id:
        digest = hashlib.sha256(message_id.encode()).hexdigest()
        return Identity(message_id, sha, f"mid-sha256:{digest}")
    return Identity(None, sha, f"sha256:{sha}")


@dataclass(frozen=True)
class Cursor:
    uidvalidity: int
    last_uid: int


def read_cursor(db: Database, mailbox: str) -> Cursor | None:
    """Where the last committed batch of ``mailbox`` ended, if anywhere."""
    with db.session() as session:
        row = session.scalar(select(MailboxCursor).where(MailboxCursor.mailbox == mailbox))
        return Cursor(row.uidvalidity, row.last_uid) if row else None


def _save_cursor(session: Session, mailbox: str, cursor: Cursor) -> None:
    row = session.scalar(select(MailboxCursor).where(MailboxCursor.mailbox == mailbox))
    if row is None:
        session.add(MailboxCursor(mailbox=mailbox, **vars(cursor)))
    else:
        row.uidvalidity, row.last_uid = cursor.uidvalidity, cursor.last_uid


class Intake:
    """Stores fetched messages and starts their processing."""

    def __init__(self, db: Database, dispatch: Dispatcher) -> None:
        self.db = db
        self.dispatch = dispatch

    def store(
        self, mailbox: str, messages: Sequence[FetchedMessage], cursor: Cursor | None = None
    ) -> list[int]:
        """Commit the new messages of a batch (and the cursor); return the new row ids."""
        new_rows: list[InboundMessage] = []
        with self.db.session() as session:
            for fetched in messages:
                identity = identify(fetched.raw)
                existing = session.scalar(
                    select(InboundMessage.id).where(
                        InboundMessage.mailbox == mailbox,
                        InboundMessage.dedup_key == identity.dedup_key,
                    )
                )
                if existing is not None:
                    log.info(
                        "%s: message %s already stored as inbound #%s, not stored again",
                        mailbox,
                        identity.message_id or identity.sha256[:12],
                        existing,
                    )
                    continue
                row = InboundMessage(
                    mailbox=mailbox,
                    dedup_key=identity.dedup_key,
                    message_id=identity.message_id,
                    sha256=identity.sha256,
                    raw=fetched.raw,
                    size=len(fetched.raw),
                    uid=fetched.uid,
                    uidvalidity=fetched.uidvalidity,
                )
                session.add(row)
                session.flush()
                new_rows.append(row)
            if cursor is not None:
                _save_cursor(session, mailbox, cursor)
        ids = [row.id for row in new_rows]
        for row_id in ids:
            self.dispatch("process_message", row_id)
        return ids
