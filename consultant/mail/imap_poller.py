"""The IMAP poller: fetch new mail by UID, commit it, then flag and move it.

The cursor (UIDVALIDITY, last UID) advances in the same transaction as the
rows it covers, so a restart resumes exactly where the last commit ended.
Messages at or below the cursor that are still in the folder were committed
but not yet moved (a crash between the commit and the MOVE): they are moved
on the next pass, not fetched again. When UIDVALIDITY changes the cursor
starts over and deduplication by Message-ID keeps anything from being
stored twice.

IDLE is a hint, not the truth: the poller catches up by UID after every
wake-up, renews IDLE well before the 29-minute limit, and falls back to
polling on servers without IDLE. A connection the server closed during IDLE
is noticed at once (imapclient's ``idle_check`` reports it as "no news", not
as an error). Any connection error, and any error of the database, reconnects
with backoff; a refused login is logged as one clear line per attempt.

Batches are capped by bytes as well as by count (sizes are fetched first), so
a few huge messages never sit in memory together. Another poller of the same
mailbox is harmless: a message it stored is "already stored", a UID it moved
away comes back without a body and is skipped, the cursor never goes back,
and moves are made one poller at a time (Dovecot's MOVE copies, then expunges).
"""

from __future__ import annotations

import logging
import random
import select
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError
from sqlalchemy.exc import DBAPIError

from config import Settings
from config.desks import Desk
from consultant.mail.imap import ImapAuthError, describe, ensure_folder, imap_connection
from consultant.mail.intake import (
    Cursor,
    FetchedMessage,
    Intake,
    mailbox_lock,
    read_cursor,
    size_batches,
)

log = logging.getLogger(__name__)
SEEN = b"\\Seen"
DELETED = b"\\Deleted"
NEW_MAIL = {b"EXISTS", b"RECENT"}
BODY, SIZE = b"BODY[]", b"RFC822.SIZE"
SIZES_PER_FETCH = 500  # UIDs per FETCH of sizes: far below any server's command-line limit


