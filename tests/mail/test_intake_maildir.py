from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from email.parser import BytesHeaderParser
from pathlib import Path

import hypothesis
import psycopg
import pytest
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import undefer

from consultant.db import Database
from consultant.mail.intake import (
    MAX_KEY_LENGTH,
    Cursor,
    FetchedMessage,
    Intake,
    identify,
    read_cursor,
)
from consultant.mail.maildir_inbox import MaildirInbox
from consultant.models import InboundMessage
from consultant.services import Services
from tests.conftest import CONSULT_ADDRESS
from tests.support.corpus import QUESTIONS
from tests.support.intake import RecordingIntake, inbound_rows, padded, with_message_id
from tests.support.postgres import empty_tables
from tests.support.required import free_port
from tests.support.waiting import wait_until


def question(name: str) -> bytes:
    return (QUESTIONS / name).read_bytes()


def inbox_of(services: Services, intake: Intake | None = None) -> MaildirInbox:
    settings = services.settings
    return MaildirInbox(
        settings.maildir_inbox,
        settings.maildir_processed,
        intake or Intake(services.db, services.dispatch),
        settle_seconds=1.0,
    )


def drop(inbox: MaildirInbox, name: str, raw: bytes, age: float = 60.0, sub: str = "new") -> Path:
    """Write ``raw`` into the inbox as a finished delivery last modified ``age`` seconds ago."""
    path = inbox.inbox / sub / name
    path.write_bytes(raw)
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def not_dispatched(task: str, row_id: int) -> None:
    pytest.fail(f"{task}({row_id}) started although nothing was committed")


def names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_dropped_files_become_inbound_rows(services: Services) -> None:
    inbox = inbox_of(services)
    drop(inbox, "a.eml", question("01.eml"))
    drop(inbox, "b.eml", question("02.eml"))

    assert inbox.poll_once() == 2

    rows = inbound_rows(services)
    assert [row.raw for row in rows] == [question("01.eml"), question("02.eml")]
    assert [row.message_id for row in rows] == [
        "<s01.20261005@mail.example>",
        "<s02.20261005@mail.example>",
    ]


def test_stored_files_move_to_processed_maildir(services: Services) -> None:
    inbox = inbox_of(services)
    drop(inbox, "a.eml", question("01.eml"))
    drop(inbox, "b.eml", question("02.eml"), sub="cur")

    inbox.poll_once()

    assert names(inbox.inbox / "new") == set()
    assert names(inbox.inbox / "cur") == set()
    assert names(inbox.processed / "cur") == {"a.eml", "b.eml"}
    assert (inbox.processed / "cur" / "a.eml").read_bytes() == question("01.eml")


def test_file_stays_in_inbox_when_database_is_down(tmp_path: Path) -> None:
    down = Database(f"postgresql://postgres@127.0.0.1:{free_port()}/consultant")
    inbox = MaildirInbox(tmp_path / "inbox", tmp_path / "processed", Intake(down, not_dispatched))
    drop(inbox, "a.eml", question("01.eml"))

    with pytest.raises(OperationalError):
        inbox.poll_once()
    down.dispose()

    assert names(inbox.inbox / "new") == {"a.eml"}
    assert names(inbox.processed / "cur") == set()


def test_file_left_after_failed_store_is_taken_on_next_pass(services: Services) -> None:
    down = Database(f"postgresql://postgres@127.0.0.1:{free_port()}/consultant")
    drop(inbox_of(services), "a.eml", question("01.eml"))
    with pytest.raises(OperationalError):
        inbox_of(services, Intake(down, services.dispatch)).poll_once()
    down.dispose()

    assert inbox_of(services).poll_once() == 1
    assert len(inbound_rows(services)) == 1


def test_file_still_being_written_is_left_for_later(services: Services) -> None:
    inbox = inbox_of(services)
    path = drop(inbox, "a.eml", question("01.eml"), age=0.0)

    assert inbox.poll_once() == 0
    assert names(inbox.inbox / "new") == {"a.eml"}
    assert inbound_rows(services) == []

    os.utime(path, (time.time() - 60, time.time() - 60))
    assert inbox.poll_once() == 1


def test_same_message_dropped_twice_is_stored_once(services: Services) -> None:
    inbox = inbox_of(services)
    drop(inbox, "a.eml", question("01.eml"))
    inbox.poll_once()
    drop(inbox, "a-again.eml", question("01.eml"))

    assert inbox.poll_once() == 0

    assert len(inbound_rows(services)) == 1
    assert names(inbox.inbox / "new") == set()


