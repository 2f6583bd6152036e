"""Allowed senders and what happens to mail from anyone else, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from consultant.cases import review, senders
from consultant.cases.senders import SenderRuleError, UnknownSenders
from consultant.models import Case, CaseEvent, InboundMessage, OutboundMessage
from consultant.services import Services
from tests.support.cases import file_messages, outbox_messages

ADMIN = "admin@caseconsultant.example"
STRANGER = "nobody@elsewhere.example"
_serial = iter(range(1, 10_000))


def question(sender: str = STRANGER, **headers: str) -> bytes:
    """A new coding question from ``sender``, with a fresh Message-ID."""
    message = EmailMessage()
    message["From"] = f"Dana Reyes <{sender}>"
    message["To"] = "consult@caseconsultant.example"
    message["Subject"] = "Can 29880 and 29877 be billed together?"
    message["Message-ID"] = f"<q{next(_serial)}@{sender.split('@')[1]}>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content("Same knee, same session. Do I need modifier 59?\n")
    return bytes(message)


def set_policy(services: Services, policy: UnknownSenders) -> None:
    with services.db.session() as session:
        senders.set_unknown_senders(session, policy, ADMIN)


def allow(services: Services, pattern: str) -> None:
    with services.db.session() as session:
        senders.add_rule(session, pattern, "", ADMIN)


def only_case(services: Services) -> tuple[str, str, str | None, list[str]]:
    """The one case: reference, status, its message's route reason, its outbound kinds."""
    with services.db.session() as session:
        (case,) = session.scalars(select(Case))
        (message,) = session.scalars(select(InboundMessage))
        kinds = [o.kind for o in session.scalars(select(OutboundMessage))]
        return case.reference or "", case.status, message.route_reason, kinds


def event_kinds(services: Services) -> list[str]:
    with services.db.session() as session:
        return list(session.scalars(select(CaseEvent.kind).order_by(CaseEvent.id)))


def test_unknown_senders_are_accepted_by_default(services: Services) -> None:
    file_messages(services, question())

    _, status, reason, kinds = only_case(services)
    assert (status, reason, kinds) == ("awaiting_review", None, ["ack"])


def test_hold_keeps_an_unknown_sender_unanswered_in_ignored(services: Services) -> None:
    set_policy(services, UnknownSenders.HOLD)

    file_messages(services, question())

    _, status, reason, kinds = only_case(services)
    assert (status, reason, kinds) == ("ignored", "unknown sender", [])
    assert outbox_messages(services) == []
    assert "draft_created" not in event_kinds(services)


def test_notice_tells_an_unknown_sender_once_through_the_outbox(services: Services) -> None:
    set_policy(services, UnknownSenders.NOTICE)

    file_messages(services, question())

    reference, status, reason, kinds = only_case(services)
    assert (status, reason, kinds) == ("ignored", "unknown sender", ["ack"])
    (notice,) = outbox_messages(services)
    assert notice["To"] == STRANGER
    assert notice["Auto-Submitted"] == "auto-replied"
    assert reference in notice["Subject"]
    text = notice.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "not registered" in text and "Dear Dana Reyes" in text


def test_notice_goes_once_a_day_however_often_the_sender_writes(services: Services) -> None:
    set_policy(services, UnknownSenders.NOTICE)

    file_messages(services, question(), question(), question())

    assert len(outbox_messages(services)) == 1
    assert event_kinds(services).count("notice_not_sent") == 2


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto_Submitted": "auto-replied"},
        {"Precedence": "list", "List_Id": "<coders.lists.example>"},
        {"Return_Path": "<>"},
    ],
    ids=["auto-reply", "list", "bounce"],
)
def test_notice_never_answers_machine_mail(services: Services, headers: dict[str, str]) -> None:
    set_policy(services, UnknownSenders.NOTICE)

    file_messages(services, question(**headers))

    assert outbox_messages(services) == []
    with services.db.session() as session:
        (message,) = session.scalars(select(InboundMessage))
        assert message.route == "ignored"
        assert message.route_reason != "unknown sender"