def _chunks(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _new_mail_announced(client: IMAPClient) -> bool:
    """True if the server reported new mail (EXISTS) in any response since the last call.

    A server reports mail that arrives while the poller works in the response
    to its next command (Dovecot: in the STORE or MOVE of the batch just
    stored). imaplib files such responses away and IDLE only reports what
    arrives after it starts, so without this check that message would wait for
    the next IDLE renewal. imapclient has no public accessor for the responses
    imaplib keeps, hence ``_imap``.
    """
    return bool(client._imap.untagged_responses.pop("EXISTS", None))


class Backoff:
    """Exponential delays with jitter: 1 s, 2 s, 4 s ... up to ``ceiling``."""

    def __init__(self, first: float = 1.0, ceiling: float = 300.0) -> None:
        self.first, self.ceiling, self.attempt = first, ceiling, 0

    def reset(self) -> None:
        self.attempt = 0

    def next(self) -> float:
        delay = min(self.ceiling, self.first * 2**self.attempt)
        self.attempt += 1
        return delay * random.uniform(0.8, 1.2)


class ImapPoller:
    """Watches one IMAP folder and feeds every new message to the intake."""

    def __init__(
        self,
        settings: Settings,
        intake: Intake,
        *,
        backoff_first: float = 1.0,
        backoff_ceiling: float = 30.0,
        desk: Desk | None = None,
    ) -> None:
        """``backoff_first``/``backoff_ceiling``: reconnect delays (tests shorten them).

        At most half a minute: a server back from an outage is read again soon,
        and one failed attempt every 30 s costs nothing. ``desk``: a desk with a
        folder of its own, watched instead of the main folder.
        """
        assert settings.imap_host
        self.settings = settings
        self.intake = intake
        self.backoff_first, self.backoff_ceiling = backoff_first, backoff_ceiling
        self.desk = desk.key if desk else None
        self.folder = desk.folder if desk and desk.folder else settings.imap_folder
        self.processed_folder = settings.imap_processed_folder or None
        self.mailbox = f"imap://{describe(settings)}/{self.folder}"

    # -- one pass -------------------------------------------------------------

    def poll_once(self) -> int:
        """Connect, take in everything new, disconnect; the number of new messages stored."""
        with imap_connection(self.settings) as client:
            self._prepare(client)
            return self._catch_up(client)

    def _prepare(self, client: IMAPClient) -> None:
        if self.processed_folder and ensure_folder(client, self.processed_folder):
            log.info("created IMAP folder %s for processed mail", self.processed_folder)
        if self.desk and ensure_folder(client, self.folder):  # for the server's rule to fill
            log.info("created IMAP folder %s for desk %s", self.folder, self.desk)

    def _catch_up(self, client: IMAPClient) -> int:
        """Take in everything above the cursor, then finish what earlier passes left unmarked.

        The folder is selected again each pass: a folder deleted and made again
        keeps its old selection alive on Dovecot (a stale view, no error), so
        once a connection would miss the new folder's mail.
        """
        selected = client.select_folder(self.folder)
        _new_mail_announced(client)  # the count SELECT reports is not news; the search follows
        uidvalidity = int(selected[b"UIDVALIDITY"])
        cursor = read_cursor(self.intake.db, self.mailbox)
        if cursor is not None and cursor.uidvalidity != uidvalidity:
            log.warning(
                "%s: UIDVALIDITY changed from %s to %s; reading the folder again "
                "(messages already stored are recognised and skipped)",
                self.mailbox,
                cursor.uidvalidity,
                uidvalidity,
            )
            # Start the new cursor now, so the warning is not repeated on every pass.
            cursor = Cursor(uidvalidity, 0)
            self.intake.store(self.mailbox, [], cursor)
        last_uid = cursor.last_uid if cursor else 0
        # `UID n:*` always matches the highest UID, even when it is below n.
        new_uids = sorted(u for u in client.search(["UID", f"{last_uid + 1}:*"]) if u > last_uid)
        stored = sum(
            self._take_in(client, batch, uidvalidity) for batch in self._batches(client, new_uids)
        )
        if last_uid:  # after the new mail, which should not wait for this search
            self._finish_leftovers(client, last_uid)
        return stored

    def _batches(self, client: IMAPClient, uids: list[int]) -> Iterator[list[int]]:
        """``uids`` in batches capped by count and by bytes; their sizes are fetched first.

        A batch stays in memory until its commit: five 30 MB messages in one
        batch took the poller to 580 MB. A message larger than the cap is a
        batch of its own. UIDs gone before their size was read are left out.
        """
        sizes: dict[int, int] = {}
        for chunk in _chunks(uids, SIZES_PER_FETCH):
            wanted = set(chunk)
            for uid, data in client.fetch(list(chunk), [SIZE]).items():
                if uid in wanted and SIZE in data:  # not an unsolicited FETCH of flags
                    sizes[uid] = int(data[SIZE])
        present = [uid for uid in uids if uid in sizes]
        return size_batches(
            present,
            sizes.__getitem__,
            self.settings.imap_batch_size,
            self.settings.imap_batch_max_bytes,
        )

    def _take_in(self, client: IMAPClient, batch: list[int], uidvalidity: int) -> int:
        """Fetch, store and mark one batch; the number of new messages stored.

        Its own function so that a batch's bytes are freed before the next
        batch is fetched. A UID that comes back without a body was expunged
        meanwhile: moved by another poller of this mailbox, after its commit.
        """
        fetched = client.fetch(batch, [b"BODY.PEEK[]"])
        bodies = {
            uid: fetched[uid][BODY]
            for uid in batch
            if isinstance(fetched.get(uid, {}).get(BODY), bytes)
        }
        if len(bodies) < len(batch):
            gone = sorted(set(batch) - bodies.keys())
            log.info("%s: UIDs %s no longer in the folder; skipped", self.mailbox, gone)
        messages = [FetchedMessage(raw, uid, uidvalidity, self.desk) for uid, raw in bodies.items()]
        stored = self.intake.store(self.mailbox, messages, Cursor(uidvalidity, batch[-1]))
        self._mark_processed(client, list(bodies))
        return len(stored)

    def _finish_leftovers(self, client: IMAPClient, last_uid: int) -> None:
        """Flag or move messages that were committed but not yet marked on the server."""
        criteria = ["UID", f"1:{last_uid}"]
        if not self.processed_folder:
            criteria.append("UNSEEN")
        leftovers = [u for u in client.search(criteria) if u <= last_uid]
        if leftovers:
            log.info("%s: finishing %d message(s) already stored", self.mailbox, len(leftovers))
            self._mark_processed(client, leftovers)

    def _mark_processed(self, client: IMAPClient, uids: list[int]) -> None:
        """Flag the messages read and move them to the processed folder, one poller at a time.

        Dovecot's MOVE (and our COPY fallback) copies first and expunges after:
        two pollers moving the same UID at once leave two copies in Processed.
        One after the other, the second finds the UIDs already gone and does nothing.
        """
        if not uids:
            return
        with mailbox_lock(self.intake.db, self.mailbox):
            self._flag_and_move(client, uids)

    def _flag_and_move(self, client: IMAPClient, uids: list[int]) -> None:
        client.add_flags(uids, [SEEN])
        if not self.processed_folder:
            return
        if client.has_capability("MOVE"):
            client.move(uids, self.processed_folder)
            return
        # No MOVE (Office 365, older servers): COPY, flag deleted, expunge just these UIDs.
        client.copy(uids, self.processed_folder)
        client.add_flags(uids, [DELETED])
        if client.has_capability("UIDPLUS"):
            client.uid_expunge(uids)
        else:
            client.expunge()

    # -- the long-running loop ------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Poll until ``stop`` is set, reconnecting with backoff after any failure."""
        backoff = Backoff(self.backoff_first, self.backoff_ceiling)
        while not stop.is_set():
            try:
                with imap_connection(self.settings) as client:
                    self._prepare(client)
                    log.info("watching %s", self.mailbox)
                    while not stop.is_set():
                        self._catch_up(client)
                        backoff.reset()  # only once the server and the database both worked
                        self._wait_for_mail(client, stop)
            except ImapAuthError as error:
                delay = backoff.next()
                log.error("%s; retrying in %.0f s", error, delay)
                stop.wait(delay)
            except (IMAPClientError, OSError, EOFError) as error:
                delay = backoff.next()
                log.warning(
                    "IMAP connection to %s lost: %s; reconnecting in %.0f s",
                    describe(self.settings),
                    error or type(error).__name__,
                    delay,
                )
                stop.wait(delay)
            except DBAPIError as error:
                # Database down, restarting, locked or not migrated yet: nothing was marked
                # on the server, so the mail waits there. Retrying keeps the poller alive
                # (in `consultant run` it is a thread nobody would restart).
                delay = backoff.next()
                log.warning(
                    "database error while taking in mail from %s: %s; the mail stays on "
                    "the server, trying again in %.0f s",
                    self.mailbox,
                    " ".join(str(error.orig).split()),
                    delay,
                )
                stop.wait(delay)
            except Exception:
                # A bug must not silently end intake (in `consultant run` this is a thread
                # nobody restarts): log it with its traceback and start over.
                delay = backoff.next()
                log.exception(
                    "unexpected error in the poller of %s; restarting in %.0f s",
                    self.mailbox,
                    delay,
                )
                stop.wait(delay)

    def _wait_for_mail(self, client: IMAPClient, stop: threading.Event) -> None:
        """Return when new mail may have arrived, when IDLE is due for renewal, or on stop."""
        if _new_mail_announced(client):
            return  # arrived during the catch-up: IDLE would not report it again
        if not client.has_capability("IDLE"):
            stop.wait(self.settings.imap_poll_seconds)
            return
        # Mail saved while our last command ran, after the server's sync for it, is not
        # reported when IDLE starts (Dovecot tells it only at the next sync, here DONE,
        # up to a renewal later). A NOOP syncs first, so it is reported now.
        _, responses = client.noop()
        if _announces_mail(responses) or _new_mail_announced(client):
            return
        client.idle()
        try:
            self._idle(client, stop)
        finally:
            # Also the liveness check: on a connection the server closed this raises.
            client.idle_done()

    def _idle(self, client: IMAPClient, stop: threading.Event) -> None:
        """Wait in IDLE for news, the renewal time, a stop, or a sign the connection is gone.

        ``idle_check`` returns an empty list, at once, on a connection the
        server closed: looping on it spins at full CPU until the renewal. So
        the socket is watched here, and readable-but-nothing-to-read ends the
        wait; ``idle_done`` then raises if the server is gone, and the poller
        reconnects with backoff.
        """
        renew_at = time.monotonic() + self.settings.imap_idle_renew_seconds
        while not stop.is_set():
            left = renew_at - time.monotonic()
            if left <= 0:
                return
            if not _readable(client, min(left, self.settings.imap_idle_check_seconds)):
                continue
            responses = client.idle_check(timeout=0)
            if not responses:
                return
            if _announces_mail(responses):
                log.debug("%s: the server announced new mail", self.mailbox)
                return


def _announces_mail(responses: list[Any]) -> bool:
    """True if any of imapclient's parsed untagged responses reports new mail (a RECENT
    count of 0, which Dovecot sends after an expunge, does not)."""
    return any(
        len(r) > 1 and r[1] in NEW_MAIL and not (r[1] == b"RECENT" and r[0] == 0) for r in responses
    )


def _readable(client: IMAPClient, timeout: float) -> bool:
    """True if the server sent something (or closed the connection) within ``timeout``.

    ``poll``, not ``select``: select fails on a descriptor numbered above 1024,
    and ``consultant run`` holds many (web, database, mail) in one process.
    """
    poller = select.poll()
    poller.register(client.socket(), select.POLLIN)
    return bool(poller.poll(timeout * 1000))