def test_same_message_twice_in_one_batch_is_stored_once(services: Services) -> None:
    inbox = inbox_of(services)
    drop(inbox, "a.eml", question("01.eml"))
    drop(inbox, "b.eml", question("01.eml"))

    assert inbox.poll_once() == 1
    assert len(inbound_rows(services)) == 1


def test_redelivered_copy_with_other_received_headers_is_stored_once(services: Services) -> None:
    inbox = inbox_of(services)
    first = b"Received: from mx1.mail.example by mx.caseconsultant.example; Mon, 5 Oct 2026\r\n"
    again = b"Received: from mx2.mail.example by mx.caseconsultant.example; Tue, 6 Oct 2026\r\n"
    drop(inbox, "a.eml", first + question("01.eml"))
    inbox.poll_once()
    drop(inbox, "b.eml", again + question("01.eml"))

    assert inbox.poll_once() == 0

    rows = inbound_rows(services)
    assert len(rows) == 1
    assert rows[0].raw.startswith(first)


NO_MESSAGE_ID = (
    b"From: coder@clinic.example\r\nTo: consult@caseconsultant.example\r\n"
    b"Subject: 99213 and 25\r\n\r\nCan I bill 99213-25 with 11102?\r\n"
)


def test_message_without_message_id_is_deduplicated_by_sha256(services: Services) -> None:
    inbox = inbox_of(services)
    drop(inbox, "a.eml", NO_MESSAGE_ID)
    inbox.poll_once()
    drop(inbox, "b.eml", NO_MESSAGE_ID)

    assert inbox.poll_once() == 0

    [row] = inbound_rows(services)
    assert row.message_id is None
    assert row.dedup_key == f"sha256:{row.sha256}"


def test_different_messages_without_message_id_are_both_stored(services: Services) -> None:
    inbox = inbox_of(services)
    drop(inbox, "a.eml", NO_MESSAGE_ID)
    drop(inbox, "b.eml", NO_MESSAGE_ID.replace(b"11102", b"11103"))

    assert inbox.poll_once() == 2


def test_new_message_under_a_reused_file_name_keeps_both_processed_files(
    services: Services,
) -> None:
    inbox = inbox_of(services)
    drop(inbox, "question.eml", question("01.eml"))
    inbox.poll_once()
    drop(inbox, "question.eml", question("02.eml"))
    inbox.poll_once()

    kept = {path.read_bytes() for path in (inbox.processed / "cur").iterdir()}
    assert kept == {question("01.eml"), question("02.eml")}


def test_windows_path_in_body_survives_byte_for_byte(services: Services) -> None:
    raw = (
        b"From: coder@clinic.example\r\nSubject: op note location\r\n"
        b"Message-ID: <win1@clinic.example>\r\n\r\n"
        b"The op note is at C:\\Users\\amy\\Documents\\notes\\new\\2026\\op note.pdf\r\n"
        b"and \\\\fileserver\\share\\x27\\t.txt, is it 47563?\r\n"
    )
    inbox = inbox_of(services)
    drop(inbox, "a.eml", raw)

    inbox.poll_once()

    [row] = inbound_rows(services)
    assert row.raw == raw
    assert row.size == len(raw)


def test_intake_stores_the_mailbox_cursor_with_the_batch(services: Services) -> None:
    intake = Intake(services.db, services.dispatch)
    intake.store(
        "INBOX", [FetchedMessage(question("01.eml"), uid=7, uidvalidity=42)], Cursor(42, 7)
    )

    assert read_cursor(services.db, "INBOX") == Cursor(42, 7)
    [row] = inbound_rows(services)
    assert (row.mailbox, row.uid, row.uidvalidity) == ("INBOX", 7, 42)


# -- hostile bytes, unreadable files, huge files ------------------------------------


def test_nul_in_a_message_id_is_dropped_and_the_other_files_go_on(services: Services) -> None:
    inbox = inbox_of(services)
    hostile = with_message_id(question("01.eml"), b"<s01\x00.20261005@mail.example\xc2\x85>")
    drop(inbox, "a.eml", hostile, age=61)
    drop(inbox, "b.eml", question("02.eml"))

    assert inbox.poll_once() == 2

    rows = inbound_rows(services)
    assert [row.message_id for row in rows] == [
        "<s01.20261005@mail.example>",
        "<s02.20261005@mail.example>",
    ]
    assert rows[0].raw == hostile
    assert names(inbox.inbox / "new") == set()


