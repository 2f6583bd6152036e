"""SQLAlchemy 2.0 models: the messages, cases, drafts, outbox and audit trail.

Uniqueness lives in the database, not in the code that checks first: an
inbound message is unique per mailbox by Message-ID (or, without one, by the
sha256 of its bytes), a case by its public reference, a draft by its version,
an outbound message by the Message-ID we fixed before sending it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from consultant.roles import Role


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def storable(value: str) -> str:
    """``value`` without what no database column can hold: NUL, and lone surrogates.

    PostgreSQL refuses NUL in text and both drivers refuse unpaired surrogates;
    mail carries both. Dropping them here, at the one place every string is
    written, keeps a single hostile byte from failing a whole message.
    """
    if "\x00" in value:
        value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


class CleanText(TypeDecorator[str]):
    """Text stored as given, minus the characters no database accepts (see ``storable``)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return storable(value) if isinstance(value, str) else value


class CleanString(CleanText):
    """A bounded string column: cleaned as ``CleanText`` and cut to its length.

    PostgreSQL refuses a value longer than the column (SQLite does not check),
    and a header can be as long as the sender likes; cutting a display name
    or a reason is better than failing the message that carried it.
    """

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        value = super().process_bind_param(value, dialect)
        length = self.impl_instance.length
        return value[:length] if isinstance(value, str) and length else value


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


class CaseStatus(StrEnum):
    """Where a case stands; ``consultant.cases.lifecycle`` says which moves are allowed."""

    RECEIVED = "received"
    ANALYZING = "analyzing"
    AWAITING_REVIEW = "awaiting_review"
    APPROVED = "approved"
    SENDING = "sending"
    SENT = "sent"
    REJECTED = "rejected"
    IGNORED = "ignored"
    FAILED = "failed"


class Route(StrEnum):
    """What processing decided for an inbound message."""

    NEW_CASE = "new_case"
    FOLLOW_UP = "follow_up"
    # Arrived (or was processed) after a reply to it had opened the case; joined it.
    EARLIER = "earlier_message"
    IGNORED = "ignored"
    FAILED = "failed"


class OutboundState(StrEnum):
    """Outbox row states: queued → sending → sent, or failed with the server's text.

    ``bounced``: sent, then a delivery status notification naming its
    Message-ID came back.
    """

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    BOUNCED = "bounced"


class OutboundKind(StrEnum):
    ACK = "ack"
    REPLY = "reply"
    INSTANT = "instant"  # the automatic answer, sent at once when it is sure of itself
    ACCOUNT = "account"  # registration and invitation mail: no case


class User(Base):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(CleanString(320), unique=True)
    password_hash: Mapped[str] = mapped_column(CleanString(255))
    role: Mapped[str] = mapped_column(CleanString(20), default=Role.REVIEWER)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]


