"""Member accounts from an emailed link: registration, invitation, and what cannot be abused.

The links travel through the real outbox (the embedded Maildir); the tests read them
there, as the person would in their mail.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from consultant.auth_log import AuthEventKind
from consultant.cases.senders import UnknownSenders, add_rule, set_unknown_senders
from consultant.models import (
    AccountToken,
    AuthEvent,
    OutboundKind,
    OutboundMessage,
    Role,
    User,
    utcnow,
)
from consultant.registration import (
    LINKS_PER_ADDRESS_PER_DAY,
    LinkInvalid,
    RegistrationRefused,
    accept,
    invite,
    request_registration,
)
from consultant.services import Services
from consultant.users import UserError, check_password, create_user
from tests.support.cases import outbox_messages

PASSWORD = "correct horse battery staple"
LINK = re.compile(r"http://127\.0\.0\.1:8000/welcome/([A-Za-z0-9_-]+)")


def register(services: Services, email: str, client: str | None = "192.0.2.1") -> None:
    with services.db.session() as session:
        queued = request_registration(services, session, email, client)
    if queued.outbound_id is not None:
        services.dispatch("send_reply", queued.outbound_id)


def token_in_mail(services: Services, to: str) -> str:
    """The link of the latest mail to ``to``, as its reader would click it."""
    mails = [m for m in outbox_messages(services) if m["To"] == to]
    assert mails, f"no mail to {to}"
    found = LINK.search(mails[-1].get_body(("plain",)).get_content())
    assert found, "the mail holds no link"
    return found[1]


def open_account(services: Services, token: str, password: str = PASSWORD) -> User:
    with services.db.session() as session:
        user = accept(session, token, password, "192.0.2.1")
        session.expunge(user)
        return user


def test_a_registration_sends_a_link_and_the_password_is_chosen_there(
    services: Services,
) -> None:
    register(services, "  Dana@Clinic.Example ")
    (mail,) = outbox_messages(services)
    assert mail["To"] == "dana@clinic.example"
    assert mail["Subject"] == "CaseConsultant: Confirm your registration"
    assert mail["Auto-Submitted"] == "auto-replied"  # no auto-responder answers it
    with services.db.read_session() as session:
        assert session.scalar(select(User)) is None  # no account before the link is opened
        row = session.scalars(select(OutboundMessage)).one()
        assert (row.kind, row.case_id, row.state) == (OutboundKind.ACCOUNT, None, "sent")
    user = open_account(services, token_in_mail(services, "dana@clinic.example"))
    assert (user.email, user.role, user.active) == ("dana@clinic.example", Role.MEMBER, True)
    assert check_password(services.db, "dana@clinic.example", PASSWORD).ok
    with services.db.read_session() as session:
        kinds = [e.kind for e in session.scalars(select(AuthEvent).order_by(AuthEvent.id))]
        stored = session.scalars(select(AccountToken)).one()
    assert kinds[0] == AuthEventKind.REGISTERED and AuthEventKind.CONFIRMED in kinds
    assert AuthEventKind.ACCOUNT_MAIL in kinds  # queued and sent, in the account log
    assert token_in_mail(services, "dana@clinic.example") not in stored.token_hash  # a hash


def test_a_link_works_once_and_not_after_it_expired(services: Services) -> None:
    register(services, "dana@clinic.example")
    token = token_in_mail(services, "dana@clinic.example")
    open_account(services, token)
    with pytest.raises(LinkInvalid, match="used already"):
        open_account(services, token)
    register(services, "pat@clinic.example")
    late = token_in_mail(services, "pat@clinic.example")
    with services.db.session() as session:
        session.execute(
            update(AccountToken)
            .where(AccountToken.email == "pat@clinic.example")
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    with pytest.raises(LinkInvalid, match="expired"):
        open_account(services, late)
    with pytest.raises(LinkInvalid, match="not known"):
        open_account(services, late[:-1])


def test_a_short_password_is_refused_and_the_link_still_works(services: Services) -> None:
    register(services, "dana@clinic.example")
    token = token_in_mail(services, "dana@clinic.example")
    with pytest.raises(UserError, match="at least 12 characters"):
        open_account(services, token, "short")
    assert open_account(services, token).email == "dana@clinic.example"


def test_registering_an_address_with_an_account_tells_its_owner_not_the_visitor(
    services: Services,
) -> None:
    create_user(services.db, "dana@clinic.example", PASSWORD, Role.REVIEWER)
    register(services, "dana@clinic.example")  # returns as for any address
    (mail,) = outbox_messages(services)
    text = mail.get_body(("plain",)).get_content()
    assert "already has an account" in text and not LINK.search(text)
    with services.db.read_session() as session:
        assert session.scalar(select(AccountToken)) is None
        assert session.scalars(select(User)).one().role == Role.REVIEWER  # unchanged


def test_the_allowed_senders_decide_who_may_register(services: Services) -> None:
    with services.db.session() as session:
        set_unknown_senders(session, UnknownSenders.HOLD, "admin@clinic.example")
        add_rule(session, "clinic.example", "", "admin@clinic.example")
    with pytest.raises(RegistrationRefused, match="Ask your administrator for an invitation"):
        register(services, "mallory@elsewhere.example")
    register(services, "dana@clinic.example")
    assert [m["To"] for m in outbox_messages(services)] == ["dana@clinic.example"]
    with pytest.raises(RegistrationRefused, match="not an email address"):
        register(services, "not-an-address")


def test_links_per_address_and_requests_per_client_are_limited(services: Services) -> None:
    for _ in range(LINKS_PER_ADDRESS_PER_DAY):
        register(services, "dana@clinic.example")
    with pytest.raises(RegistrationRefused, match="use the latest"):
        register(services, "dana@clinic.example")
    for n in range(10 - LINKS_PER_ADDRESS_PER_DAY):
        register(services, f"person{n}@clinic.example")
    with pytest.raises(RegistrationRefused, match="Too many registrations"):
        register(services, "one-more@clinic.example")
    register(services, "one-more@clinic.example", client="198.51.100.7")  # another network


def test_an_admins_invitation_opens_a_member_account_for_anyone(services: Services) -> None:
    with services.db.session() as session:
        set_unknown_senders(session, UnknownSenders.HOLD, "admin@clinic.example")
        queued = invite(services, session, "pat@elsewhere.example", "admin@clinic.example")
    assert queued.outbound_id is not None
    services.dispatch("send_reply", queued.outbound_id)
    (mail,) = outbox_messages(services)
    assert mail["Subject"] == "CaseConsultant: You are invited"
    user = open_account(services, token_in_mail(services, "pat@elsewhere.example"))
    assert user.role == Role.MEMBER
    with services.db.session() as session, pytest.raises(RegistrationRefused, match="already"):
        invite(services, session, "pat@elsewhere.example", "admin@clinic.example")
    with services.db.read_session() as session:
        kinds = {e.kind for e in session.scalars(select(AuthEvent))}
    assert {AuthEventKind.INVITED, AuthEventKind.INVITATION_ACCEPTED} <= kinds


def test_two_links_for_one_address_open_one_account(services: Services) -> None:
    register(services, "dana@clinic.example")
    first = token_in_mail(services, "dana@clinic.example")
    register(services, "dana@clinic.example")
    second = token_in_mail(services, "dana@clinic.example")
    assert first != second
    open_account(services, second)
    with pytest.raises(LinkInvalid, match="already has an account"):
        open_account(services, first)


def test_whether_an_address_has_an_account_changes_no_answer_and_no_limit(
    services: Services,
) -> None:
    create_user(services.db, "boss@elsewhere.example", PASSWORD, Role.REVIEWER)
    for address in ("boss@elsewhere.example", "nobody@elsewhere.example"):
        for _ in range(LINKS_PER_ADDRESS_PER_DAY):
            register(services, address)
        with pytest.raises(RegistrationRefused, match="use the latest"):
            register(services, address)
    with services.db.session() as session:
        set_unknown_senders(session, UnknownSenders.HOLD, "admin@clinic.example")
    for address in ("boss@elsewhere.example", "nobody@elsewhere.example"):
        with pytest.raises(RegistrationRefused, match="Ask your administrator"):
            register(services, address, client="198.51.100.9")


def test_a_sent_account_mail_keeps_no_copy_of_its_link(services: Services) -> None:
    register(services, "dana@clinic.example")
    token = token_in_mail(services, "dana@clinic.example")  # the mail as delivered
    with services.db.read_session() as session:
        row = session.scalars(select(OutboundMessage)).one()
        assert row.state == "sent" and row.raw == b""
        assert token not in row.body_text and "one-use link" in row.body_text
