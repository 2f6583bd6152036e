"""IMAP intake against a real Dovecot: store once, process, flag and move, survive restarts.

Every test starts from an empty mailbox on a private Dovecot (see
tests/support/dovecot.py) and, where rows are stored, runs on SQLite and on
PostgreSQL. Processing runs in-process right after each commit, so a stored
message has its case by the time ``poll_once`` returns.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select

from config import Settings
from consultant.cases.sweep import sweep
from consultant.db import upgrade
from consultant.mail.imap import ImapAuthError
from consultant.mail.imap_poller import ImapPoller
from consultant.mail.sources import make_source
from consultant.models import (
    Case,
    CaseStatus,
    InboundMessage,
    MailboxCursor,
    OutboundKind,
    OutboundMessage,
    OutboundState,
    Route,
)
from consultant.services import Services, build_services
from tests.support.corpus import special
from tests.support.dovecot import Dovecot
from tests.support.intake import (
    QUESTIONS,
    RecordingIntake,
    fast_poller,
    folder_message_ids,
    inbound_count,
    inbound_rows,
    message_id,
    padded,
    poller_environment,
    row_counter,
    running,
    services_builder,
    with_message_id,
)
from tests.support.required import free_port
from tests.support.waiting import wait_until

SEEN = b"\\Seen"
DELETED = b"\\Deleted"
WRONG_PASSWORD = "not-the-password-7Qx9"
CONSULTANT_BIN = Path(sys.executable).with_name("consultant")

FOLLOW_UP = special("follow_up.eml")


# -- helpers ------------------------------------------------------------------


def cases(services: Services) -> list[Case]:
    with services.db.session() as session:
        return list(session.scalars(select(Case).order_by(Case.id)))


def cursor_of(services: Services) -> MailboxCursor | None:
    with services.db.session() as session:
        return session.scalar(select(MailboxCursor))


def uidvalidity(server: Dovecot, folder: str) -> int:
    with server.client() as client:
        return int(client.folder_status(folder, [b"UIDVALIDITY"])[b"UIDVALIDITY"])


def client_commands(caplog: pytest.LogCaptureFixture) -> str:
    """What the poller's client said to the server, from imapclient's protocol log."""
    return " ".join(r.getMessage() for r in caplog.records if r.name == "imapclient.imaplib")


def assert_one_case_each(services: Services, raws: list[bytes]) -> None:
    """Each message stored once, each on a new case of its own awaiting review."""
    rows = inbound_rows(services)
    assert sorted(r.message_id or "" for r in rows) == sorted(message_id(r) for r in raws)
    assert all(r.route == Route.NEW_CASE and r.case_id is not None for r in rows)
    assert len({r.case_id for r in rows}) == len(raws)
    assert [c.status for c in cases(services)] == [CaseStatus.AWAITING_REVIEW] * len(raws)


# -- poll_once ----------------------------------------------------------------


def test_poll_once_stores_each_message_and_moves_it_to_processed(
    dovecot: Dovecot, build: Callable[..., Services]
) -> None:
    services = build(dovecot)
    raws = QUESTIONS[:3]
    for raw in raws:
        dovecot.append(raw)

    assert make_source(services).poll_once() == 3

    assert_one_case_each(services, raws)
    assert dovecot.messages("INBOX") == []
    assert folder_message_ids(dovecot, "Processed") == [message_id(r) for r in raws]
    assert all(SEEN in flags for flags in dovecot.flags("Processed"))
    # The stored bytes are the server's bytes of each message, exactly.
    assert sorted(r.raw for r in inbound_rows(services)) == sorted(dovecot.messages("Processed"))


def test_without_processed_folder_messages_stay_in_inbox_flagged_seen(
    dovecot: Dovecot, build: Callable[..., Services]
) -> None:
    services = build(dovecot, imap_processed_folder="")
    raws = QUESTIONS[:2]
    for raw in raws:
        dovecot.append(raw)

    assert make_source(services).poll_once() == 2

    assert_one_case_each(services, raws)
    assert folder_message_ids(dovecot, "INBOX") == [message_id(r) for r in raws]
    assert all(SEEN in flags for flags in dovecot.flags("INBOX"))
    with dovecot.client() as client:
        assert not client.folder_exists("Processed")


def test_polling_again_and_redelivery_store_nothing_twice(
    dovecot: Dovecot, build: Callable[..., Services]
) -> None:
    services = build(dovecot)
    raws = QUESTIONS[:3]
    for raw in raws:
        dovecot.append(raw)
    source = make_source(services)

    assert source.poll_once() == 3
    assert source.poll_once() == 0
    # The same messages delivered again (same Message-IDs) after they were processed.
    for raw in raws:
        dovecot.append(raw)
    assert source.poll_once() == 0

    assert_one_case_each(services, raws)
    assert dovecot.messages("INBOX") == []
    # The second delivery is moved out of the way as well, not left to be read again.
    assert len(dovecot.messages("Processed")) == 6


def test_committed_messages_left_in_the_folder_are_finished_not_stored_again(
    dovecot: Dovecot, build: Callable[..., Services], caplog: pytest.LogCaptureFixture
) -> None:
    """The crash window between the commit and the flag/move, created for real."""
    caplog.set_level(logging.INFO)
    raws = QUESTIONS[:3]
    for raw in raws:
        dovecot.append(raw)
    flag_only = build(dovecot, imap_processed_folder="")
    assert make_source(flag_only).poll_once() == 3

    def forget_seen() -> None:
        # As if the poller died after its commit and before it marked the messages.
        with dovecot.client() as client:
            client.select_folder("INBOX")
            client.remove_flags(client.search(["ALL"]), [SEEN])

    # Flag-only mode: the stored-but-unflagged messages are flagged, not stored again.
    forget_seen()
    assert make_source(flag_only).poll_once() == 0
    assert [SEEN in flags for flags in dovecot.flags("INBOX")] == [True] * 3

    # Move mode: the same leftovers are moved, and only the new message is stored.
    forget_seen()
    new = QUESTIONS[3]
    dovecot.append(new)
    moving = build(dovecot)
    assert make_source(moving).poll_once() == 1

    assert_one_case_each(moving, [*raws, new])
    assert dovecot.messages("INBOX") == []
    assert sorted(folder_message_ids(dovecot, "Processed")) == sorted(
        message_id(r) for r in [*raws, new]
    )
    assert all(SEEN in flags for flags in dovecot.flags("Processed"))
    assert any("finishing 3 message(s) already stored" in r.getMessage() for r in caplog.records)


def test_new_uidvalidity_reads_the_folder_again_without_duplicates(
    dovecot: Dovecot, build: Callable[..., Services], caplog: pytest.LogCaptureFixture
) -> None:
    services = build(dovecot, imap_folder="Consult")
    old = QUESTIONS[:2]
    for raw in old:
        dovecot.append(raw, "Consult")
    source = make_source(services)
    assert source.poll_once() == 2
    first_validity = uidvalidity(dovecot, "Consult")
    cursor = cursor_of(services)
    assert cursor is not None and cursor.uidvalidity == first_validity

    # The folder is deleted and made again: Dovecot gives it a new UIDVALIDITY and
    # the UIDs start from 1, below the cursor.
    with dovecot.client() as client:
        client.delete_folder("Consult")
        client.create_folder("Consult")
    new_validity = uidvalidity(dovecot, "Consult")
    assert new_validity != first_validity
    new = QUESTIONS[2]
    for raw in [*old, new]:
        dovecot.append(raw, "Consult")

    assert source.poll_once() == 1

    assert_one_case_each(services, [*old, new])
    cursor = cursor_of(services)
    assert cursor is not None
    assert (cursor.uidvalidity, cursor.last_uid) == (new_validity, 3)
    assert dovecot.messages("Consult") == []
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("UIDVALIDITY changed" in r.getMessage() for r in warnings)


def test_new_uidvalidity_of_an_empty_folder_is_reported_once(
    dovecot: Dovecot, build: Callable[..., Services], caplog: pytest.LogCaptureFixture
) -> None:
    services = build(dovecot, imap_folder="Consult")
    dovecot.append(QUESTIONS[0], "Consult")
    source = make_source(services)
    source.poll_once()
    with dovecot.client() as client:
        client.delete_folder("Consult")
        client.create_folder("Consult")

    assert (source.poll_once(), source.poll_once()) == (0, 0)

    changed = [r for r in caplog.records if "UIDVALIDITY changed" in r.getMessage()]
    assert len(changed) == 1
    assert cursor_of(services).uidvalidity == uidvalidity(dovecot, "Consult")


def test_server_without_move_gets_copy_delete_and_uid_expunge(
    dovecot_basic: Dovecot, build: Callable[..., Services], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="imapclient")
    services = build(dovecot_basic)
    raws = QUESTIONS[:3]
    for raw in raws:
        dovecot_basic.append(raw)

    assert make_source(services).poll_once() == 3

    assert_one_case_each(services, raws)
    assert dovecot_basic.messages("INBOX") == []
    assert folder_message_ids(dovecot_basic, "Processed") == [message_id(r) for r in raws]
    # The copies are read and kept: \Seen, and not \Deleted like the originals were.
    assert all(SEEN in f and DELETED not in f for f in dovecot_basic.flags("Processed"))
    # Only commands the server advertised.
    sent = client_commands(caplog)
    assert "UID COPY" in sent and "UID EXPUNGE" in sent
    assert "MOVE" not in sent


def test_control_characters_in_a_message_id_neither_fail_the_poll_nor_reach_the_database(
    dovecot: Dovecot, build: Callable[..., Services]
) -> None:
    # NUL, a C1 control (NEL) and LINE SEPARATOR in the id, as a delivery agent wrote the
    # file. Dovecot serves the NUL as the byte 0x80, which is not UTF-8: U+FFFD is kept.
    hostile = with_message_id(QUESTIONS[0], b"<s01\x00.2026\xc2\x851005\xe2\x80\xa8@mail.example>")
    dovecot.deliver(hostile)
    dovecot.append(QUESTIONS[1])
    services = build(dovecot)

    assert make_source(services).poll_once() == 2

    assert sorted(r.message_id or "" for r in inbound_rows(services)) == sorted(
        ["<s01\ufffd.20261005@mail.example>", message_id(QUESTIONS[1])]
    )
    assert dovecot.messages("INBOX") == []
    assert len(dovecot.messages("Processed")) == 2


def sized(n: int, size: int) -> bytes:
    """A question of about ``size`` bytes with a Message-ID of its own."""
    raw = with_message_id(QUESTIONS[n % len(QUESTIONS)], f"<sized-{n}@clinic.example>".encode())
    return padded(raw, size)


def test_fetch_batches_are_capped_by_bytes_and_a_larger_message_comes_alone(
    dovecot: Dovecot, build: Callable[..., Services]
) -> None:
    sizes = [400_000, 400_000, 400_000, 1_500_000, 300_000, 300_000, 300_000, 300_000]
    raws = [sized(n, size) for n, size in enumerate(sizes)]
    for raw in raws:
        dovecot.append(raw)
    services = build(dovecot, imap_batch_size=3, imap_batch_max_bytes=1_000_000)
    intake = RecordingIntake(services)

    assert ImapPoller(services.settings, intake).poll_once() == len(sizes)

    # In UID order: at most 1 MB and 3 messages a batch; the 1.5 MB message alone.
    assert [len(batch) for batch in intake.batches] == [2, 1, 1, 3, 1]
    assert all(sum(b) <= 1_000_000 or len(b) == 1 for b in intake.batches)
    assert dovecot.messages("INBOX") == []
    assert sorted(r.raw for r in inbound_rows(services)) == sorted(dovecot.messages("Processed"))
    assert len(dovecot.messages("Processed")) == len(sizes)


# -- run(): IDLE, polling, stop ---------------------------------------------------


def test_run_without_idle_polls_and_picks_up_new_mail(
    dovecot_basic: Dovecot, build: Callable[..., Services], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="imapclient")
    services = build(dovecot_basic, imap_poll_seconds=0.2)
    dovecot_basic.append(QUESTIONS[0])

    with running(make_source(services)):
        wait_until(lambda: inbound_count(services) == 1, "the message already there")
        dovecot_basic.append(QUESTIONS[1])
        wait_until(lambda: inbound_count(services) == 2, "the message appended while polling")
        wait_until(lambda: not dovecot_basic.messages("INBOX"), "INBOX to be emptied")

    assert_one_case_each(services, QUESTIONS[:2])
    assert len(dovecot_basic.messages("Processed")) == 2
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert " IDLE" not in client_commands(caplog)


def test_run_waits_with_idle_and_stores_mail_appended_meanwhile(
    dovecot: Dovecot, build: Callable[..., Services], caplog: pytest.LogCaptureFixture
) -> None:
    # IDLE is renewed only every 5 minutes here: within the deadlines below, only what the
    # server announces (while idling, or in a response just before) makes the poller look.
    caplog.set_level(logging.DEBUG, logger="imapclient")
    services = build(dovecot, imap_idle_renew_seconds=300)
    dovecot.append(QUESTIONS[0])

    with running(make_source(services)) as thread:
        wait_until(lambda: inbound_count(services) == 1, "the message already there")
        for count, raw in enumerate(QUESTIONS[1:4], start=2):
            dovecot.append(raw)
            wait_until(lambda n=count: inbound_count(services) == n, f"message {count} (IDLE)")
        wait_until(lambda: not dovecot.messages("INBOX"), "INBOX to be emptied")
    assert not thread.is_alive()

    assert_one_case_each(services, QUESTIONS[:4])
    assert len(dovecot.messages("Processed")) == 4
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert " IDLE" in client_commands(caplog)


# -- failures ---------------------------------------------------------------------


def test_wrong_password_is_one_clear_error_per_attempt_and_never_logged(
    dovecot: Dovecot, build_sqlite: Callable[..., Services], caplog: pytest.LogCaptureFixture
) -> None:
    """SQLite only: a refused login never reaches the database."""
    caplog.set_level(logging.DEBUG)  # everything, imapclient's own protocol log included
    dovecot.append(QUESTIONS[0])
    services = build_sqlite(dovecot, imap_password=WRONG_PASSWORD)
    poller = make_source(services)  # the real backoff: about 1 s, then 2 s
    where = f"{dovecot.user}@{dovecot.host}:{dovecot.port}"

    with pytest.raises(ImapAuthError) as refused:
        poller.poll_once()
    assert str(refused.value) == (
        f"IMAP login as {where} refused: [AUTHENTICATIONFAILED] Authentication failed."
    )

    def errors() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.levelno >= logging.ERROR]

    with running(poller):
        # poll_once raised and logged nothing; two errors here mean run() kept trying.
        wait_until(lambda: len(errors()) >= 2, "a second login attempt", timeout=40)

    for record in errors():
        message = record.getMessage()
        assert message.startswith(str(refused.value) + "; retrying in ")
        assert "\n" not in message
        assert record.exc_info is None
    assert not [r for r in caplog.records if "reconnecting" in r.getMessage()]
    assert inbound_count(services) == 0
    assert len(dovecot.messages("INBOX")) == 1
    for record in caplog.records:
        assert WRONG_PASSWORD not in record.getMessage()
        assert WRONG_PASSWORD not in str(record.args)
    assert WRONG_PASSWORD not in caplog.text


def test_nothing_listening_is_a_warning_and_run_keeps_trying(
    make_settings: Callable[..., Settings], sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()  # bound and released: nothing listens there
    settings = make_settings(
        database_url=sqlite_url,
        imap_host="127.0.0.1",
        imap_port=port,
        imap_user="consult",
        imap_password="secret",
        imap_tls="none",
    )
    services = build_services(settings)
    try:

        def reconnects() -> list[logging.LogRecord]:
            return [r for r in caplog.records if "reconnecting" in r.getMessage()]

        with running(fast_poller(services)):
            wait_until(lambda: len(reconnects()) >= 2, "two reconnect attempts")
        assert all(r.levelno == logging.WARNING for r in reconnects())
        assert f"127.0.0.1:{port}" in reconnects()[0].getMessage()
        assert inbound_count(services) == 0
    finally:
        services.db.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def unmigrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database that exists but has no tables yet: ``consultant db upgrade`` not yet run."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'not-migrated.db'}"
        return
    server: str = request.getfixturevalue("postgres_server")
    name = f"cc_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield f"{server.rsplit('/', 1)[0]}/{name}"
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_database_trouble_is_retried_and_the_mail_waits_on_the_server(
    dovecot: Dovecot,
    make_settings: Callable[..., Settings],
    unmigrated_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    dovecot.append(QUESTIONS[0])

    def database_warnings() -> list[logging.LogRecord]:
        return [r for r in caplog.records if "database" in r.getMessage()]

    with services_builder(make_settings, unmigrated_url) as make:
        services = make(dovecot)
        with running(fast_poller(services)):
            wait_until(lambda: len(database_warnings()) >= 2, "two failed attempts")
            # Nothing could be stored, so nothing was marked or moved on the server.
            assert [SEEN in flags for flags in dovecot.flags("INBOX")] == [False]
            upgrade(unmigrated_url)
            wait_until(lambda: not dovecot.messages("INBOX"), "the poller to recover")

        assert_one_case_each(services, QUESTIONS[:1])
    for record in database_warnings():
        assert record.levelno == logging.WARNING and record.exc_info is None
        assert "\n" not in record.getMessage()


# -- restart mid-batch: a real process, killed ------------------------------------


@contextmanager
def poller_process(env: dict[str, str], log_file: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``consultant poll`` as its own process; whatever is left running is killed on exit."""
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            [str(CONSULTANT_BIN), "poll"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def test_debug_for_the_poller_alone_logs_each_announcement_and_no_protocol(
    dovecot: Dovecot, build_sqlite: Callable[..., Services], tmp_path: Path
) -> None:
    services = build_sqlite(dovecot)
    env = poller_environment(dovecot, services.settings.database_url, tmp_path / "var")
    env["CONSULTANT_LOG_DEBUG"] = "consultant.mail.imap_poller"
    log_file = tmp_path / "poller.log"

    with poller_process(env, log_file) as poller:
        wait_until(lambda: "watching" in log_file.read_text(), "the poller to watch the inbox")
        dovecot.append(QUESTIONS[0])
        wait_until(lambda: inbound_count(services) == 1, "the message announced by IDLE")
        poller.send_signal(signal.SIGINT)
        assert poller.wait(timeout=10) == 0, log_file.read_text()

    lines = log_file.read_text().splitlines()
    debug = [line for line in lines if " DEBUG " in line]
    assert debug, log_file.read_text()
    assert all(" consultant.mail.imap_poller " in line for line in debug), debug
    assert any("the server announced new mail" in line for line in debug)


def test_poller_killed_mid_batch_and_restarted_loses_and_duplicates_nothing(
    dovecot: Dovecot, build: Callable[..., Services], tmp_path: Path
) -> None:
    # A message the killed process was processing stays claimed until the lease (the hard
    # time limit and 5 s) has passed; short limits keep that wait short.
    services = build(
        dovecot,
        stale_after_seconds=0.01,
        task_soft_time_limit_seconds=0.5,
        task_time_limit_seconds=1,
    )
    mail = [*QUESTIONS, FOLLOW_UP]
    for raw in mail:
        dovecot.append(raw)
    env = poller_environment(dovecot, services.settings.database_url, tmp_path / "var")
    log_file = tmp_path / "poller.log"

    with poller_process(env, log_file) as first, row_counter(env["CONSULTANT_DATABASE_URL"]) as n:
        # Killed just after its fourth commit: as a rule before that message was processed
        # or moved, the crash window the next run has to close.
        wait_until(
            lambda: n() >= 4 or first.poll() is not None,
            "the first commits",
            timeout=30,
            interval=0.005,
        )
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    stored_before_restart = inbound_count(services)
    assert 1 <= stored_before_restart < len(mail), log_file.read_text()

    with poller_process(env, log_file) as second:
        wait_until(
            lambda: inbound_count(services) == len(mail) and not dovecot.messages("INBOX"),
            "the restarted poller to take in the rest",
            timeout=30,
        )
        second.send_signal(signal.SIGINT)  # Ctrl-C: a clean stop
        assert second.wait(timeout=10) == 0, log_file.read_text()
    # What the periodic sweep does: finish work that was committed when the first process
    # died (a message stored but not yet processed, an acknowledgment not yet sent).

    def swept_clean() -> bool:
        report = sweep(services)
        with services.db.session() as session:
            unfinished = session.scalar(
                select(func.count()).where(InboundMessage.processed_at.is_(None))
            )
        return not (report.messages or report.sends or unfinished)

    wait_until(swept_clean, "the sweep to finish what the killed poller left", interval=0.5)

    rows = inbound_rows(services)
    assert sorted(r.message_id or "" for r in rows) == sorted(message_id(r) for r in mail)
    by_id = {r.message_id: r for r in rows}
    follow_up = by_id[message_id(FOLLOW_UP)]
    first_question = by_id[message_id(QUESTIONS[0])]
    assert follow_up.route == Route.FOLLOW_UP
    assert follow_up.case_id == first_question.case_id
    assert all(r.case_id is not None for r in rows)
    assert len(cases(services)) == len(QUESTIONS)
    with services.db.session() as session:
        acks = list(session.scalars(select(OutboundMessage)))
    assert sorted(a.case_id for a in acks) == sorted(c.id for c in cases(services))
    assert {a.kind for a in acks} == {OutboundKind.ACK}
    assert {a.state for a in acks} == {OutboundState.SENT}
    assert dovecot.messages("INBOX") == []
    assert sorted(folder_message_ids(dovecot, "Processed")) == sorted(
        message_id(r) for r in mail
    ), log_file.read_text()
