"""Sending replies through a real SMTP server: once, threaded, retried, failed with the reason."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select, update

from config import Settings
from consultant.cases import review
from consultant.cases.outbox import AcceptedNotRecorded, SendOutcome, send_outbound
from consultant.cases.processing import process_messages
from consultant.cases.sweep import sweep
from consultant.mail.transport import SmtpTransport
from consultant.models import AuthEvent, Case, CaseEvent, OutboundKind, OutboundMessage, utcnow
from consultant.registration import request_registration
from consultant.services import Services, build_services
from tests.support.cases import answer_and_approve, file_messages
from tests.support.corpus import QUESTIONS
from tests.support.postgres import outage
from tests.support.required import free_port
from tests.support.runs import gone_process, live_process
from tests.support.smtp import (
    ACCEPT_AND_DROP,
    DROP,
    ClosingController,
    RecordingHandler,
    SmtpServer,
)
from tests.support.tls import self_signed_certificate

QUESTION = (QUESTIONS / "01.eml").read_bytes()


class Deferred:
    """Dispatcher that only records: the test decides when a send runs."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int | list[int]]] = []

    def bind(self, services: Services) -> None:
        self.services = services

    def __call__(self, task: str, row_id: int) -> None:
        self.calls.append((task, row_id))


def sending_to(
    make_settings: Callable[..., Settings],
    database_url: str,
    server: SmtpServer,
    **overrides: object,
) -> Settings:
    """Settings that send to the test SMTP server (plain SMTP), acknowledgments off."""
    values: dict[str, object] = {
        "database_url": database_url,
        "smtp_host": server.host,
        "smtp_port": server.port,
        "smtp_tls": "none",
        "send_acknowledgments": False,
    }
    return make_settings(**(values | overrides))


@pytest.fixture
def smtp_services(
    make_settings: Callable[..., Settings], database_url: str, smtp_server: SmtpServer
) -> Iterator[Services]:
    """Services sending to the test SMTP server; acknowledgments off to keep counts simple."""
    settings = sending_to(make_settings, database_url, smtp_server, send_retry_seconds=0.05)
    services = build_services(settings)
    yield services
    services.db.dispose()


def _approved_not_sent(
    make_settings: Callable[..., Settings], database_url: str, smtp_server: SmtpServer
) -> tuple[Services, int]:
    """Services whose dispatcher only records, and an approved reply the test sends itself."""
    dispatcher = Deferred()
    settings = sending_to(make_settings, database_url, smtp_server)
    services = build_services(settings, dispatch=dispatcher)
    file_messages(services, QUESTION)
    process_messages(services, dispatcher.calls[0][1])
    return services, answer_and_approve(services, "CC-000001")


def _claimed_by(services: Services, token: str, since: datetime, by: str | None = None) -> None:
    """Make the reply look claimed by run ``token`` (in process ``by``) since ``since``."""
    with services.db.session() as session:
        session.execute(
            update(OutboundMessage).values(
                state="sending", claim_token=token, claimed_by=by, claimed_at=since
            )
        )


def _reply_row(services: Services) -> OutboundMessage:
    with services.db.session() as session:
        return session.scalars(
            select(OutboundMessage).where(OutboundMessage.kind == OutboundKind.REPLY)
        ).one()


def _case(services: Services, reference: str = "CC-000001") -> Case:
    with services.db.session() as session:
        return session.scalars(select(Case).where(Case.reference == reference)).one()


def _event_kinds(services: Services) -> list[str]:
    with services.db.session() as session:
        return list(session.scalars(select(CaseEvent.kind).order_by(CaseEvent.id)))


def test_approved_reply_arrives_once_in_the_requesters_thread(
    smtp_services: Services, smtp_server: SmtpServer
) -> None:
    file_messages(smtp_services, QUESTION)
    answer_and_approve(smtp_services, "CC-000001")

    (received,) = smtp_server.wait_for(1)
    message = received.message
    row = _reply_row(smtp_services)
    assert received.sender == "consult@caseconsultant.example"
    assert received.recipients == ["apark@cedarortho.example"]
    assert message["Subject"] == "Re: NCCI: 29880 and 29877 [CC-000001]"
    assert message["In-Reply-To"] == "<s01.20261005@mail.example>"
    assert "<s01.20261005@mail.example>" in message["References"]
    assert message["Message-ID"] == row.message_id
    assert message["From"] == "CaseConsultant <consult@caseconsultant.example>"
    assert "Auto-Submitted" not in message
    assert "The answer, written by an expert." in message.get_body(("plain",)).get_content()
    assert row.state == "sent" and row.smtp_reply.startswith("250")
    assert _case(smtp_services).status == "sent"


