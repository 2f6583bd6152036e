"""The step every source shares after fetching: commit the raw bytes, then queue work.

A source (the IMAP poller, the Maildir inbox) hands over a batch of fetched
messages. They are stored in one transaction together with the source's
cursor, duplicates (same Message-ID, or same bytes when there is none) are
skipped, and only after the commit are the new rows queued, as one batch
(``process_messages``). The source flags or moves the messages on its side after this
returns, so a crash at any point loses nothing and stores nothing twice.

Two sources may read one mailbox at once (two pollers, a restart overlapping
the old process): an insert that meets the same (mailbox, key) is "already
stored", never an error, the cursor only ever moves forward, and what must
not run twice at once on the source's side runs under ``mailbox_lock``. One
message the database refuses for its data is kept by its bytes alone, never
allowed to stop the rest of the batch (and every batch after it).
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from email import policy
from email.parser import BytesHeaderParser
from typing import Any, TypeVar

from sqlalchemy import and_, case, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from consultant.db import Database, advisory_key
from consultant.db_errors import DbErrorKind, classify
from consultant.dispatch import Dispatcher
from consultant.mail.threads import normalise_message_id
from consultant.models import InboundMessage, MailboxCursor, utcnow

log = logging.getLogger(__name__)
_HEADERS = BytesHeaderParser(policy=policy.compat32)
_END_OF_HEADERS = re.compile(rb"\r?\n\r?\n")
MAX_KEY_LENGTH = 300
T = TypeVar("T")


@dataclass(frozen=True)
class FetchedMessage:
    """One message as a source read it, before anything is parsed."""

    raw: bytes
    uid: int | None = None
    uidvalidity: int | None = None
    desk: str | None = None  # read from a desk's own folder (config.desks)


@dataclass(frozen=True)
class Identity:
    message_id: str | None
    sha256: str
    dedup_key: str


def _message_id_header(raw: bytes) -> str | None:
    """The Message-ID header's text, read from the header block alone.

    Only the header block is parsed: the parser would otherwise decode the
    whole message, a second copy of a 30 MB attachment. Raw values are taken
    because compat32 turns a header with 8-bit bytes into a ``Header`` object;
    the bytes are read as UTF-8, as the full parser reads them later.
    """
    end = _END_OF_HEADERS.search(raw)
    headers = _HEADERS.parsebytes(raw[: end.end()] if end else raw)
    for name, value in headers.raw_items():
        if name.lower() == "message-id":
            return value.encode("ascii", "surrogateescape").decode("utf-8", "replace")
    return None


def identify(raw: bytes) -> Identity:
    """The Message-ID, checksum and deduplication key of ``raw``; all storable as they are."""
    sha = hashlib.sha256(raw).hexdigest()
    try:
        message_id = normalise_message_id(_message_id_header(raw))
    except (ValueError, TypeError, UnicodeError):
        message_id = None
    if message_id and len(message_id) + 4 <= MAX_KEY_LENGTH:
        return Identity(message_id, sha, f"mid:{message_id}")
    if message_id:
        digest = hashlib.sha256(message_id.encode()).hexdigest()
        return Identity(message_id, sha, f"mid-sha256:{digest}")
    return _by_bytes(sha)


def _by_bytes(sha: str) -> Identity:
    return Identity(None, sha, f"sha256:{sha}")


def size_batches(
    items: Sequence[T], size_of: Callable[[T], int], max_count: int, max_bytes: int
) -> Iterator[list[T]]:
    """``items`` in order, in groups of at most ``max_count`` items and ``max_bytes`` bytes.

    A source holds a whole batch in memory until it is committed, so a batch
    is capped by bytes as well as by count; an item larger than the cap is a
    group of its own.
    """
    batch: list[T] = []
    total = 0
    for item in items:
        size = size_of(item)
        if batch and (len(batch) >= max_count or total + size > max_bytes):
            yield batch
            batch, total = [], 0
        batch.append(item)
        total += size
    if batch:
        yield batch


@dataclass(frozen=True)
class Cursor:
    uidvalidity: int
    last_uid: int


def read_cursor(db: Database, mailbox: str) -> Cursor | None:
    """Where the last committed batch of ``mailbox`` ended, if anywhere."""
    with db.session() as session:
        row = session.scalar(select(MailboxCursor).where(MailboxCursor.mailbox == mailbox))
        return Cursor(row.uidvalidity, row.last_uid) if row else None


def _insert(session: Session) -> Callable[[type[Any]], Any]:
    """The dialect's INSERT, which alone knows ON CONFLICT (PostgreSQL and SQLite)."""
    return {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[
        session.get_bind().dialect.name
    ]


def _save_cursor(session: Session, mailbox: str, cursor: Cursor) -> None:
    """Upsert the cursor; never backwards within one UIDVALIDITY.

    Another poller of the same mailbox may have committed a later batch
    first; moving the cursor back would make both fetch that batch again.
    """
    statement = _insert(session)(MailboxCursor).values(
        mailbox=mailbox,
        uidvalidity=cursor.uidvalidity,
        last_uid=cursor.last_uid,
        updated_at=utcnow(),
    )
    new = statement.excluded
    kept = and_(MailboxCursor.uidvalidity == new.uidvalidity, MailboxCursor.last_uid > new.last_uid)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[MailboxCursor.mailbox],
            set_={
                "uidvalidity": new.uidvalidity,
                "last_uid": case((kept, MailboxCursor.last_uid), else_=new.last_uid),
                "updated_at": new.updated_at,
            },
        )
    )


