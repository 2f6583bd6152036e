"""Who may open a case by email, and what happens to mail from anyone else.

The allowed senders are addresses (``dana@clinic.example``) and domains
(``clinic.example``, matched exactly, not its subdomains): those an admin
keeps in table ``sender_rule`` together with CONSULTANT_ALLOWED_SENDERS from
the environment. The same merged list says whose Reply-To we honour.

What happens to a new question from anyone else is the admin setting
``unknown_senders``:

- ``accept``: it is a question like any other (the default; mail was always
  answered before the setting existed);
- ``hold``: it is kept on a case of its own in ``ignored`` with the reason
  ``unknown sender``, unanswered, where an expert can still read it as a
  question;
- ``notice``: held the same way, and the sender is told once a day at most
  that their address is not registered.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config import Settings
from consultant.batch_memo import memo
from consultant.cases.app_settings import UNKNOWN_SENDERS, read_setting, write_setting
from consultant.codes.coverage import Jurisdiction
from consultant.codes.states import state_code
from consultant.mail.addresses import clean_address, domain_of
from consultant.models import (
    Case,
    CaseStatus,
    OutboundKind,
    OutboundMessage,
    SenderRule,
    User,
    utcnow,
)

log = logging.getLogger(__name__)

UNKNOWN_SENDER_REASON = "unknown sender"
# A sender who writes again and again is told once a day, not once a message.
NOTICE_INTERVAL = timedelta(hours=24)
MAX_NOTE = 500


class UnknownSenders(StrEnum):
    """What happens to a new question from a sender who is not allowed."""

    ACCEPT = "accept"
    HOLD = "hold"
    NOTICE = "notice"


POLICY_LABELS = {
    UnknownSenders.ACCEPT: "Accept: answer them like everyone else",
    UnknownSenders.HOLD: "Hold for review: keep them unanswered in the ignored list",
    UnknownSenders.NOTICE: "Hold and tell the sender their address is not registered",
}


class SenderRuleError(ValueError):
    """Raised when a sender rule cannot be added; the message says why."""


def unknown_senders(session: Session) -> UnknownSenders:
    """The policy an admin chose; ``accept`` when none was chosen (or the value is unknown)."""
    value = memo(UNKNOWN_SENDERS, lambda: read_setting(session, UNKNOWN_SENDERS))
    try:
        return UnknownSenders(value)
    except ValueError:
        return UnknownSenders.ACCEPT


def set_unknown_senders(session: Session, policy: UnknownSenders, actor: str) -> None:
    write_setting(session, UNKNOWN_SENDERS, str(policy), actor)
    log.info("unknown senders: %s (set by %s)", policy, actor)


def normalise_pattern(pattern: str) -> str:
    """An address or a domain as stored and compared: lower case, no leading ``@``.

    Raises SenderRuleError for anything that is neither.
    """
    value = pattern.strip().lower().removeprefix("@")
    if "@" in value:
        address = clean_address(value)
        if address is None:
            raise SenderRuleError(f"{pattern.strip()!r} is not a valid email address")
        return address
    domain = clean_address(f"postmaster@{value}")
    if not value or domain is None:
        raise SenderRuleError(
            f"{pattern.strip()!r} is neither an email address nor a domain like clinic.example"
        )
    return domain_of(domain)


def list_rules(session: Session) -> list[SenderRule]:
    return list(session.scalars(select(SenderRule).order_by(SenderRule.pattern)))


def add_rule(session: Session, pattern: str, note: str, actor: str) -> SenderRule:
    """Allow an address or a domain; refuses a malformed or duplicate one."""
    value = normalise_pattern(pattern)
    rule = SenderRule(pattern=value, note=note.strip()[:MAX_NOTE], added_by=actor)
    try:
        with session.begin_nested():
            session.add(rule)
    except IntegrityError:
        raise SenderRuleError(f"{value} is already allowed") from None
    log.info("sender rule %s added by %s", value, actor)
    return rule


def remove_rule(session: Session, rule_id: int, actor: str) -> str | None:
    """Remove a rule; the pattern it allowed, or None when there was no such rule."""
    rule = session.get(SenderRule, rule_id)
    if rule is None:
        return None
    session.execute(delete(SenderRule).where(SenderRule.id == rule_id))
    log.info("sender rule %s removed by %s", rule.pattern, actor)
    return rule.pattern


def set_where(
    session: Session,
    rule_id: int,
    state: str,
    part_b_mac: str,
    dme_mac: str,
    actor: str,
) -> SenderRule | None:
    """Say where a sender's patients are seen (empty fields clear it); None if no such rule.

    Raises SenderRuleError for a state that is none, or a MAC that is not a contractor
    number.
    """
    code = state_code(state) if state.strip() else None
    if state.strip() and code is None:
        raise SenderRuleError(f"{state.strip()!r} is not a US state or territory")
    macs = [m.strip() for m in (part_b_mac, dme_mac)]
    for mac in macs:
        if mac and not (mac.isdigit() and len(mac) == 5):
            raise SenderRuleError(f"{mac!r} is not a MAC contractor number (five digits)")
    rule = session.get(SenderRule, rule_id)
    if rule is None:
        return None
    rule.state, rule.part_b_mac, rule.dme_mac = code, macs[0] or None, macs[1] or None
    log.info("sender rule %s: state %s, MACs %s set by %s", rule.pattern, code, macs, actor)
    return rule


def jurisdiction_of(session: Session, address: str | None) -> Jurisdiction | None:
    """Where ``address``'s patients are seen, from its own rule, else its domain's."""
    cleaned = clean_address(address)
    if cleaned is None:
        return None
    places = memo("sender jurisdictions", lambda: _jurisdictions(session))
    return places.get(cleaned) or places.get(domain_of(cleaned))


def _jurisdictions(session: Session) -> dict[str, Jurisdiction]:
    """Every rule that says where its senders' patients are seen, by pattern."""
    rules = session.scalars(
        select(SenderRule).where(
            or_(
                SenderRule.state.is_not(None),
                SenderRule.part_b_mac.is_not(None),
                SenderRule.dme_mac.is_not(None),
            )
        )
    )
    return {
        rule.pattern: Jurisdiction(
            state=rule.state,
            macs=tuple(m for m in (rule.part_b_mac, rule.dme_mac) if m),
            source="requester",
        )
        for rule in rules
        if rule.state or rule.part_b_mac or rule.dme_mac
    }