def test_timeline_shows_each_step_of_the_reply(smtp_services: Services) -> None:
    file_messages(smtp_services, QUESTION)
    answer_and_approve(smtp_services, "CC-000001")
    kinds = _event_kinds(smtp_services)
    assert kinds[kinds.index("draft_edited") :] == [
        "draft_edited",
        "status",
        "reply_queued",
        "status",
        "reply_sent",
        "status",
    ]


def test_sending_again_sends_nothing(smtp_services: Services, smtp_server: SmtpServer) -> None:
    file_messages(smtp_services, QUESTION)
    outbound_id = answer_and_approve(smtp_services, "CC-000001")
    smtp_server.wait_for(1)
    assert send_outbound(smtp_services, outbound_id).outcome == SendOutcome.NOTHING_TO_DO
    assert len(smtp_server.received) == 1


def test_concurrent_sends_of_one_row_deliver_once(
    make_settings: Callable[..., Settings], database_url: str, smtp_server: SmtpServer
) -> None:
    services, outbound_id = _approved_not_sent(make_settings, database_url, smtp_server)
    outcomes: list[SendOutcome] = []
    threads = [
        threading.Thread(
            target=lambda: outcomes.append(send_outbound(services, outbound_id).outcome)
        )
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes).count(SendOutcome.SENT) == 1
    assert len(smtp_server.received) == 1
    services.db.dispose()


def test_temporary_failure_is_retried_and_sent_once(
    smtp_services: Services, smtp_server: SmtpServer
) -> None:
    smtp_server.fail_next("451 4.3.0 Mailbox busy, try again later")
    file_messages(smtp_services, QUESTION)
    outbound_id = answer_and_approve(smtp_services, "CC-000001")

    row = _reply_row(smtp_services)
    assert (row.state, row.attempts) == ("queued", 1)
    assert row.last_error == "451 4.3.0 Mailbox busy, try again later"
    assert row.next_attempt_at is not None
    assert _case(smtp_services).status == "sending"

    while send_outbound(smtp_services, outbound_id).outcome == SendOutcome.NOTHING_TO_DO:
        pass  # not due yet: next_attempt_at is a few milliseconds away
    (received,) = smtp_server.received
    row = _reply_row(smtp_services)
    assert (row.state, row.attempts, row.last_error) == ("sent", 2, None)
    assert received.message["Message-ID"] == row.message_id
    assert "send_deferred" in _event_kinds(smtp_services)


def test_permanent_failure_keeps_the_servers_text(
    smtp_services: Services, smtp_server: SmtpServer
) -> None:
    smtp_server.fail_next("550 5.1.1 <apark@cedarortho.example>: Recipient address rejected")
    file_messages(smtp_services, QUESTION)
    outbound_id = answer_and_approve(smtp_services, "CC-000001")

    row = _reply_row(smtp_services)
    assert row.state == "failed"
    assert row.last_error == "550 5.1.1 <apark@cedarortho.example>: Recipient address rejected"
    case = _case(smtp_services)
    assert case.status == "failed"
    assert "Recipient address rejected" in case.error
    assert send_outbound(smtp_services, outbound_id).outcome == SendOutcome.NOTHING_TO_DO
    assert smtp_server.received == []


def test_failed_reply_can_be_retried(smtp_services: Services, smtp_server: SmtpServer) -> None:
    smtp_server.fail_next("554 5.7.1 Rejected for policy reasons")
    file_messages(smtp_services, QUESTION)
    answer_and_approve(smtp_services, "CC-000001")
    assert _case(smtp_services).status == "failed"

    assert review.retry(smtp_services, "CC-000001", "expert@example.com") == "send_reply"
    (received,) = smtp_server.wait_for(1)
    assert received.message["Message-ID"] == _reply_row(smtp_services).message_id
    assert _case(smtp_services).status == "sent"