@contextmanager
def mailbox_lock(db: Database, mailbox: str) -> Iterator[None]:
    """Hold ``mailbox``'s lock, across threads and processes, for as long as the block runs.

    PostgreSQL: a session advisory lock, outside any transaction, released by
    the server if the holder dies. SQLite lives on one machine by nature: an
    ``flock`` on a file beside the database, released by the kernel likewise.
    """
    url = db.engine.url
    if url.get_backend_name() == "postgresql":
        key = advisory_key(mailbox)
        with db.engine.connect() as connection:
            autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
            autocommit.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
            try:
                yield
            finally:
                autocommit.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
        return
    if not url.database or url.database == ":memory:":
        yield  # a private database: nobody else to keep out
        return
    with open(f"{url.database}.mailbox-lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Intake:
    """Stores fetched messages and starts their processing."""

    def __init__(self, db: Database, dispatch: Dispatcher) -> None:
        self.db = db
        self.dispatch = dispatch

    def store(
        self, mailbox: str, messages: Sequence[FetchedMessage], cursor: Cursor | None = None
    ) -> list[int]:
        """Commit the new messages of a batch (and the cursor); return the new row ids.

        A connection error aborts the whole batch and propagates: nothing is
        committed, so the source leaves the mail where it is and tries again.
        A value the database refuses (rare: ids and text are cleaned first)
        sends the batch through again, each row in a savepoint of its own, so
        that the one refused is kept by its bytes and the rest go on.
        """
        for careful in (False, True):
            try:
                ids = self._store_batch(mailbox, messages, cursor, careful)
                break
            except DBAPIError as error:
                if careful or classify(error) is not DbErrorKind.DATA:
                    raise
        if ids:
            self.dispatch("process_messages", ids)
        return ids

    def _store_batch(
        self,
        mailbox: str,
        messages: Sequence[FetchedMessage],
        cursor: Cursor | None,
        careful: bool,
    ) -> list[int]:
        with self.db.session() as session:
            if careful:
                ids = [
                    i
                    for f in messages
                    if (i := _store_one_carefully(session, mailbox, f)) is not None
                ]
            else:
                ids = _store_all(session, mailbox, messages)
            if cursor is not None:
                _save_cursor(session, mailbox, cursor)
        return ids


def _store_all(session: Session, mailbox: str, messages: Sequence[FetchedMessage]) -> list[int]:
    """Insert the batch in one statement; the new rows' ids, in the batch's order.

    What was stored before (or twice in this batch) is skipped, as one at a time.
    """
    if not messages:
        return []
    identities = [identify(fetched.raw) for fetched in messages]
    rows = [_row(mailbox, f, i) for f, i in zip(messages, identities, strict=True)]
    statement = (
        _insert(session)(InboundMessage)
        .values(rows)
        .on_conflict_do_nothing(index_elements=[InboundMessage.mailbox, InboundMessage.dedup_key])
        .returning(InboundMessage.id, InboundMessage.dedup_key)
    )
    new = {row_id: key for row_id, key in session.execute(statement)}
    key_of = {key: row_id for row_id, key in new.items()}
    ids, seen = [], set()
    for fetched, identity in zip(messages, identities, strict=True):
        row_id = key_of.get(identity.dedup_key)
        if row_id is not None and identity.dedup_key not in seen:
            ids.append(row_id)
        else:
            _note_already_stored(session, mailbox, fetched, identity)
        seen.add(identity.dedup_key)
    return ids


def _row(mailbox: str, fetched: FetchedMessage, identity: Identity) -> dict[str, Any]:
    return {
        "mailbox": mailbox,
        "dedup_key": identity.dedup_key,
        "message_id": identity.message_id,
        "sha256": identity.sha256,
        "raw": fetched.raw,
        "size": len(fetched.raw),
        "uid": fetched.uid,
        "uidvalidity": fetched.uidvalidity,
        "desk": fetched.desk,
    }


def _store_one_carefully(session: Session, mailbox: str, fetched: FetchedMessage) -> int | None:
    """Insert one message in a savepoint; its new row id, or None if already stored.

    A row refused for its data is rolled back to the savepoint alone and
    stored again by its bytes: the raw bytes are always storable, and the
    message can be looked at and replayed from there.
    """
    identity = identify(fetched.raw)
    try:
        with session.begin_nested():
            return _insert_new(session, mailbox, fetched, identity)
    except DBAPIError as error:
        if classify(error) is not DbErrorKind.DATA:
            raise
        log.warning(
            "%s: the database refused message %s (uid %s): %s; kept by its bytes as "
            "sha256:%s, without its Message-ID",
            mailbox,
            identity.message_id or "without Message-ID",
            fetched.uid,
            type(error.orig).__name__,
            identity.sha256[:12],
        )
    with session.begin_nested():
        return _insert_new(session, mailbox, fetched, _by_bytes(identity.sha256))


def _insert_new(
    session: Session, mailbox: str, fetched: FetchedMessage, identity: Identity
) -> int | None:
    """INSERT ... ON CONFLICT DO NOTHING: a row another poller committed first is no error.

    On PostgreSQL the insert waits for a concurrent transaction holding the
    same key and then does nothing if that one committed.
    """
    statement = (
        _insert(session)(InboundMessage)
        .values(_row(mailbox, fetched, identity))
        .on_conflict_do_nothing(index_elements=[InboundMessage.mailbox, InboundMessage.dedup_key])
        .returning(InboundMessage.id)
    )
    row_id = session.scalar(statement)
    if row_id is None:
        _note_already_stored(session, mailbox, fetched, identity)
    return row_id


def _note_already_stored(
    session: Session, mailbox: str, fetched: FetchedMessage, identity: Identity
) -> None:
    existing = session.scalar(
        select(InboundMessage.id).where(
            InboundMessage.mailbox == mailbox,
            InboundMessage.dedup_key == identity.dedup_key,
        )
    )
    log.info(
        "%s: message %s already stored as inbound #%s, not stored again",
        mailbox,
        identity.message_id or identity.sha256[:12],
        existing,
    )
