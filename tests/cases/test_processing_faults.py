"""Processing under faults and hostile mail: claims, set-asides, limits, senders, bounces.

Each test is something that went wrong when the pipeline was run for real;
each runs on SQLite and on PostgreSQL unless it needs a server's failure.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select, update

from config import Settings
from consultant.cases.processing import Outcome, process_message
from consultant.cases.review import retry
from consultant.cases.runs import this_process
from consultant.db_errors import TransientError
from consultant.models import Case, CaseEvent, InboundMessage, OutboundMessage, utcnow
from consultant.services import Services, build_services
from tests.support.cases import (
    answer_and_approve,
    bounce_of,
    file_messages,
    outbox_messages,
    store_only,
)
from tests.support.corpus import QUESTIONS
from tests.support.postgres import outage, refusing_case_subjects
from tests.support.runs import gone_process, live_process


def mail(
    sender: str = "Dana Reyes <dana@clinic.example>",
    subject: str = "99213 with 25",
    body: str = "Can I bill 99213-25 with 11102 on the same day?",
    message_id: str = "<q1@clinic.example>",
    headers: str = "",
) -> bytes:
    head = f"From: {sender}\r\nTo: consult@caseconsultant.example\r\nSubject: {subject}\r\n"
    head += f"Message-ID: {message_id}\r\n{headers}"
    return f"{head}\r\n{body}\r\n".encode()


deliver = file_messages
outbox = outbox_messages


def all_cases(services: Services) -> list[Case]:
    with services.db.session() as session:
        return list(session.scalars(select(Case).order_by(Case.id)))


def events(services: Services, kind: str) -> list[dict[str, object]]:
    with services.db.session() as session:
        return list(
            session.scalars(
                select(CaseEvent.details).where(CaseEvent.kind == kind).order_by(CaseEvent.id)
            )
        )


def row(services: Services, inbound_id: int) -> InboundMessage:
    with services.db.session() as session:
        return session.get_one(InboundMessage, inbound_id)


# --- claims: one run at a time, dead runs noticed -------------------------------------------


def _claimed(services: Services, token: str, by: str | None, **values: object) -> None:
    with services.db.session() as session:
        session.execute(
            update(InboundMessage).values(
                claim_token=token, claimed_by=by, claimed_at=utcnow(), **values
            )
        )


def test_a_message_held_by_a_live_run_is_left_alone(services: Services) -> None:
    [inbound_id] = store_only(services, mail())
    with live_process() as worker:
        _claimed(services, "run-1", worker)

        assert process_message(services, inbound_id, token="run-2") == Outcome.BUSY
        # The same task delivered again while its first copy still runs (the broker lost
        # its connection): it waits too.
        assert process_message(services, inbound_id, token="run-1") == Outcome.BUSY
    assert all_cases(services) == []


def test_the_same_task_delivered_again_after_its_worker_died_takes_over_at_once(
    services: Services,
) -> None:
    [inbound_id] = store_only(services, mail())
    _claimed(services, "run-1", gone_process())

    assert process_message(services, inbound_id, token="run-1") == Outcome.NEW_CASE
    [restarted] = events(services, "processing_restarted")
    assert restarted["unfinished_runs"] == 1


def test_a_retry_of_a_run_that_ended_here_is_not_counted_as_lost(services: Services) -> None:
    """The database failed the first run, and giving the claim back failed too."""
    [inbound_id] = store_only(services, mail())
    _claimed(services, "run-1", this_process())

    assert process_message(services, inbound_id, token="run-1") == Outcome.NEW_CASE
    assert events(services, "processing_restarted") == []


def test_a_claim_older_than_the_lease_is_taken_over(services: Services) -> None:
    [inbound_id] = store_only(services, mail())
    long_ago = utcnow() - timedelta(hours=1)
    with services.db.session() as session:
        session.execute(update(InboundMessage).values(claim_token="dead", claimed_at=long_ago))

    assert process_message(services, inbound_id, token="run-2") == Outcome.NEW_CASE


def test_a_message_that_kills_every_run_is_set_aside_and_can_be_retried(
    services: Services,
) -> None:
    [inbound_id] = store_only(services, mail())
    max_runs = services.settings.process_max_attempts
    _claimed(services, "dead", gone_process(), unfinished_runs=max_runs - 1)

    assert process_message(services, inbound_id, token="dead") == Outcome.FAILED

    [case] = all_cases(services)
    assert case.status == "failed"
    assert f"started {max_runs + 1} times and never finished" in (case.error or "")
    retry(services, case.reference or "", "expert@caseconsultant.example")
    [case] = all_cases(services)
    assert case.status == "awaiting_review"


def test_the_sweep_counts_its_restarts_and_the_timeline_says_why_the_case_waited(
    services: Services,
) -> None:
    from consultant.cases.sweep import sweep

    [inbound_id] = store_only(services, mail())
    with services.db.session() as session:
        session.execute(update(InboundMessage).values(received_at=utcnow() - timedelta(minutes=10)))

    assert sweep(services).messages == 1

    assert row(services, inbound_id).restarts == 1
    [restarted] = events(services, "processing_restarted")
    assert restarted["restarted_by_sweep"] == 1
    assert float(str(restarted["waited_seconds"])) >= 600


def test_the_sweep_restarts_a_message_stuck_behind_a_backlog_less_and_less_often(
    make_settings: Callable[..., Settings], sqlite_url: str
) -> None:
    """Its task is queued behind thousands (the worker was down): one restart, then the next
    only after twice the wait, and so on, never one more task per message every minute."""
    from consultant.cases.sweep import sweep

    services = build_services(make_settings(database_url=sqlite_url), dispatch=_Recording())
    [inbound_id] = store_only(services, mail())
    stale = services.settings.stale_after_seconds
    with services.db.session() as session:
        session.execute(update(InboundMessage).values(received_at=utcnow() - timedelta(hours=2)))

    restarted = [sweep(services).messages for _ in range(3)]
    _restarted_ago(services, 1.5 * stale)
    restarted.append(sweep(services).messages)  # once the wait doubled: not yet
    _restarted_ago(services, 2.5 * stale)
    restarted.append(sweep(services).messages)

    assert restarted == [1, 0, 0, 0, 1]
    assert row(services, inbound_id).restarts == 2
    services.db.dispose()


class _Recording:
    """A dispatcher that records and runs nothing: the worker is down."""

    def bind(self, services: Services) -> None:
        """Nothing to bind."""

    def __call__(self, task: str, row_id: int) -> None:
        """The task would wait in the broker's queue."""