def test_gives_up_after_the_configured_attempts(
    make_settings: Callable[..., Settings], database_url: str, smtp_server: SmtpServer
) -> None:
    settings = sending_to(
        make_settings, database_url, smtp_server, send_retry_seconds=0.01, send_max_attempts=3
    )
    services = build_services(settings)
    smtp_server.fail_next("421 4.7.0 Too many connections", times=3)
    file_messages(services, QUESTION)
    outbound_id = answer_and_approve(services, "CC-000001")
    while _reply_row(services).state == "queued":
        send_outbound(services, outbound_id)
    row = _reply_row(services)
    assert row.state == "failed" and row.attempts == 3
    assert row.last_error == "gave up after 3 attempts: 421 4.7.0 Too many connections"
    assert smtp_server.received == []
    services.db.dispose()


def test_unreachable_server_defers_with_a_clear_reason(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    settings = make_settings(
        database_url=database_url,
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
        smtp_tls="none",
        send_acknowledgments=False,
        smtp_timeout_seconds=5,
    )
    services = build_services(settings)
    file_messages(services, QUESTION)
    answer_and_approve(services, "CC-000001")
    row = _reply_row(services)
    assert row.state == "queued"
    assert row.last_error.startswith(f"cannot reach SMTP server 127.0.0.1:{settings.smtp_port}")
    services.db.dispose()


def _send_until_done(services: Services, outbound_id: int) -> None:
    """Run the send job until the row is sent or failed (a deferral is a few ms away)."""
    while _reply_row(services).state not in ("sent", "failed"):
        send_outbound(services, outbound_id)


def _events(services: Services, kind: str) -> list[dict[str, object]]:
    with services.db.session() as session:
        return list(session.scalars(select(CaseEvent.details).where(CaseEvent.kind == kind)))


def _unsent_reply(smtp_services: Services, smtp_server: SmtpServer) -> int:
    """An approved reply whose first attempt met a 451: queued, the test decides what next."""
    smtp_server.fail_next("451 4.3.0 later")
    file_messages(smtp_services, QUESTION)
    return answer_and_approve(smtp_services, "CC-000001")


def test_a_send_whose_lease_ended_goes_again_after_a_grace_period(
    smtp_services: Services, smtp_server: SmtpServer
) -> None:
    """Its run may be alive elsewhere, still retrying to record the server's 250: it gets
    the grace period to do so before the message goes a second time."""
    _unsent_reply(smtp_services, smtp_server)
    message_id = _reply_row(smtp_services).message_id
    _claimed_by(smtp_services, "lost-run", utcnow() - timedelta(hours=1))

    assert sweep(smtp_services).sends == 1

    row = _reply_row(smtp_services)
    assert (row.state, row.outcome_unknown) == ("queued", True)
    assert row.next_attempt_at is not None and row.next_attempt_at > utcnow()
    assert smtp_server.received == []
    [unknown] = _events(smtp_services, "send_outcome_unknown")
    assert "unless that attempt records its outcome first" in str(unknown["reason"])
    with smtp_services.db.session() as session:  # the grace period passes
        session.execute(update(OutboundMessage).values(next_attempt_at=utcnow()))
    assert sweep(smtp_services).sends == 1
    (received,) = smtp_server.wait_for(1)
    assert received.message["Message-ID"] == message_id
    kinds = _event_kinds(smtp_services)
    assert kinds.index("send_outcome_unknown") < kinds.index("send_outcome_resolved")
    assert _case(smtp_services).status == "sent"


def test_a_late_recording_wins_over_a_second_delivery(
    smtp_services: Services, smtp_server: SmtpServer
) -> None:
    outbound_id = _unsent_reply(smtp_services, smtp_server)
    _claimed_by(smtp_services, "lost-run", utcnow() - timedelta(hours=1))
    sweep(smtp_services)  # the lease is over: queued again, after the grace period

    # The lost run was alive after all, and records what the server answered it.
    send_outbound(smtp_services, outbound_id, token="lost-run", accepted="250 2.0.0 Ok")

    row = _reply_row(smtp_services)
    assert row.state == "sent" and smtp_server.received == []
    [resolved] = _events(smtp_services, "send_outcome_resolved")
    assert "not sent again" in str(resolved["resolution"])


def test_a_send_held_by_a_live_run_is_left_alone(
    smtp_services: Services, smtp_server: SmtpServer
) -> None:
    outbound_id = _unsent_reply(smtp_services, smtp_server)
    with live_process() as worker:
        _claimed_by(smtp_services, "live-run", utcnow(), by=worker)

        assert sweep(smtp_services).sends == 0
        for token in ("another-run", "live-run"):  # the same task, delivered twice
            outcome = send_outbound(smtp_services, outbound_id, token=token).outcome
            assert outcome == SendOutcome.NOTHING_TO_DO
    assert smtp_server.received == []


def test_the_same_task_delivered_again_after_its_worker_died_takes_over_at_once(
    smtp_services: Services, smtp_server: SmtpServer
) -> None:
    outbound_id = _unsent_reply(smtp_services, smtp_server)
    _claimed_by(smtp_services, "task-7", utcnow(), by=gone_process())

    result = send_outbound(smtp_services, outbound_id, token="task-7")

    assert result.outcome == SendOutcome.SENT
    assert smtp_server.deliveries()[_reply_row(smtp_services).message_id] == 1
    [unknown] = _events(smtp_services, "send_outcome_unknown")
    assert "its worker is gone" in str(unknown["reason"])


def test_a_drop_after_the_message_was_handed_over_is_an_unknown_outcome_resolved_by_resending(
    smtp_services: Services, smtp_server: SmtpServer
) -> None:
    smtp_server.fail_next(ACCEPT_AND_DROP)
    file_messages(smtp_services, QUESTION)
    outbound_id = answer_and_approve(smtp_services, "CC-000001")

    row = _reply_row(smtp_services)
    assert row.state == "queued" and row.outcome_unknown
    assert "ended after the message was handed over" in row.last_error
    assert "cannot reach" not in row.last_error
    _send_until_done(smtp_services, outbound_id)

    # The server had accepted the first: the one ambiguous case, sent again, same Message-ID.
    assert smtp_server.deliveries()[row.message_id] == 2
    kinds = _event_kinds(smtp_services)
    assert kinds.index("send_outcome_unknown") < kinds.index("send_outcome_resolved")
    assert not _reply_row(smtp_services).outcome_unknown


def test_a_drop_before_the_server_accepted_delivers_once(
    smtp_services: Services, smtp_server: SmtpServer
) -> None:
    smtp_server.fail_next(DROP)
    file_messages(smtp_services, QUESTION)
    outbound_id = answer_and_approve(smtp_services, "CC-000001")
    _send_until_done(smtp_services, outbound_id)

    assert list(smtp_server.deliveries().values()) == [1]


def test_one_refused_recipient_fails_that_reply_with_the_servers_words(
    smtp_services: Services, smtp_server: SmtpServer
) -> None:
    smtp_server.refuse("apark@cedarortho.example", "550 5.1.1 <apark@cedarortho.example>: no")
    file_messages(smtp_services, QUESTION, (QUESTIONS / "02.eml").read_bytes())
    answer_and_approve(smtp_services, "CC-000001")
    answer_and_approve(smtp_services, "CC-000002")

    assert _case(smtp_services, "CC-000001").status == "failed"
    assert "550" in _case(smtp_services, "CC-000001").error
    assert "5.1.1" in _case(smtp_services, "CC-000001").error
    assert _case(smtp_services, "CC-000002").status == "sent"
    assert len(smtp_server.received) == 1


@pytest.fixture
def pg_smtp_services(
    make_settings: Callable[..., Settings], postgres_url: str, smtp_server: SmtpServer
) -> Iterator[Services]:
    """As ``smtp_services``, on PostgreSQL only: the database going away is a server's failure."""
    services = build_services(sending_to(make_settings, postgres_url, smtp_server))
    yield services
    services.db.dispose()


def test_a_database_outage_after_the_servers_250_is_recorded_late_never_resent(
    pg_smtp_services: Services, smtp_server: SmtpServer, postgres_url: str
) -> None:
    smtp_services, database_url = pg_smtp_services, postgres_url
    file_messages(smtp_services, QUESTION)
    outages: list[threading.Timer] = []
    smtp_server.handler.before_accept = lambda _: outages.append(outage(database_url, 2.0))

    answer_and_approve(smtp_services, "CC-000001")

    outages[0].join()
    assert list(smtp_server.deliveries().values()) == [1]
    row = _reply_row(smtp_services)
    assert row.state == "sent"
    [sent] = _events(smtp_services, "reply_sent")
    assert sent["recorded_late"] is True
    assert _case(smtp_services).status == "sent"


def test_a_longer_outage_hands_the_recording_back_and_it_is_done_later(
    make_settings: Callable[..., Settings],
    postgres_url: str,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    database_url = postgres_url
    monkeypatch.setattr("consultant.cases.outbox.RECORD_RETRY_DELAYS", (0.2,))
    services, outbound_id = _approved_not_sent(make_settings, database_url, smtp_server)
    outages: list[threading.Timer] = []
    smtp_server.handler.before_accept = lambda _: outages.append(outage(database_url, 2.0))

    with pytest.raises(AcceptedNotRecorded) as raised:
        send_outbound(services, outbound_id, token="task-9")
    outages[0].join()
    # What the Celery task does next: retry with the server's reply, recording only.
    result = send_outbound(services, outbound_id, token="task-9", accepted=raised.value.reply)

    assert result.outcome == SendOutcome.SENT
    assert list(smtp_server.deliveries().values()) == [1]
    assert _reply_row(services).smtp_reply.startswith("250")
    assert _case(services).status == "sent"
    services.db.dispose()


# -- STARTTLS and authentication against a real server ------------------------

SMTP_USER, SMTP_PASSWORD = "consult", "s3cret-pass"


def _authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (
        auth_data.login.decode(),
        auth_data.password.decode(),
    ) == (SMTP_USER, SMTP_PASSWORD)
    return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="module")
def tls_smtp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SmtpServer, Path]]:
    """An SMTP server that requires STARTTLS before AUTH, with a self-signed certificate."""
    import ssl

    cert, key = self_signed_certificate(tmp_path_factory.mktemp("smtp-tls"))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    handler = RecordingHandler()
    port = free_port()
    controller = ClosingController(
        handler,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=_authenticator,
        auth_require_tls=True,
    )
    controller.start()
    yield SmtpServer("127.0.0.1", port, handler), cert
    controller.stop()


