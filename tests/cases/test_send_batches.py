"""Sending a batch of replies through a real SMTP server: each once, over one connection.

What one batch of processing queues (its acknowledgments) goes out as one
job. Each test is a way a batch could do worse than one reply at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import select

from config import Settings
from consultant.cases.outbox import SendOutcome
from consultant.cases.processing import process_messages
from consultant.cases.send_batches import AcceptedNotRecordedMany, send_outbounds
from consultant.models import Case, CaseEvent, OutboundMessage
from consultant.services import Services, build_services
from tests.support.cases import answer_and_approve, store_only
from tests.support.postgres import outage
from tests.support.smtp import Received, SmtpServer


class Holding:
    """A dispatcher that keeps what it was given: the test sends the batch itself."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int | list[int]]] = []

    def bind(self, services: Services) -> None:
        """Nothing to bind."""

    def __call__(self, task: str, row_id: int | list[int]) -> None:
        self.calls.append((task, row_id))


def question(n: int) -> bytes:
    return (
        f"From: Coder {n} <coder{n}@clinic{n}.example>\r\nTo: consult@caseconsultant.example\r\n"
        f"Subject: question {n}\r\nMessage-ID: <q{n}@clinic{n}.example>\r\n\r\n"
        "Can I bill 99213-25 with 11102 on the same day?\r\n"
    ).encode()


def acknowledgments_queued(services: Services, dispatcher: Holding, count: int) -> list[int]:
    """``count`` questions processed as one batch; the acknowledgments it queued, unsent."""
    process_messages(services, store_only(services, *(question(n) for n in range(count))))
    [(task, ids)] = dispatcher.calls
    assert task == "send_replies" and isinstance(ids, list) and len(ids) == count
    return ids


def states(services: Services) -> dict[int, str]:
    with services.db.session() as session:
        return dict(session.execute(select(OutboundMessage.id, OutboundMessage.state)).all())


@contextmanager
def services_sending_to(
    make_settings: Callable[..., Settings], database_url: str, smtp_server: SmtpServer
) -> Iterator[tuple[Services, Holding]]:
    """Services that send to ``smtp_server``, their dispatcher holding what they start."""
    dispatcher = Holding()
    settings = make_settings(
        database_url=database_url,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        smtp_tls="none",
    )
    services = build_services(settings, dispatch=dispatcher)
    try:
        yield services, dispatcher
    finally:
        services.transport.close()  # type: ignore[attr-defined]
        services.db.dispose()


@pytest.fixture
def sending(
    make_settings: Callable[..., Settings], database_url: str, smtp_server: SmtpServer
) -> Iterator[tuple[Services, Holding]]:
    with services_sending_to(make_settings, database_url, smtp_server) as both:
        yield both


def test_a_batch_goes_out_once_over_one_connection_and_again_sends_nothing(
    sending: tuple[Services, Holding], smtp_server: SmtpServer
) -> None:
    services, dispatcher = sending
    ids = acknowledgments_queued(services, dispatcher, 12)

    first = send_outbounds(services, ids, token="run-1")
    again = send_outbounds(services, ids, token="run-2")

    assert {result.outcome for result in first.values()} == {SendOutcome.SENT}
    assert {result.outcome for result in again.values()} == {SendOutcome.NOTHING_TO_DO}
    received = smtp_server.received
    assert len(received) == 12 and set(smtp_server.deliveries().values()) == {1}
    assert len({message.peer for message in received}) == 1  # one connection for the batch
    assert sorted(m.recipients[0] for m in received) == sorted(
        f"coder{n}@clinic{n}.example" for n in range(12)
    )
    with services.db.session() as session:
        recorded = session.scalars(select(CaseEvent.case_id).where(CaseEvent.kind == "ack_sent"))
        assert sorted(recorded) == list(range(1, 13))  # each case's timeline says it went


