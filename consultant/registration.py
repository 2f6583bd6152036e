"""Member accounts from a link sent by email: self-registration and an admin's invitation.

Both work the same way: a one-use link goes to the address (through the
outbox, like every mail), and whoever opens it chooses the password there.
The password is never chosen before the address is proven, so nobody can
register someone else's address with a password they know and wait for the
owner to confirm it. Who may register is what the admins allow senders to
do (``cases.senders``): when new questions from unknown addresses are
accepted, anyone may; otherwise only listed addresses and domains. An admin
may invite anyone.

The answer to a registration never says whether the address has an account:
the mail says it (to the address's owner only).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consultant import auth_log
from consultant.auth_log import AuthEventKind
from consultant.cases.events import record_outbound
from consultant.cases.senders import may_register
from consultant.mail.addresses import clean_address
from consultant.mail.compose import Outgoing, compose
from consultant.mail.threads import make_message_id
from consultant.models import (
    AccountToken,
    AuthEvent,
    OutboundKind,
    OutboundMessage,
    Role,
    User,
    utcnow,
)
from consultant.services import Services
from consultant.users import UserError, check_new_password, hash_password, normalise_email

LINKS_PER_ADDRESS_PER_DAY = 3
REQUESTS_PER_CLIENT_PER_HOUR = 10


class Purpose(StrEnum):
    CONFIRM = "confirm"  # a member registered themselves
    INVITE = "invite"  # an admin invited them


class RegistrationRefused(UserError):
    """Raised when an address may not register, or too many links were asked for."""


class LinkInvalid(UserError):
    """Raised when a link is unknown, used, or expired; the message says which to the user."""


@dataclass(frozen=True)
class Queued:
    """The outbox row to dispatch after the commit (None when nothing was sent)."""

    outbound_id: int | None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_for(services: Services, token: str) -> str:
    return f"{services.settings.public_url.rstrip('/')}/welcome/{token}"


def request_registration(
    services: Services, session: Session, email: str, client: str | None
) -> Queued:
    """A registration asked for ``email``: a link to it, or a note that it has an account.

    Refused (with the reason) for an address the admins do not admit, or past
    the limits on links per address and requests per client.
    """
    address = clean_address(normalise_email(email))
    if address is None:
        raise RegistrationRefused(f"{email[:80]!r} is not an email address")
    if not may_register(session, services.settings, address):
        raise RegistrationRefused(
            "Registration is open to the practices this service answers; this address is not "
            "one of them. Ask your administrator for an invitation."
        )
    _check_limits(session, address, client)
    auth_log.record(session, AuthEventKind.REGISTERED, email=address, address=client)
    existing = session.scalar(select(User).where(User.email == address))
    if existing is not None:
        text = (
            f"Someone (perhaps you) asked to register {address} at "
            f"{services.settings.display_name}. This address already has an account: sign in "
            f"at {services.settings.public_url.rstrip('/')}/login (an administrator can reset "
            "the password). If it was not you, you can ignore this message."
        )
        return Queued(_queue(services, session, address, "Your account", text))
    token = _new_token(services, session, Purpose.CONFIRM, address, created_by=address)
    text = (
        f"To finish registering {address} at {services.settings.display_name}, open this link "
        f"and choose a password:\n\n{link_for(services, token)}\n\nThe link works once, for "
        f"{services.settings.account_link_hours:g} hours. If you did not ask to register, "
        "ignore this message: no account is made without it."
    )
    return Queued(_queue(services, session, address, "Confirm your registration", text))


def invite(services: Services, session: Session, email: str, actor: str) -> Queued:
    """An admin invites ``email`` as a member: a link to it (refused if it has an account)."""
    address = clean_address(normalise_email(email))
    if address is None:
        raise RegistrationRefused(f"{email[:80]!r} is not an email address")
    if session.scalar(select(User.id).where(User.email == address)) is not None:
        raise RegistrationRefused(f"{address} already has an account")
    token = _new_token(services, session, Purpose.INVITE, address, created_by=actor)
    auth_log.record(session, AuthEventKind.INVITED, email=address, by=actor)
    text = (
        f"You are invited to {services.settings.display_name}, where you can ask coding "
        f"questions and get answers, search codes and follow your cases. Open this link and "
        f"choose a password:\n\n{link_for(services, token)}\n\nThe link works once, for "
        f"{services.settings.account_link_hours:g} hours."
    )
    return Queued(_queue(services, session, address, "You are invited", text))


def pending_link(session: Session, token: str, lock: bool = False) -> AccountToken:
    """The unused, unexpired link ``token`` names (locked for using it when ``lock``);
    ``LinkInvalid`` says what is wrong."""
    query = select(AccountToken).where(AccountToken.token_hash == _hash(token))
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise LinkInvalid("This link is not known. Copy the whole link from the message.")
    if row.used_at is not None:
        raise LinkInvalid("This link was used already. Sign in with the password you chose.")
    if row.expires_at <= utcnow():
        raise LinkInvalid("This link has expired. Register again for a new one.")
    return row


def accept(session: Session, token: str, password: str, client: str | None) -> User:
    """Open the member account the link is for, with ``password``; the link is used up."""
    row = pending_link(session, token, lock=True)  # a second use waits, then finds it used
    check_new_password(password)
    taken = LinkInvalid(f"{row.email} already has an account. Sign in instead.")
    if session.scalar(select(User.id).where(User.email == row.email)) is not None:
        raise taken
    user = User(email=row.email, password_hash=hash_password(password), role=Role.MEMBER)
    try:
        with session.begin_nested():  # another link for the address, opened at the same time
            session.add(user)
            session.flush()
    except IntegrityError:
        raise taken from None
    row.used_at, row.user_id = utcnow(), user.id
    kind = (
        AuthEventKind.CONFIRMED
        if row.purpose == Purpose.CONFIRM
        else AuthEventKind.INVITATION_ACCEPTED
    )
    auth_log.record(session, kind, email=row.email, user_id=user.id, address=client)
    return user


def _check_limits(session: Session, address: str, client: str | None) -> None:
    """Refuse past the limits. Registrations are counted per address whatever came of them
    (a link, or a note that the address has an account), so the refusal tells nothing."""
    since = utcnow() - timedelta(days=1)
    asked = session.scalar(
        select(func.count())
        .select_from(AuthEvent)
        .where(
            AuthEvent.kind == AuthEventKind.REGISTERED,
            AuthEvent.email == address,
            AuthEvent.at >= since,
        )
    )
    if asked >= LINKS_PER_ADDRESS_PER_DAY:
        raise RegistrationRefused(
            "Several links were sent to this address today; use the latest, or try tomorrow."
        )
    if client is None:
        return
    recent = session.scalar(
        select(func.count())
        .select_from(AuthEvent)
        .where(
            AuthEvent.kind == AuthEventKind.REGISTERED,
            AuthEvent.address == client,
            AuthEvent.at >= utcnow() - timedelta(hours=1),
        )
    )
    if recent >= REQUESTS_PER_CLIENT_PER_HOUR:
        raise RegistrationRefused("Too many registrations from this network; try in an hour.")


def _new_token(
    services: Services, session: Session, purpose: Purpose, email: str, created_by: str
) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        AccountToken(
            purpose=purpose,
            email=email,
            token_hash=_hash(token),
            created_by=created_by,
            expires_at=utcnow() + timedelta(hours=services.settings.account_link_hours),
        )
    )
    return token


def _queue(services: Services, session: Session, to: str, subject: str, text: str) -> int:
    """An account mail as an outbox row of its own (no case), bytes fixed before sending."""
    settings = services.settings
    message_id = make_message_id(settings.message_id_domain)
    subject = f"{settings.display_name}: {subject}"
    raw = compose(
        Outgoing(
            sender_name=settings.display_name,
            sender_address=settings.consult_address,
            recipients=(to,),
            subject=subject,
            message_id=message_id,
            date=utcnow(),
            text=text,
            auto_reply=True,
        )
    )
    raw = services.sign(raw)
    row = OutboundMessage(
        kind=OutboundKind.ACCOUNT,
        message_id=message_id,
        sender=settings.consult_address,
        recipients=[to],
        subject=subject,
        body_text=text,
        raw=raw,
    )
    session.add(row)
    session.flush()
    record_outbound(session, row, "account_queued", outbound_id=row.id, subject=subject)
    return row.id