def _restarted_ago(services: Services, seconds: float) -> None:
    with services.db.session() as session:
        session.execute(
            update(InboundMessage).values(restarted_at=utcnow() - timedelta(seconds=seconds))
        )


# --- the database unwell or refusing a value ------------------------------------------------


def test_nul_bytes_are_dropped_not_fatal(services: Services) -> None:
    raw = mail(subject="99213\x00 with 25", body="Can I bill\x00 99213-25 with 11102?")

    [inbound_id] = deliver(services, raw)

    [case] = all_cases(services)
    assert case.status == "awaiting_review"
    assert "\x00" not in case.subject
    assert "\x00" not in (row(services, inbound_id).text or "")


def test_a_value_the_database_refuses_sets_that_message_aside_and_the_rest_go_on(
    postgres_services: Services, postgres_url: str
) -> None:
    services = postgres_services
    with refusing_case_subjects(postgres_url, "poison"):
        ids = deliver(
            services,
            mail(message_id="<a@clinic.example>"),
            mail(subject="poison pill", message_id="<b@clinic.example>"),
            mail(subject="99214 question", message_id="<c@clinic.example>"),
        )

    statuses = [row(services, i).route for i in ids]
    assert statuses == ["new_case", "failed", "new_case"]
    poisoned = row(services, ids[1])
    assert "database refused a value" in (poisoned.error or "")
    assert poisoned.processed_at is not None  # set aside, never re-dispatched by the sweep