def test_a_refused_and_a_deferred_reply_are_recorded_alone_and_the_rest_go(
    sending: tuple[Services, Holding], smtp_server: SmtpServer
) -> None:
    services, dispatcher = sending
    ids = acknowledgments_queued(services, dispatcher, 6)
    smtp_server.refuse("coder2@clinic2.example")
    smtp_server.fail_next("451 4.3.0 try again later")  # the first message handed over

    results = send_outbounds(services, ids)

    assert results[ids[0]].outcome == SendOutcome.DEFERRED and results[ids[0]].retry_in
    assert results[ids[2]].outcome == SendOutcome.FAILED
    assert [results[i].outcome for i in (ids[1], *ids[3:])] == [SendOutcome.SENT] * 4
    assert states(services) == {
        ids[0]: "queued",
        ids[1]: "sent",
        ids[2]: "failed",
        **dict.fromkeys(ids[3:], "sent"),
    }
    assert set(smtp_server.deliveries().values()) == {1} and len(smtp_server.received) == 4


def test_accepted_replies_the_database_would_not_record_are_recorded_later_not_sent_again(
    make_settings: Callable[..., Settings],
    postgres_url: str,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("consultant.cases.outbox.RECORD_RETRY_DELAYS", (0.2,))
    with services_sending_to(make_settings, postgres_url, smtp_server) as (services, dispatcher):
        ids = acknowledgments_queued(services, dispatcher, 5)
        outages: list[threading.Timer] = []

        def down_after_the_last(message: object) -> None:
            if len(smtp_server.received) == len(ids) - 1:
                outages.append(outage(postgres_url, 2.0))

        smtp_server.handler.before_accept = down_after_the_last
        with pytest.raises(AcceptedNotRecordedMany) as raised:
            send_outbounds(services, ids, token="task-7")
        outages[0].join()
        # What the Celery task does next: the same batch, recording only.
        results = send_outbounds(
            services, list(raised.value.replies), accepted=raised.value.replies
        )

        assert sorted(raised.value.replies) == ids
        assert {result.outcome for result in results.values()} == {SendOutcome.SENT}
        assert set(states(services).values()) == {"sent"}
        assert len(smtp_server.received) == 5 and set(smtp_server.deliveries().values()) == {1}


def test_a_follow_up_while_a_batch_of_replies_is_on_the_wire_sends_its_case_back_to_review(
    sending: tuple[Services, Holding], smtp_server: SmtpServer
) -> None:
    services, dispatcher = sending
    send_outbounds(services, acknowledgments_queued(services, dispatcher, 3))
    with services.db.session() as session:
        references = list(session.scalars(select(Case.reference).order_by(Case.id)))
    replies = [answer_and_approve(services, reference) for reference in references]
    with services.db.session() as session:
        on_the_wire = session.get_one(OutboundMessage, replies[1]).message_id

    def coder_writes_again(message: Received) -> None:
        """coder1 answers the acknowledgment while the expert's reply is being handed over."""
        if message.recipients == ["coder1@clinic1.example"] and b"colleague" in message.raw:
            follow_up = (
                "From: Coder 1 <coder1@clinic1.example>\r\nTo: consult@caseconsultant.example\r\n"
                f"Subject: Re: question 1\r\nMessage-ID: <again1@clinic1.example>\r\n"
                f"In-Reply-To: {on_the_wire}\r\nReferences: {on_the_wire}\r\n\r\n"
                "And if it was 99214 instead?\r\n"
            ).encode()
            process_messages(services, store_only(services, follow_up))

    smtp_server.reset()
    smtp_server.handler.before_accept = coder_writes_again
    results = send_outbounds(services, replies)

    assert {result.outcome for result in results.values()} == {SendOutcome.SENT}
    assert len(smtp_server.received) == 3 and set(smtp_server.deliveries().values()) == {1}
    with services.db.session() as session:
        cases = list(session.scalars(select(Case).order_by(Case.id)))
        # The reply went, and the case is back with the expert for the new question.
        assert [case.status for case in cases] == ["sent", "awaiting_review", "sent"]
        kinds = [event.kind for event in cases[1].events]
        moves = [
            (e.details["from"], e.details["to"]) for e in cases[1].events if e.kind == "status"
        ]
    assert "reply_sent" in kinds
    assert moves == [
        ("received", "analyzing"),
        ("analyzing", "awaiting_review"),
        ("awaiting_review", "approved"),
        ("approved", "sending"),
        ("sending", "awaiting_review"),  # the follow-up; recording the reply leaves it there
    ]
