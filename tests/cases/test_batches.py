"""Processing in batches: one claim and one transaction for many messages, and no guarantee lost.

The intake queues each fetched batch as one job. Each test is a way a batch
could make things worse than one message at a time: a bad message taking the
rest down with it, a second run doing anything again, a reply ahead of its
question, a message that killed an earlier run, a batch too slow for its
time limit. Each runs on SQLite and on PostgreSQL unless it needs PostgreSQL to refuse
a value.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import func, select, update

from config import Settings
from consultant.cases.processing import Outcome, process_messages
from consultant.models import Case, CaseEvent, Draft, InboundMessage, OutboundMessage, utcnow
from consultant.services import Services, build_services
from tests.support.cases import file_messages, outbox_messages, store_only
from tests.support.intake import QUESTIONS
from tests.support.postgres import refusing_case_subjects
from tests.support.runs import gone_process


def mail(subject: str, message_id: str, headers: str = "") -> bytes:
    head = (
        "From: Dana Reyes <dana@clinic.example>\r\nTo: consult@caseconsultant.example\r\n"
        f"Subject: {subject}\r\nMessage-ID: {message_id}\r\n{headers}"
    )
    return f"{head}\r\nCan I bill 99213-25 with 11102 on the same day?\r\n".encode()


def counts(services: Services) -> dict[str, int]:
    """Every row processing writes, counted."""
    with services.db.session() as session:
        return {
            model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Case, CaseEvent, Draft, OutboundMessage)
        } | {
            "processed": session.scalar(
                select(func.count(InboundMessage.id)).where(
                    InboundMessage.processed_at.is_not(None)
                )
            )
            or 0
        }


def routes(services: Services, ids: list[int]) -> list[str | None]:
    with services.db.session() as session:
        found = dict(session.execute(select(InboundMessage.id, InboundMessage.route)).all())
    return [found[i] for i in ids]


def test_a_message_refused_in_a_batch_is_set_aside_alone_and_the_rest_commit(
    postgres_services: Services, postgres_url: str
) -> None:
    services = postgres_services
    raws = [mail(f"question {n}", f"<q{n}@clinic.example>") for n in range(5)]
    raws[2] = mail("poison pill", "<poison@clinic.example>")
    with refusing_case_subjects(postgres_url, "poison"):
        ids = file_messages(services, *raws)

    assert routes(services, ids) == ["new_case", "new_case", "failed", "new_case", "new_case"]
    with services.db.session() as session:
        poisoned = session.get_one(InboundMessage, ids[2])
        assert "database refused a value" in (poisoned.error or "")
        assert poisoned.processed_at is not None  # set aside for good, not left for the sweep
        # Nothing the refused message began is left behind on anyone's case.
        drafts = session.scalars(select(Draft.inbound_message_id)).all()
        assert sorted(drafts) == [ids[0], ids[1], ids[3], ids[4]]
    acknowledged = sorted(ack["In-Reply-To"] for ack in outbox_messages(services))
    assert acknowledged == sorted(f"<q{n}@clinic.example>" for n in (0, 1, 3, 4))


def test_running_a_batch_again_changes_nothing(services: Services) -> None:
    ids = store_only(services, *QUESTIONS)

    first = process_messages(services, ids, token="run-1")
    after_first = counts(services)
    again = process_messages(services, ids, token="run-2")

    assert set(first.values()) == {Outcome.NEW_CASE} and len(first) == len(QUESTIONS)
    assert set(again.values()) == {Outcome.ALREADY_DONE}
    assert counts(services) == after_first
    assert after_first["Case"] == after_first["processed"] == len(QUESTIONS)


def test_a_reply_ahead_of_its_question_in_one_batch_joins_the_questions_case(
    services: Services,
) -> None:
    question = mail("99213 with 25", "<q1@clinic.example>")
    reply = mail(
        "Re: 99213 with 25",
        "<r1@clinic.example>",
        "In-Reply-To: <q1@clinic.example>\r\nReferences: <q1@clinic.example>\r\n",
    )
    reply_id, question_id = store_only(services, reply, question)

    outcomes = process_messages(services, [reply_id, question_id])

    assert outcomes == {question_id: Outcome.NEW_CASE, reply_id: Outcome.FOLLOW_UP}
    with services.db.session() as session:
        assert session.scalar(select(func.count(Case.id))) == 1
    assert len(outbox_messages(services)) == 1  # one acknowledgment, for the question


def test_a_message_a_dead_run_held_is_taken_over_and_processed_alone(services: Services) -> None:
    ids = store_only(services, *QUESTIONS[:3])
    with services.db.session() as session:
        session.execute(
            update(InboundMessage)
            .where(InboundMessage.id == ids[1])
            .values(claim_token="dead-run", claimed_by=gone_process(), claimed_at=utcnow())
        )

    outcomes = process_messages(services, ids, token="run-2")

    assert set(outcomes.values()) == {Outcome.NEW_CASE}
    with services.db.session() as session:
        taken_over = session.get_one(InboundMessage, ids[1])
        assert taken_over.unfinished_runs == 1
        restarted = session.scalars(
            select(CaseEvent.case_id).where(CaseEvent.kind == "processing_restarted")
        ).all()
        assert restarted == [taken_over.case_id]  # the other two were never held before


def test_a_batch_that_used_half_its_time_limit_leaves_the_rest_for_a_next_run(
    make_settings: Callable[..., Settings],
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = make_settings(
        database_url=database_url,
        task_soft_time_limit_seconds=0.004,
        task_time_limit_seconds=30,
    )
    services = build_services(settings)
    try:
        ids = store_only(services, *QUESTIONS)
        first = process_messages(services, ids)
        left = [i for i, outcome in first.items() if outcome == Outcome.DEFERRED]
        assert 0 < len(left) < len(ids)  # some done, the rest released
        assert "used half its time limit" in caplog.text
        with services.db.session() as session:
            held = session.scalar(
                select(func.count(InboundMessage.id)).where(InboundMessage.claim_token.is_not(None))
            )
        assert held == 0  # released, not left to wait for the lease

        for _ in ids:  # the next runs, each at least one message further
            outcomes = process_messages(services, left)
            left = [i for i, outcome in outcomes.items() if outcome == Outcome.DEFERRED]
            if not left:
                break
        assert counts(services)["Case"] == len(ids)
    finally:
        services.db.dispose()


def test_two_batches_of_one_thread_at_once_make_one_case(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    """Two workers take batches holding a question and its reply at the same moment."""
    settings = make_settings(database_url=database_url)
    services = build_services(settings)
    try:
        question = mail("99213 with 25", "<q1@clinic.example>")
        reply = mail(
            "Re: 99213 with 25",
            "<r1@clinic.example>",
            "In-Reply-To: <q1@clinic.example>\r\nReferences: <q1@clinic.example>\r\n",
        )
        others = [mail(f"other {n}", f"<o{n}@clinic.example>") for n in range(6)]
        ids = store_only(services, *others[:3], question, *others[3:], reply)
        batches = [ids[:4], ids[4:]]
        outcomes: dict[int, Outcome] = {}

        def run(batch: list[int]) -> None:
            outcomes.update(process_messages(services, batch))

        threads = [threading.Thread(target=run, args=(b,)) for b in batches]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if outcomes[ids[-1]] == Outcome.DEFERRED:  # the reply came before its question's commit
            outcomes |= process_messages(services, [ids[-1]])

        assert outcomes[ids[3]] == Outcome.NEW_CASE and outcomes[ids[-1]] == Outcome.FOLLOW_UP
        with services.db.session() as session:
            assert session.scalar(select(func.count(Case.id))) == 7
    finally:
        services.db.dispose()