def test_starttls_and_login(
    make_settings: Callable[..., Settings], sqlite_url: str, tls_smtp: tuple[SmtpServer, Path]
) -> None:
    server, cert = tls_smtp
    server.reset()
    settings = make_settings(
        database_url=sqlite_url,
        smtp_host=server.host,
        smtp_port=server.port,
        smtp_tls="starttls",
        smtp_ca_file=cert,
        smtp_user=SMTP_USER,
        smtp_password=SMTP_PASSWORD,
    )
    services = build_services(settings)
    file_messages(services, QUESTION)
    (ack,) = server.wait_for(1)
    assert ack.message["Auto-Submitted"] == "auto-replied"
    services.db.dispose()


def test_wrong_smtp_password_is_retried_not_failed(
    make_settings: Callable[..., Settings], sqlite_url: str, tls_smtp: tuple[SmtpServer, Path]
) -> None:
    server, cert = tls_smtp
    server.reset()
    settings = make_settings(
        database_url=sqlite_url,
        smtp_host=server.host,
        smtp_port=server.port,
        smtp_tls="starttls",
        smtp_ca_file=cert,
        smtp_user=SMTP_USER,
        smtp_password="wrong",
    )
    services = build_services(settings)
    file_messages(services, QUESTION)
    with services.db.session() as session:
        ack = session.scalars(select(OutboundMessage)).one()
    assert ack.state == "queued"
    assert ack.last_error.startswith("SMTP login as consult failed: 535")
    assert server.received == []
    services.db.dispose()


