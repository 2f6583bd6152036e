"""Ignored mail is listed with its reason, and an expert can read one as a question."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from consultant.cases import ignored
from consultant.cases.ignored import READ_AS_QUESTION, ignored_mail, treat_as_question
from consultant.cases.queue import QueueFilter, queue_page
from consultant.cases.review_errors import ReviewError
from consultant.models import Case, CaseEvent, InboundMessage
from consultant.services import Services
from tests.support.cases import file_messages
from tests.support.corpus import QUESTIONS, special

EXPERT = "expert@clinic.example"


def listed(services: Services) -> ignored.IgnoredPage:
    with services.db.read_session() as session:
        return ignored_mail(session)


def test_machine_mail_is_listed_newest_first_with_its_reason(services: Services) -> None:
    file_messages(services, special("auto_reply.eml"))
    file_messages(services, special("bounce.eml"))
    file_messages(services, special("bulk.eml"))

    page = listed(services)
    assert [row.reason for row in page.rows] == ["bulk", "bounce", "auto-reply"]
    assert page.total == 3 and page.describe() == "1\u20133 of 3"
    assert all(row.case_reference is None and row.can_be_question for row in page.rows)
    with services.db.read_session() as session:
        assert ignored.count_ignored(session) == 3


def test_an_auto_reply_treated_as_a_question_becomes_a_case_and_stays_one(
    services: Services,
) -> None:
    file_messages(services, special("auto_reply.eml"))
    (mail,) = listed(services).rows

    reference = treat_as_question(services, mail.inbound_id, EXPERT)

    assert reference == "CC-000001"
    with services.db.read_session() as session:
        case = session.scalars(select(Case)).one()
        inbound = session.get_one(InboundMessage, mail.inbound_id)
        kinds = [e.kind for e in session.scalars(select(CaseEvent).order_by(CaseEvent.id))]
        treated = session.scalars(
            select(CaseEvent).where(CaseEvent.kind == "treated_as_question")
        ).one()
    assert case.status == "awaiting_review"
    assert (inbound.route, inbound.route_reason) == ("new_case", READ_AS_QUESTION)
    assert (treated.actor, treated.details["was"]) == (EXPERT, "auto-reply")
    assert "draft_created" in kinds
    assert listed(services).total == 0
    with services.db.read_session() as session:
        queue = queue_page(session, services.settings, QueueFilter())
    assert [row.reference for row in queue.rows] == ["CC-000001"]


def test_held_mail_on_its_own_ignored_case_reopens_that_case(make_services: object) -> None:
    services = make_services(sender_hourly_limit=1)  # type: ignore[operator]
    file_messages(services, (QUESTIONS / "01.eml").read_bytes())
    again = (QUESTIONS / "01.eml").read_bytes().replace(b"<s01.", b"<s01-again.")
    file_messages(services, again)
    (mail,) = listed(services).rows
    assert mail.reason.startswith("held:") and mail.case_reference == "CC-000002"
    assert mail.case_status == "ignored" and mail.can_be_question

    assert treat_as_question(services, mail.inbound_id, EXPERT) == "CC-000002"
    with services.db.read_session() as session:
        status = session.scalar(select(Case.status).where(Case.reference == "CC-000002"))
    assert status == "awaiting_review"


def test_an_auto_reply_logged_on_a_live_case_is_read_there(services: Services) -> None:
    file_messages(services, (QUESTIONS / "01.eml").read_bytes(), special("auto_reply.eml"))
    (mail,) = listed(services).rows
    assert mail.case_reference == "CC-000001" and not mail.can_be_question
    with pytest.raises(ReviewError, match="logged on CC-000001, which is awaiting review"):
        treat_as_question(services, mail.inbound_id, EXPERT)


def test_only_ignored_mail_can_be_treated_as_a_question(services: Services) -> None:
    (inbound_id,) = file_messages(services, (QUESTIONS / "01.eml").read_bytes())
    with pytest.raises(ReviewError, match="not ignored mail"):
        treat_as_question(services, inbound_id, EXPERT)
    with pytest.raises(ignored.IgnoredMailNotFound):
        treat_as_question(services, 999_999, EXPERT)