def test_a_database_outage_during_processing_is_retried_later_not_failed(
    postgres_services: Services, postgres_url: str
) -> None:
    services, database_url = postgres_services, postgres_url
    [inbound_id] = store_only(services, mail())
    services.lookup.code  # noqa: B018  (the lookups exist before the outage)
    timer = outage(database_url, 1.5)
    with pytest.raises(TransientError):
        process_message(services, inbound_id, token="run-1")
    timer.join()

    assert process_message(services, inbound_id, token="run-1") == Outcome.NEW_CASE
    assert row(services, inbound_id).unfinished_runs == 0


def test_lookups_survive_their_connections_being_terminated(
    postgres_services: Services, postgres_url: str
) -> None:
    services, database_url = postgres_services, postgres_url
    from tests.support.postgres import terminate_connections

    deliver(services, mail(message_id="<a@clinic.example>"))
    terminate_connections(database_url)
    deliver(services, mail(subject="99214 question", message_id="<b@clinic.example>"))

    assert [c.status for c in all_cases(services)] == ["awaiting_review", "awaiting_review"]


# --- hostile mail -------------------------------------------------------------------------


HOSTILE = {
    "unclosed From": b"From: Dana <\r\n",
    "CRLF in an encoded name": (
        b"From: =?utf-8?q?Dana=0D=0ABcc=3A_evil=40x.example?= <dana@clinic.example>\r\n"
    ),
    "vertical tab in the address": b"From: Dana <da\x0bna@clinic.example>\r\n",
    "NEL in the address": "From: Dana <da\x85na@clinic.example>\r\n".encode(),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_senders_make_a_case_and_never_a_bad_recipient(
    services: Services, name: str
) -> None:
    raw = (
        HOSTILE[name]
        + b"Subject: 99213 with 25\r\nMessage-ID: <h1@clinic.example>\r\n\r\n"
        + b"Can I bill 99213-25 with 11102?\r\n"
    )

    deliver(services, raw)

    [case] = all_cases(services)
    assert case.status == "awaiting_review"
    for ack in outbox(services):
        assert ack["To"] == "dana@clinic.example"
    if case.requester_address is not None:
        assert case.requester_address.isprintable() and "\n" not in case.requester_address


def test_a_folded_message_id_still_threads(services: Services) -> None:
    parent = mail(message_id="\r\n <fold1@clinic.example>")
    reply = mail(
        subject="Re: 99213 with 25",
        message_id="<fold2@clinic.example>",
        headers="In-Reply-To: <fold1@clinic.example>\r\n",
    )

    deliver(services, parent, reply)

    [case] = all_cases(services)
    assert case.status == "awaiting_review"


def test_the_acknowledgment_never_goes_to_a_third_partys_reply_to(services: Services) -> None:
    deliver(services, mail(headers="Reply-To: pills@spam.example\r\n"))

    [ack] = outbox(services)
    assert ack["To"] == "dana@clinic.example"


def test_a_reply_to_in_the_senders_domain_or_allowed_is_honoured(
    make_services: Callable[..., Services],
) -> None:
    services = make_services(allowed_senders="billing.example")
    deliver(
        services,
        mail(headers="Reply-To: office@clinic.example\r\n"),
        mail(message_id="<q2@clinic.example>", headers="Reply-To: team@billing.example\r\n"),
    )

    assert [ack["To"] for ack in outbox(services)] == [
        "office@clinic.example",
        "team@billing.example",
    ]


def test_a_huge_subject_is_cut_in_what_we_send(services: Services) -> None:
    deliver(services, mail(subject="Question about 99213 " + "very " * 200_000))

    [ack] = outbox(services)
    assert len(ack["Subject"]) < 200
    assert ack["Subject"].endswith("[CC-000001]")
    for line in ack.as_bytes().split(b"\n"):
        assert len(line) <= 998


def test_a_message_naming_a_thousand_codes_is_bounded_and_says_so(services: Services) -> None:
    codes = ", ".join(str(10000 + 37 * i) for i in range(1000))
    deliver(services, mail(body=f"Can these be billed together: {codes}?"))

    [case] = all_cases(services)
    assert case.status == "awaiting_review"
    [reached] = events(services, "limits_reached")
    limits = " ".join(str(x) for x in reached["limits"])  # type: ignore[union-attr]
    assert "only the first 40 were looked up" in limits


# --- threads in any order ------------------------------------------------------------------


def _reply_to(parent: str, number: int) -> bytes:
    return mail(
        subject="Re: 99213 with 25",
        body=f"And what about 1110{number}?",
        message_id=f"<reply{number}@clinic.example>",
        headers=f"In-Reply-To: {parent}\r\nReferences: {parent}\r\n",
    )


def test_two_replies_processed_before_their_parent_make_one_case(services: Services) -> None:
    deliver(services, _reply_to("<q1@clinic.example>", 1))
    deliver(services, _reply_to("<q1@clinic.example>", 2))
    deliver(services, mail())  # the question itself, last

    [case] = all_cases(services)
    with services.db.session() as session:
        held = session.scalars(select(InboundMessage.case_id)).all()
    assert held == [case.id] * 3
    assert len(outbox(services)) == 1


def test_a_parent_set_aside_then_retried_joins_its_replys_case(
    services: Services, make_services: Callable[..., Services], tmp_path: Path
) -> None:
    broken = make_services(templates_dir=tmp_path / "no-templates")
    deliver(broken, mail())  # set aside: the templates are missing
    deliver(services, _reply_to("<q1@clinic.example>", 1))
    failed, reply_case = all_cases(services)
    assert (failed.status, reply_case.status) == ("failed", "awaiting_review")

    retry(services, failed.reference or "", "expert@caseconsultant.example")

    statuses = {case.reference: case.status for case in all_cases(services)}
    assert statuses == {failed.reference: "ignored", reply_case.reference: "awaiting_review"}
    with services.db.session() as session:
        parent = session.scalar(
            select(InboundMessage).where(InboundMessage.message_id == "<q1@clinic.example>")
        )
        assert parent is not None and parent.case_id == reply_case.id
    assert len(outbox(services)) == 1  # the reply's case's acknowledgment, no second one


# --- senders, loops and bounces -------------------------------------------------------------


def test_a_sender_over_the_hourly_limit_is_held_not_answered(
    make_services: Callable[..., Services],
) -> None:
    services = make_services(sender_hourly_limit=2)
    ids = deliver(services, *(mail(message_id=f"<r{i}@clinic.example>") for i in range(4)))

    routes = [(row(services, i).route, row(services, i).route_reason) for i in ids]
    assert routes[:2] == [("new_case", None), ("new_case", None)]
    for route, reason in routes[2:]:
        assert route == "ignored" and (reason or "").startswith("held: more than 2 messages")
    assert len(outbox(services)) == 2
    # Held where an expert sees them, with the reason, and can read them as questions.
    held = [case for case in all_cases(services) if case.status == "ignored"]
    assert len(held) == 2
    retry(services, held[0].reference or "", "expert@caseconsultant.example")
    statuses = {case.reference: case.status for case in all_cases(services)}
    assert statuses[held[0].reference] == "awaiting_review"


def test_mail_carrying_our_case_reference_from_a_stranger_gets_no_automatic_answer(
    services: Services,
) -> None:
    deliver(services, mail())
    [ack] = outbox(services)
    echo = mail(
        sender="robot@elsewhere.example",
        subject=f"Auto: {ack['Subject']}",
        message_id="<echo1@elsewhere.example>",
    )

    deliver(services, echo)

    assert len(outbox(services)) == 1
    assert {"reason": "the subject names one of our case references"} in events(
        services, "ack_not_sent"
    )


def test_a_bounced_reply_is_marked_and_its_case_goes_back_to_the_queue(
    services: Services,
) -> None:
    deliver(services, (QUESTIONS / "01.eml").read_bytes())
    outbound_id = answer_and_approve(services, "CC-000001")
    with services.db.session() as session:
        message_id = session.get_one(OutboundMessage, outbound_id).message_id

    deliver(services, bounce_of(message_id, "5.1.1"))

    with services.db.session() as session:
        reply = session.get_one(OutboundMessage, outbound_id)
        assert (reply.state, reply.bounce_status) == ("bounced", "5.1.1")
        assert "User unknown" in (reply.bounce_text or "")
    [case] = all_cases(services)
    assert case.status == "awaiting_review"
    assert "bounced" in (case.error or "")
    assert events(services, "reply_bounced")[0]["status"] == "5.1.1"


def test_a_delay_notice_changes_nothing_but_the_timeline(services: Services) -> None:
    deliver(services, (QUESTIONS / "01.eml").read_bytes())
    outbound_id = answer_and_approve(services, "CC-000001")
    with services.db.session() as session:
        message_id = session.get_one(OutboundMessage, outbound_id).message_id

    deliver(services, bounce_of(message_id, "4.4.1", action="delayed"))

    [case] = all_cases(services)
    assert case.status == "sent"
    assert len(events(services, "delivery_delayed")) == 1


def test_two_runs_of_one_message_make_one_case(services: Services) -> None:
    [inbound_id] = store_only(services, mail())
    outcomes: list[Outcome] = []

    def run(token: str) -> None:
        outcomes.append(process_message(services, inbound_id, token=token))

    threads = [threading.Thread(target=run, args=(f"run-{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count(Outcome.NEW_CASE) == 1
    assert len(all_cases(services)) == 1
    assert len(outbox(services)) == 1


# --- logs -----------------------------------------------------------------------------------


PATIENT = ("Harold Jenkins", "03/14/1962", "MRN 44817203")


def test_logs_never_carry_patient_details(
    postgres_services: Services, postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A message naming a patient goes through every path that logs: processed, refused by
    the database for its data, failing with a connection error (logged with its whole chain,
    the statement included), ignored, acknowledged."""
    services = postgres_services
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(
            "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
            "IF NEW.subject LIKE '%poison%' THEN RAISE EXCEPTION 'refused' "
            "USING ERRCODE = 'character_not_in_repertoire'; END IF; "
            "IF NEW.subject LIKE '%shutdown%' THEN RAISE EXCEPTION 'going away' "
            "USING ERRCODE = 'admin_shutdown'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
        )
        connection.execute(
            'CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON "case" '
            "FOR EACH ROW EXECUTE FUNCTION refuse()"
        )
    named = f"{PATIENT[0]} DOB {PATIENT[1]} {PATIENT[2]}"
    caplog.set_level("DEBUG")
    try:
        deliver(
            services,
            mail(subject=f"denial for {named}", body=f"Pt {named}: 99213-25?"),
            mail(subject=f"poison {named}", message_id="<p2@clinic.example>"),
            mail(subject=f"shutdown {named}", message_id="<p3@clinic.example>"),
            mail(
                subject=f"Out of office: {named}",
                message_id="<p4@clinic.example>",
                headers="Auto-Submitted: auto-replied\r\n",
            ),
        )
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as connection:
            connection.execute('DROP TRIGGER refuse ON "case"')
            connection.execute("DROP FUNCTION refuse()")

    assert "going away" in caplog.text  # the connection error was logged, chain and all
    assert len(all_cases(services)) == 2  # the question, and the refused one set aside
    for detail in PATIENT:
        assert detail not in caplog.text


def test_waiting_behind_a_busy_thread_ends_before_the_time_limit(
    make_settings: Callable[..., Settings], postgres_url: str
) -> None:
    """Another worker holds the thread's lock for long: this run gives up in a quarter of
    its soft time limit and is tried again, instead of being stopped as too slow."""
    from consultant.db import advisory_key

    services = build_services(
        make_settings(
            database_url=postgres_url,
            task_soft_time_limit_seconds=2,
            task_time_limit_seconds=3,
        )
    )
    [inbound_id] = store_only(services, mail())
    holder = psycopg.connect(postgres_url, autocommit=True)
    holder.execute("SELECT pg_advisory_lock(%s)", (advisory_key("<q1@clinic.example>"),))
    try:
        started = time.monotonic()
        with pytest.raises(TransientError):
            process_message(services, inbound_id, token="run-1")
        assert time.monotonic() - started < 1.5
    finally:
        holder.close()

    assert process_message(services, inbound_id, token="run-1") == Outcome.NEW_CASE
    services.db.dispose()