def test_file_with_nul_bytes_anywhere_is_stored_byte_for_byte(services: Services) -> None:
    raw = (
        b"From: co\x00der@clinic.example\r\nTo: consult@caseconsultant.example\r\n"
        b"Subject: 99213\x00 and 25\r\nMessage-ID: <\x00nul@clinic.example>\r\n\r\n"
        b"Can I bill\x00 99213-25 with 11102?\r\n\x00"
    )
    inbox = inbox_of(services)
    drop(inbox, "a.eml", raw)

    assert inbox.poll_once() == 1

    [row] = inbound_rows(services)
    assert (row.raw, row.message_id) == (raw, "<nul@clinic.example>")
    assert names(inbox.processed / "cur") == {"a.eml"}


@hypothesis.settings(max_examples=300, deadline=None)
@hypothesis.given(value=st.binary(max_size=400))
def test_identify_gives_only_keys_postgresql_can_store(value: bytes) -> None:
    identity = identify(b"Message-ID: " + value + b"\r\nSubject: x\r\n\r\nbody\r\n")

    for key in filter(None, (identity.dedup_key, identity.message_id)):
        key.encode("utf-8")  # no lone surrogate: the drivers refuse those
        assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or c.isspace() for c in key)
    assert len(identity.dedup_key) <= MAX_KEY_LENGTH


class VanishingIntake(Intake):
    """Deletes ``victim`` while the first batch is stored: after the listing, before its read."""

    def __init__(self, services: Services, victim: Path) -> None:
        super().__init__(services.db, services.dispatch)
        self.victim = victim

    def store(
        self, mailbox: str, messages: Sequence[FetchedMessage], cursor: Cursor | None = None
    ) -> list[int]:
        self.victim.unlink(missing_ok=True)
        return super().store(mailbox, messages, cursor)


def test_file_gone_between_listing_and_reading_does_not_stop_the_others(
    services: Services,
) -> None:
    inbox = inbox_of(services)
    drop(inbox, "a.eml", question("01.eml"), age=63)
    victim = drop(inbox, "b.eml", question("02.eml"), age=62)
    drop(inbox, "c.eml", question("03.eml"), age=61)
    inbox.intake = VanishingIntake(services, victim)
    inbox.batch_size = 1

    assert inbox.poll_once() == 2

    assert [row.raw for row in inbound_rows(services)] == [question("01.eml"), question("03.eml")]
    assert names(inbox.inbox / "new") == set()
    assert names(inbox.processed / "cur") == {"a.eml", "c.eml"}


# Root reads any file whatever its mode; without these two capabilities it cannot.
AS_ROOT_WITHOUT_READ_OVERRIDE = (
    ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] if os.geteuid() == 0 else []
)


def test_unreadable_file_is_left_reported_once_and_the_others_are_stored(
    services: Services, tmp_path: Path
) -> None:
    inbox = inbox_of(services)
    drop(inbox, "a.eml", question("01.eml"), age=62)
    drop(inbox, "b.eml", question("02.eml"), age=61).chmod(0)
    drop(inbox, "c.eml", question("03.eml"), age=60)
    env = {
        **os.environ,
        "CONSULTANT_DATABASE_URL": services.settings.database_url,
        "CONSULTANT_VAR_DIR": str(services.settings.var_dir),
        "CONSULTANT_CONSULT_ADDRESS": CONSULT_ADDRESS,
        "CONSULTANT_MAILDIR_POLL_SECONDS": "0.1",
    }
    command = [*AS_ROOT_WITHOUT_READ_OVERRIDE, sys.executable, "-m", "consultant", "poll"]
    log_file = tmp_path / "poller.log"
    with log_file.open("wb") as log:
        poller = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: len(names(inbox.processed / "cur")) == 2, "the readable files")
        time.sleep(1.0)  # about ten more passes, each meeting the unreadable file again
    finally:
        poller.send_signal(signal.SIGINT)
        poller.wait(timeout=10)

    output = log_file.read_text()
    assert output.count("cannot read b.eml (Permission denied)") == 1, output
    assert [row.raw for row in inbound_rows(services)] == [question("01.eml"), question("03.eml")]
    assert names(inbox.inbox / "new") == {"b.eml"}
    assert names(inbox.processed / "cur") == {"a.eml", "c.eml"}


