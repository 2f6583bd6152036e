from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from consultant.db import Database
from consultant.mail.intake import Cursor, FetchedMessage, Intake, read_cursor
from consultant.mail.maildir_inbox import MaildirInbox
from consultant.models import InboundMessage
from consultant.services import Services
from tests.support.corpus import QUESTIONS
from tests.support.required import free_port


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


def stored(services: Services) -> list[InboundMessage]:
    with services.db.session() as session:
        return list(session.scalars(select(InboundMessage).order_by(InboundMessage.id)))


def not_dispatched(task: str, row_id: int) -> None:
    pytest.fail(f"{task}({row_id}) started although nothing was committed")


def names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_dropped_files_become_inbound_rows(services: Services) -> None:
    inbox = inbox_of(services)
    drop(inbox, "a.eml", question("01.eml"))
    drop(inbox, "b.eml", question("02.eml"))

    assert inbox.poll_once() == 2

    rows = stored(services)
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
    assert len(stored(services)) == 1


def test_file_still_being_written_is_left_for_later(services: Services) -> None:
    inbox = inbox_of(services)
    path = drop(inbox, "a.eml", question("01.eml"), age=0.0)

    assert inbox.poll_once() == 0
    assert names(inbox.inbox / "new") == {"a.eml"}
    assert stored(services) == []

    os.utime(path, (time.time() - 60, time.time() - 60))
    assert inbox.poll_once() == 1


def test_same_message_dropped_twice_is_stored_once(services: Services) -> None:
    inbox = inbox_of(services)
    drop(inbox, "a.eml", question("01.eml"))
    inbox.poll_once()
    drop(inbox, "a-again.eml", question("01.eml"))

    assert inbox.poll_once() == 0

    assert len(stored(services)) == 1
    assert names(inbox.inbox / "new") == set()


def test_same_message_twice_in_one_batch_is_stored_once(services: Services) -> None:
    inbox = inbox_of(services)
    drop(inbox, "a.eml", question("01.eml"))
    drop(inbox, "b.eml", question("01.eml"))

    assert inbox.poll_once() == 1
    assert len(stored(services)) == 1


def test_redelivered_copy_with_other_received_headers_is_stored_once(services: Services) -> None:
    inbox = inbox_of(services)
    first = b"Received: from mx1.mail.example by mx.caseconsultant.example; Mon, 5 Oct 2026\r\n"
    again = b"Received: from mx2.mail.example by mx.caseconsultant.example; Tue, 6 Oct 2026\r\n"
    drop(inbox, "a.eml", first + question("01.eml"))
    inbox.poll_once()
    drop(inbox, "b.eml", again + question("01.eml"))

    assert inbox.poll_once() == 0

    rows = stored(services)
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

    [row] = stored(services)
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

    [row] = stored(services)
    assert row.raw == raw
    assert row.size == len(raw)


def test_intake_stores_the_mailbox_cursor_with_the_batch(services: Services) -> None:
    intake = Intake(services.db, services.dispatch)
    intake.store(
        "INBOX", [FetchedMessage(question("01.eml"), uid=7, uidvalidity=42)], Cursor(42, 7)
    )

    assert read_cursor(services.db, "INBOX") == Cursor(42, 7)
    [row] = stored(services)
    assert (row.mailbox, row.uid, row.uidvalidity) == ("INBOX", 7, 42)