def allowed_patterns(session: Session, settings: Settings) -> frozenset[str]:
    """The admins' rules and CONSULTANT_ALLOWED_SENDERS, as one set of addresses and domains."""
    rules = memo("sender rules", lambda: list(session.scalars(select(SenderRule.pattern))))
    return settings.allowed_sender_list | {pattern.lower() for pattern in rules}


def is_allowed(address: str | None, patterns: Collection[str]) -> bool:
    """True when ``address`` is listed, or its domain is."""
    cleaned = clean_address(address)
    return cleaned is not None and (cleaned in patterns or domain_of(cleaned) in patterns)


def policy_for_sender(
    session: Session, settings: Settings, address: str | None
) -> UnknownSenders | None:
    """How to treat a new question from ``address``: None to accept it, else hold or notice.

    The rules are read only when the policy is not ``accept``.
    """
    policy = unknown_senders(session)
    if policy is UnknownSenders.ACCEPT or is_allowed(address, allowed_patterns(session, settings)):
        return None
    if _is_member(session, address):  # invited or registered: their mail is welcome
        return None
    return policy


def may_register(session: Session, settings: Settings, address: str) -> bool:
    """Whether ``address`` may register as a member: while unknown senders are accepted,
    anyone; otherwise listed addresses and domains only. (Accounts do not count: the answer
    must not tell who has one.)"""
    policy = unknown_senders(session)
    return policy is UnknownSenders.ACCEPT or is_allowed(
        address, allowed_patterns(session, settings)
    )


def _is_member(session: Session, address: str | None) -> bool:
    cleaned = clean_address(address)
    if cleaned is None:
        return False
    found = select(User.id).where(User.email == cleaned, User.active.is_(True))
    return session.scalar(found) is not None


def notified_recently(session: Session, address: str) -> bool:
    """True when this address was sent a not-registered notice within ``NOTICE_INTERVAL``."""
    since = utcnow() - NOTICE_INTERVAL
    found = session.scalar(
        select(OutboundMessage.id)
        .join(Case, Case.id == OutboundMessage.case_id)
        .where(
            Case.requester_address == address,
            Case.status == CaseStatus.IGNORED,
            OutboundMessage.kind == OutboundKind.ACK,
            OutboundMessage.created_at >= since,
        )
        .limit(1)
    )
    return found is not None