class Case(Base):
    __tablename__ = "case"
    __table_args__ = (
        Index("ix_case_status_updated", "status", "updated_at"),
        Index("ix_case_requester", "requester_address"),
        Index("ix_case_status_waiting", "status", "waiting_since"),
        Index("ix_case_claimed_by", "claimed_by"),
        Index("ix_case_status_assignee", "status", "assignee_id"),
        # The queue's order across statuses ("all"), the id breaking ties.
        Index("ix_case_waiting", "waiting_since", "id"),
        Index("ix_case_assignee", "assignee_id"),
        Index("ix_case_desk_status", "desk", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str | None] = mapped_column(CleanString(32), unique=True)
    requester_address: Mapped[str | None] = mapped_column(CleanString(320))
    requester_name: Mapped[str | None] = mapped_column(CleanString(255))
    subject: Mapped[str] = mapped_column(CleanText, default="")
    status: Mapped[str] = mapped_column(CleanString(20), default=CaseStatus.RECEIVED)
    phi_flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(CleanText)
    # The consult desk it came to (config.desks): whose address answers, whose team sees it.
    desk: Mapped[str] = mapped_column(CleanString(40), default="main", server_default="main")
    thread_message_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # When the case last started waiting for an expert (made, or back in review after a
    # follow-up): the queue's "oldest waiting first" and the SLA count from here.
    waiting_since: Mapped[datetime | None] = mapped_column(default=utcnow)
    # A claim: the case is this reviewer's until ``claim_expires_at``; others must take
    # it over explicitly (recorded on the timeline).
    claimed_by: Mapped[str | None] = mapped_column(CleanString(320))
    claimed_at: Mapped[datetime | None]
    claim_expires_at: Mapped[datetime | None]
    # What the queue filters on without opening the drafts: the codes, modifiers and
    # topics the analysis found (space-separated), and how many attachments came.
    codes: Mapped[str] = mapped_column(CleanText, default="")
    modifiers: Mapped[str] = mapped_column(CleanText, default="")
    topics: Mapped[str] = mapped_column(CleanText, default="")
    attachment_count: Mapped[int] = mapped_column(Integer, default=0)

    assignee: Mapped[User | None] = relationship()
    notes: Mapped[list[CaseNote]] = relationship(back_populates="case", order_by="CaseNote.id")
    messages: Mapped[list[InboundMessage]] = relationship(
        back_populates="case", order_by="InboundMessage.id"
    )
    drafts: Mapped[list[Draft]] = relationship(back_populates="case", order_by="Draft.version")
    events: Mapped[list[CaseEvent]] = relationship(back_populates="case", order_by="CaseEvent.id")
    outbound: Mapped[list[OutboundMessage]] = relationship(
        back_populates="case", order_by="OutboundMessage.id"
    )


class InboundMessage(Base):
    __tablename__ = "inbound_message"
    __table_args__ = (
        UniqueConstraint("mailbox", "dedup_key", name="uq_inbound_mailbox_dedup"),
        Index("ix_inbound_message_id", "message_id"),
        Index("ix_inbound_unprocessed", "processed_at", "received_at"),
        Index("ix_inbound_case", "case_id"),
        # How many messages a sender sent in the past hour: asked for every message.
        Index("ix_inbound_sender_received", "from_address", "received_at"),
        # The queue's "ignored" view: ignored mail, newest first.
        Index("ix_inbound_route_received", "route", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str] = mapped_column(CleanString(255))
    desk: Mapped[str | None] = mapped_column(CleanString(40))  # taken in from a desk's own folder
    dedup_key: Mapped[str] = mapped_column(CleanString(300))
    message_id: Mapped[str | None] = mapped_column(CleanString(998))
    sha256: Mapped[str] = mapped_column(CleanString(64))
    # Deferred: loading a case's messages must not load megabytes of mail.
    raw: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    size: Mapped[int] = mapped_column(Integer)
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    uid: Mapped[int | None] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
    route: Mapped[str | None] = mapped_column(CleanString(20))
    route_reason: Mapped[str | None] = mapped_column(CleanString(64))
    error: Mapped[str | None] = mapped_column(CleanText)
    from_address: Mapped[str | None] = mapped_column(CleanString(320))
    subject: Mapped[str | None] = mapped_column(CleanText)
    # The readable text as parsed once, so pages never parse the raw bytes again.
    text: Mapped[str | None] = mapped_column(CleanText)
    # The attachments as listed once: [{"index", "filename", "content_type", "size"}].
    attachments: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=list)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    # Processing claims: which run holds the message and since when; how many runs
    # took it and never finished (killed, or stopped at the hard time limit); how
    # often the sweep had to start it again because its task was lost.
    claim_token: Mapped[str | None] = mapped_column(CleanString(64))
    claimed_by: Mapped[str | None] = mapped_column(CleanString(255))  # host:pid of the run
    claimed_at: Mapped[datetime | None]
    unfinished_runs: Mapped[int] = mapped_column(Integer, default=0)
    restarts: Mapped[int] = mapped_column(Integer, default=0)
    restarted_at: Mapped[datetime | None]

    case: Mapped[Case | None] = relationship(back_populates="messages")


class Draft(Base):
    __tablename__ = "draft"
    __table_args__ = (UniqueConstraint("case_id", "version", name="uq_draft_case_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    version: Mapped[int] = mapped_column(Integer)
    body_text: Mapped[str] = mapped_column(CleanText)
    body_html: Mapped[str] = mapped_column(CleanText)
    template: Mapped[str | None] = mapped_column(CleanString(255))
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    author: Mapped[str] = mapped_column(CleanString(320))
    inbound_message_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_message.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The version the author edited to make this one (None: made by the system).
    base_version: Mapped[int | None] = mapped_column(Integer)

    case: Mapped[Case] = relationship(back_populates="drafts")


class OutboundMessage(Base):
    __tablename__ = "outbound_message"
    __table_args__ = (
        Index("ix_outbound_state_due", "state", "next_attempt_at"),
        Index("ix_outbound_case", "case_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # None for account mail (registration, invitation), which belongs to no case.
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("draft.id"))
    kind: Mapped[str] = mapped_column(CleanString(10))
    message_id: Mapped[str] = mapped_column(CleanString(255), unique=True)
    sender: Mapped[str] = mapped_column(CleanString(320))
    recipients: Mapped[list[str]] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(CleanText)
    in_reply_to: Mapped[str | None] = mapped_column(CleanString(998))
    references: Mapped[str | None] = mapped_column(CleanText)
    body_text: Mapped[str] = mapped_column(CleanText)
    body_html: Mapped[str | None] = mapped_column(CleanText)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(CleanString(10), default=OutboundState.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(CleanText)
    smtp_reply: Mapped[str | None] = mapped_column(CleanText)
    next_attempt_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    claim_token: Mapped[str | None] = mapped_column(CleanString(64))
    claimed_by: Mapped[str | None] = mapped_column(CleanString(255))  # host:pid of the run
    # An attempt ended without knowing whether the server accepted the message: the
    # next one sends it again with the same Message-ID and is recorded as a re-send.
    outcome_unknown: Mapped[bool] = mapped_column(Boolean, default=False)
    bounced_at: Mapped[datetime | None]
    bounce_status: Mapped[str | None] = mapped_column(CleanString(32))
    bounce_text: Mapped[str | None] = mapped_column(CleanText)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(CleanString(320), default="system")

    case: Mapped[Case | None] = relationship(back_populates="outbound")


class CaseEvent(Base):
    __tablename__ = "case_event"
    __table_args__ = (Index("ix_case_event_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(CleanString(320))
    kind: Mapped[str] = mapped_column(CleanString(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    case: Mapped[Case] = relationship(back_populates="events")


class ThreadRef(Base):
    """A Message-ID that belongs to a case's thread: its messages, ours, and what they cite.

    The index that keeps threads whole in any order: a reply finds its case by
    the ids it cites, and a message that arrives after its reply finds the case
    that cites it.
    """

    __tablename__ = "thread_ref"
    __table_args__ = (
        UniqueConstraint("case_id", "message_id", name="uq_thread_ref_case_message"),
        Index("ix_thread_ref_message_id", "message_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    message_id: Mapped[str] = mapped_column(CleanString(998))
    # False: a message of the case (theirs or ours); True: an id one of them cites.
    cited: Mapped[bool] = mapped_column(Boolean, default=False)


class MailboxCursor(Base):
    """How far the poller has read a mailbox: new mail is everything above ``last_uid``."""

    __tablename__ = "mailbox_cursor"

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str] = mapped_column(CleanString(255), unique=True)
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CaseNote(Base):
    """An internal note on a case, for the experts: never part of a reply."""

    __tablename__ = "case_note"
    __table_args__ = (Index("ix_case_note_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    author: Mapped[str] = mapped_column(CleanString(320))
    body: Mapped[str] = mapped_column(CleanText)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="notes")


class CasePresence(Base):
    """Who has a case page open: each open page reports in every few seconds."""

    __tablename__ = "case_presence"
    __table_args__ = (UniqueConstraint("case_id", "viewer", name="uq_case_presence_viewer"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    viewer: Mapped[str] = mapped_column(CleanString(320))
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    editing: Mapped[bool] = mapped_column(Boolean, default=False)


SEARCH_FTS_TABLE = "case_search_fts"
SEARCH_INDEX = "ix_case_search_document"
# PostgreSQL only: a GIN index on string_to_array(case.codes, ' '), for similar cases.
CASE_CODES_INDEX = "ix_case_codes"
UNMODELLED_INDEXES = (SEARCH_INDEX, CASE_CODES_INDEX)


class CaseSearch(Base):
    """The text a case is found by (subject, requester, message text, codes).

    Kept apart from ``case`` so the queue never loads it. Both databases
    search it through ``case_search_fts``, kept in step by triggers: on SQLite
    an FTS5 table (migration 0004), on PostgreSQL a table of stored English
    tsvectors with a GIN index (migration 0005; ranking needs the stored
    vector). No model describes them; ``consultant.cases.search`` reads them.
    """

    __tablename__ = "case_search"

    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), primary_key=True)
    document: Mapped[str] = mapped_column(CleanText, default="")


class UserSession(Base):
    """A signed-in browser: the cookie carries only a random token whose hash is kept here,
    so signing out (or an admin disabling the user) ends it for every copy of the cookie."""

    __tablename__ = "user_session"
    __table_args__ = (Index("ix_user_session_user", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(CleanString(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    address: Mapped[str | None] = mapped_column(CleanString(64))
    user_agent: Mapped[str | None] = mapped_column(CleanString(255))

    user: Mapped[User] = relationship()


class LoginThrottle(Base):
    """Failed sign-ins counted per account and per address (key ``account:...``/``address:...``)."""

    __tablename__ = "login_throttle"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(CleanString(400), unique=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]


class AuthEvent(Base):
    """The audit log of accounts: sign-ins, failures, lockouts, sign-outs, password changes."""

    __tablename__ = "auth_event"
    __table_args__ = (Index("ix_auth_event_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(CleanString(32))
    email: Mapped[str | None] = mapped_column(CleanString(320))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    address: Mapped[str | None] = mapped_column(CleanString(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ApiToken(Base):
    """A personal API token: shown once, kept as its SHA-256, revocable."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    name: Mapped[str] = mapped_column(CleanString(100), default="")
    token_hash: Mapped[str] = mapped_column(CleanString(64), unique=True)
    prefix: Mapped[str] = mapped_column(CleanString(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class AccountToken(Base):
    """A one-use link sent by email: confirm a registration, or accept an invitation.

    Only the token's SHA-256 is kept; the link in the mail is the one copy.
    """

    __tablename__ = "account_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(CleanString(20))  # confirm | invite
    email: Mapped[str] = mapped_column(CleanString(320), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    token_hash: Mapped[str] = mapped_column(CleanString(64), unique=True)
    created_by: Mapped[str] = mapped_column(CleanString(320))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class AskConversation(Base):
    """A member's questions on the web, one after another: what a follow-up keeps (codes,
    date of service, payer, state), and the message it became when sent to an expert."""

    __tablename__ = "ask_conversation"
    __table_args__ = (Index("ix_ask_conversation_user", "user_id", "updated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    inbound_message_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_message.id"))
    escalated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    turns: Mapped[list[AskTurn]] = relationship(order_by="AskTurn.id")
    inbound: Mapped[InboundMessage | None] = relationship()


class AskTurn(Base):
    """One question and the automatic answer it got at once (the member's history)."""

    __tablename__ = "ask_turn"
    __table_args__ = (
        Index("ix_ask_turn_user_asked", "user_id", "asked_at"),
        Index("ix_ask_turn_conversation", "conversation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("ask_conversation.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    question: Mapped[str] = mapped_column(CleanText)
    answer: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    elapsed_ms: Mapped[float] = mapped_column(Float)
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)


class Snippet(Base):
    """A reusable reply passage with placeholders, inserted from the editor by name."""

    __tablename__ = "snippet"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(CleanString(100), unique=True)
    body: Mapped[str] = mapped_column(CleanText)
    updated_by: Mapped[str] = mapped_column(CleanString(320), default="system")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class GuidanceNote(Base):
    """An expert's note on a code, a code pair, a modifier or a topic, that drafts use like a
    shipped rule. Edits carry the version they were made on; a stale one is refused."""

    __tablename__ = "guidance_note"
    __table_args__ = (Index("ix_guidance_note_target", "target_kind", "target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    target_kind: Mapped[str] = mapped_column(CleanString(20))  # code, pair, modifier, topic
    target: Mapped[str] = mapped_column(CleanString(40))  # 20956, 20902+20956, 59, ncci
    text: Mapped[str] = mapped_column(CleanText)
    citation: Mapped[str] = mapped_column(CleanString(500), default="")
    author: Mapped[str] = mapped_column(CleanString(320))
    updated_by: Mapped[str] = mapped_column(CleanString(320))
    version: Mapped[int] = mapped_column(default=1)
    enabled: Mapped[bool] = mapped_column(default=True)
    from_case: Mapped[str | None] = mapped_column(CleanString(20), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SenderRule(Base):
    """An allowed sender address or domain, kept by admins (beside CONSULTANT_ALLOWED_SENDERS)."""

    __tablename__ = "sender_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    pattern: Mapped[str] = mapped_column(CleanString(320), unique=True)
    note: Mapped[str] = mapped_column(CleanText, default="")
    added_by: Mapped[str] = mapped_column(CleanString(320))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Where this sender's patients are seen, for Medicare coverage and payment when a
    # question does not say: a state, and the Part B and DME MACs by contractor number.
    state: Mapped[str | None] = mapped_column(CleanString(2), default=None)
    part_b_mac: Mapped[str | None] = mapped_column(CleanString(16), default=None)
    dme_mac: Mapped[str | None] = mapped_column(CleanString(16), default=None)


class AppSetting(Base):
    """A setting admins change on the web (SLA hours, unknown-sender policy), over its default."""

    __tablename__ = "app_setting"

    key: Mapped[str] = mapped_column(CleanString(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    updated_by: Mapped[str] = mapped_column(CleanString(320))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PlainDescription(Base):
    """One version of the practice's plain-language description of a code, by an expert.

    Each save adds a version; the highest is the one shown and drafted with, and
    an empty text withdraws the description while keeping its history. The unique
    version per code is what refuses the second of two saves made on the same one.
    """

    __tablename__ = "plain_description"
    __table_args__ = (
        UniqueConstraint("system", "code", "version", name="uq_plain_description_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    system: Mapped[str] = mapped_column(CleanString(16))  # ICD-10-CM, HCPCS, CPT, ICD-10-PCS
    code: Mapped[str] = mapped_column(CleanString(16))  # as the code page names it: E11.9
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(CleanText)
    author: Mapped[str] = mapped_column(CleanString(320))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UserCode(Base):
    """A code one user starred or wrote a personal note on: seen by that user alone."""

    __tablename__ = "user_code"
    __table_args__ = (UniqueConstraint("user_id", "system", "code", name="uq_user_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    system: Mapped[str] = mapped_column(CleanString(16))
    code: Mapped[str] = mapped_column(CleanString(16))
    favourite: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(CleanText, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RecentSearch(Base):
    """A search a user submitted on the code search page, for their list of recent ones."""

    __tablename__ = "recent_search"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_recent_search_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    query: Mapped[str] = mapped_column(CleanString(200))
    key: Mapped[str] = mapped_column(CleanString(200))  # the query folded: one row per search
    sets: Mapped[str] = mapped_column(CleanString(100), default="")  # code sets, comma-separated
    billable: Mapped[bool] = mapped_column(Boolean, default=False)
    searched_at: Mapped[datetime] = mapped_column(default=utcnow)