# -- batches capped by bytes ------------------------------------------------------------


def test_files_are_taken_in_batches_capped_by_bytes(services: Services) -> None:
    intake = RecordingIntake(services)
    inbox = inbox_of(services, intake)
    inbox.batch_max_bytes = 1_000_000
    sizes = [400_000, 400_000, 400_000, 1_500_000, 300_000, 300_000]
    for n, size in enumerate(sizes):
        raw = padded(with_message_id(question("01.eml"), f"<big{n}@clinic.example>".encode()), size)
        drop(inbox, f"{n}.eml", raw, age=60 - n)

    assert inbox.poll_once() == len(sizes)

    # Oldest first; a batch holds at most 1 MB, and the 1.5 MB file comes alone.
    assert [len(batch) for batch in intake.batches] == [2, 1, 1, 2]
    assert all(sum(batch) <= 1_000_000 or len(batch) == 1 for batch in intake.batches)
    assert names(inbox.inbox / "new") == set()


# -- the database refuses a value, or goes away, in the middle of a batch -----------------

REFUSE = """
CREATE OR REPLACE FUNCTION cc_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.message_id = '<refused@clinic.example>' THEN
        RAISE EXCEPTION 'refused by the test' USING ERRCODE = 'character_not_in_repertoire';
    END IF;
    IF NEW.message_id = '<server-gone@clinic.example>' THEN
        RAISE EXCEPTION 'gone for the test' USING ERRCODE = 'admin_shutdown';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER cc_test_refuse BEFORE INSERT ON inbound_message
    FOR EACH ROW EXECUTE FUNCTION cc_test_refuse();
"""


@pytest.fixture
def refusing_postgres(postgres_database: str) -> Iterator[Database]:
    """PostgreSQL refusing two Message-IDs: one for its data (22021), one as a server
    shutting down (57P01); real errors of the server, raised by a trigger."""
    empty_tables(postgres_database)
    with psycopg.connect(postgres_database, autocommit=True) as connection:
        connection.execute(REFUSE)
    database = Database(postgres_database)
    try:
        yield database
    finally:
        database.dispose()
        with psycopg.connect(postgres_database, autocommit=True) as connection:
            connection.execute("DROP TRIGGER cc_test_refuse ON inbound_message")
            connection.execute("DROP FUNCTION cc_test_refuse()")


def test_a_row_refused_for_its_data_is_kept_by_its_bytes_and_the_batch_goes_on(
    refusing_postgres: Database, caplog: pytest.LogCaptureFixture
) -> None:
    queued: list[list[int]] = []
    intake = Intake(refusing_postgres, lambda task, row_ids: queued.append(row_ids))
    refused = with_message_id(question("02.eml"), b"<refused@clinic.example>")
    batch = [question("01.eml"), refused, question("03.eml")]

    ids = intake.store("INBOX", [FetchedMessage(raw, uid=n) for n, raw in enumerate(batch, 1)])

    assert len(ids) == 3 and queued == [ids]  # one batch
    with refusing_postgres.session() as session:
        rows = list(
            session.scalars(
                select(InboundMessage)
                .options(undefer(InboundMessage.raw))
                .order_by(InboundMessage.uid)
            )
        )
    assert [row.raw for row in rows] == batch
    kept = rows[1]
    assert kept.message_id is None
    assert kept.dedup_key == f"sha256:{kept.sha256}"
    [warning] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    line = warning.getMessage()
    assert "<refused@clinic.example> (uid 2)" in line and "CharacterNotInRepertoire" in line
    subject = BytesHeaderParser().parsebytes(refused)["Subject"]
    assert subject and subject not in line  # the subject may name a patient


def test_a_connection_error_in_a_batch_stores_none_of_it(refusing_postgres: Database) -> None:
    intake = Intake(refusing_postgres, not_dispatched)
    gone = with_message_id(question("02.eml"), b"<server-gone@clinic.example>")

    with pytest.raises(OperationalError):
        intake.store(
            "INBOX", [FetchedMessage(question("01.eml")), FetchedMessage(gone)], Cursor(1, 2)
        )

    with refusing_postgres.session() as session:
        assert session.scalars(select(InboundMessage)).all() == []
    assert read_cursor(refusing_postgres, "INBOX") is None