# -- a server that stalls ----------------------------------------------------------------------


class _SilentAfterAccepting(RecordingHandler):
    """Accepts the message, then never answers QUIT: a stalled server or network."""

    async def handle_QUIT(self, server, session, envelope) -> str:
        await asyncio.sleep(30)
        return "221 Bye"


@pytest.fixture
def silent_smtp() -> Iterator[SmtpServer]:
    handler = _SilentAfterAccepting()
    port = free_port()
    controller = ClosingController(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield SmtpServer("127.0.0.1", port, handler)
    controller.stop()


def test_a_server_silent_after_accepting_does_not_make_the_message_look_unsent(
    make_settings: Callable[..., Settings], sqlite_url: str, silent_smtp: SmtpServer
) -> None:
    settings = sending_to(make_settings, sqlite_url, silent_smtp)
    started = time.monotonic()

    reply = SmtpTransport(settings).send(
        QUESTION, "consult@caseconsultant.example", ["a@b.example"]
    )

    assert reply.startswith("250")
    assert time.monotonic() - started < 10  # the goodbye is not waited for
    assert len(silent_smtp.received) == 1


def test_a_send_ends_within_the_time_limit_even_without_a_worker_to_enforce_it(
    make_settings: Callable[..., Settings], sqlite_url: str, smtp_server: SmtpServer
) -> None:
    """In-process (the embedded default) nothing stops a stalled server but the send's own
    deadline: the message was handed over, so the outcome is unknown and it goes again."""
    services = build_services(
        sending_to(
            make_settings,
            sqlite_url,
            smtp_server,
            task_soft_time_limit_seconds=1.5,
            task_time_limit_seconds=3,
        )
    )
    file_messages(services, QUESTION)
    smtp_server.handler.hold = release = threading.Event()
    try:
        answer_and_approve(services, "CC-000001")
    finally:
        release.set()
    row = _reply_row(services)
    assert (row.state, row.outcome_unknown) == ("queued", True)
    assert "it may have been accepted" in (row.last_error or "")
    services.db.dispose()


def _register(services: Services, email: str) -> int:
    """A registration's confirmation mail: an outbox row with no case."""
    with services.db.session() as session:
        queued = request_registration(services, session, email, None)
    assert queued.outbound_id is not None
    services.dispatch("send_reply", queued.outbound_id)
    return queued.outbound_id


def _account_log(services: Services) -> list[tuple[str, str]]:
    with services.db.session() as session:
        rows = session.scalars(
            select(AuthEvent).where(AuthEvent.kind == "account_mail").order_by(AuthEvent.id)
        )
        return [(row.email or "", row.details["event"]) for row in rows]


def test_account_mail_has_no_case_and_is_sent_once_retried_and_failed_like_replies(
    smtp_services: Services, smtp_server: SmtpServer
) -> None:
    first = _register(smtp_services, "dana@clinic.example")
    (received,) = smtp_server.wait_for(1)
    assert received.message["To"] == "dana@clinic.example"
    assert send_outbound(smtp_services, first).outcome == SendOutcome.NOTHING_TO_DO
    smtp_server.fail_next("451 4.3.0 Mailbox busy, try again later")
    second = _register(smtp_services, "pat@clinic.example")
    while send_outbound(smtp_services, second).outcome == SendOutcome.NOTHING_TO_DO:
        pass  # not due yet
    smtp_server.fail_next("550 5.1.1 <sam@clinic.example>: Recipient address rejected")
    third = _register(smtp_services, "sam@clinic.example")
    with smtp_services.db.session() as session:
        rows = {r.id: r for r in session.scalars(select(OutboundMessage))}
        assert {r.case_id for r in rows.values()} == {None}
        assert [rows[i].state for i in (first, second, third)] == ["sent", "sent", "failed"]
        assert "Recipient address rejected" in (rows[third].last_error or "")
        assert session.scalar(select(Case)) is None
    assert len(smtp_server.received) == 2
    log = _account_log(smtp_services)
    assert ("dana@clinic.example", "account_sent") in log
    assert ("pat@clinic.example", "send_deferred") in log
    assert ("sam@clinic.example", "account_failed") in log