@pytest.mark.parametrize("pattern", ["nobody@elsewhere.example", "elsewhere.example"])
@pytest.mark.parametrize("policy", [UnknownSenders.HOLD, UnknownSenders.NOTICE])
def test_an_allowed_address_or_domain_is_a_question(
    services: Services, pattern: str, policy: UnknownSenders
) -> None:
    set_policy(services, policy)
    allow(services, pattern)

    file_messages(services, question())

    _, status, reason, kinds = only_case(services)
    assert (status, reason, kinds) == ("awaiting_review", None, ["ack"])


def test_a_subdomain_or_a_lookalike_is_not_allowed_by_a_domain(services: Services) -> None:
    set_policy(services, UnknownSenders.HOLD)
    allow(services, "elsewhere.example")

    file_messages(
        services, question("a@mail.elsewhere.example"), question("b@notelsewhere.example")
    )

    with services.db.session() as session:
        assert set(session.scalars(select(Case.status))) == {"ignored"}


def test_the_environment_list_allows_too(make_services: Callable[..., Services]) -> None:
    services = make_services(allowed_senders="clinic.example, nobody@elsewhere.example")
    set_policy(services, UnknownSenders.HOLD)

    file_messages(services, question(), question("coder@clinic.example"))

    with services.db.session() as session:
        assert list(session.scalars(select(Case.status))) == ["awaiting_review"] * 2


def test_an_expert_can_read_a_held_message_as_a_question(services: Services) -> None:
    set_policy(services, UnknownSenders.HOLD)
    file_messages(services, question())
    reference, *_ = only_case(services)

    review.retry(services, reference, "expert@caseconsultant.example")

    _, status, _, kinds = only_case(services)
    assert (status, kinds) == ("awaiting_review", ["ack"])


def test_admin_rules_decide_whose_reply_to_is_honoured(services: Services) -> None:
    allow(services, "billing.example")

    file_messages(services, question("dana@clinic.example", Reply_To="team@billing.example"))

    with services.db.session() as session:
        (case,) = session.scalars(select(Case))
        assert case.requester_address == "team@billing.example"


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("Dana@Clinic.Example", "dana@clinic.example"),
        ("@Clinic.Example", "clinic.example"),
        ("  clinic.example ", "clinic.example"),
    ],
)
def test_rules_are_stored_as_lower_case_addresses_or_domains(
    services: Services, given: str, stored: str
) -> None:
    with services.db.session() as session:
        assert senders.add_rule(session, given, "a note", ADMIN).pattern == stored


@pytest.mark.parametrize("given", ["", "not a domain", "a@@b.example", "localhost", "x@10.0.0.1"])
def test_malformed_rules_are_refused(services: Services, given: str) -> None:
    with services.db.session() as session, pytest.raises(SenderRuleError):
        senders.add_rule(session, given, "", ADMIN)


def test_a_duplicate_rule_is_refused_and_the_first_kept(services: Services) -> None:
    allow(services, "clinic.example")

    with services.db.session() as session:
        with pytest.raises(SenderRuleError, match="already allowed"):
            senders.add_rule(session, "CLINIC.example", "", ADMIN)
        assert [r.pattern for r in senders.list_rules(session)] == ["clinic.example"]


def test_removing_a_rule_holds_that_sender_again(services: Services) -> None:
    set_policy(services, UnknownSenders.HOLD)
    allow(services, "elsewhere.example")
    with services.db.session() as session:
        (rule,) = senders.list_rules(session)
        assert senders.remove_rule(session, rule.id, ADMIN) == "elsewhere.example"
        assert senders.remove_rule(session, rule.id, ADMIN) is None

    file_messages(services, question())

    assert only_case(services)[1] == "ignored"


def test_an_unreadable_policy_value_means_accept(services: Services) -> None:
    from consultant.cases.app_settings import UNKNOWN_SENDERS, write_setting

    with services.db.session() as session:
        write_setting(session, UNKNOWN_SENDERS, "drop everything", ADMIN)
    with services.db.session() as session:
        assert senders.unknown_senders(session) is UnknownSenders.ACCEPT
