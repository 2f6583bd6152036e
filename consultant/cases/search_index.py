"""What the queue filters and searches on, written when a message is processed.

Each question message adds to its case: the codes, modifiers and topics its
analysis found (``case.codes``/``modifiers``/``topics``, space-separated, for the queue's
filters without opening the drafts), its attachments (``attachment_count``)
and a part of the search document (``case_search``): codes, subject, sender,
attachment names and text. A new case starts these afresh, a follow-up or an
earlier message that joins adds to them. ``reindex_case`` rebuilds the same
from the stored rows, for cases processed before the index existed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from consultant.cases import lifecycle
from consultant.db import Database
from consultant.mail.parse import ParsedMessage
from consultant.mail.reply_text import new_text
from consultant.models import Case, CaseSearch, Route

MAX_PART_CHARS = 50_000  # the text of one message, as much as analysis reads by default
MAX_DOCUMENT_CHARS = 400_000  # a case's whole document: far under PostgreSQL's tsvector limit
QUESTION_ROUTES = (Route.NEW_CASE, Route.FOLLOW_UP, Route.EARLIER)
RECEIVED_EVENTS = ("received", "follow_up_received", "earlier_message_joined")


@dataclass(frozen=True)
class IndexedMessage:
    """One message as the index sees it."""

    subject: str
    sender: str
    text: str
    attachments: Sequence[str]
    codes: Sequence[str]
    topics: Sequence[str]
    modifiers: Sequence[str] = ()

    def document_part(self) -> str:
        """The message's text for the search document; codes first so a cut keeps them."""
        lines = [" ".join(self.codes), self.subject, self.sender, " ".join(self.attachments)]
        return "\n".join([*(line for line in lines if line), self.text[:MAX_PART_CHARS]])


@dataclass(frozen=True)
class AnalysisTerms:
    """What a message's analysis found, as the case's filters keep it."""

    codes: list[str]
    modifiers: list[str]
    topics: list[str]


def analysis_terms(record: Mapping[str, Any] | None) -> AnalysisTerms:
    """The codes, modifiers and topics in a draft's record (``Draft.facts``)."""
    analysis = (record or {}).get("analysis") or {}
    return AnalysisTerms(
        codes=[str(c["code"]).upper() for c in analysis.get("codes", []) if c.get("code")],
        modifiers=[str(m).upper() for m in analysis.get("modifiers", []) if m],
        topics=[str(t).lower() for t in analysis.get("topics", [])],
    )


def _sender(name: str | None, address: str | None) -> str:
    return " ".join(part for part in (name, address) if part)


def _merged(existing: str, more: Iterable[str]) -> str:
    """Space-separated words, each once, in the order first seen."""
    words = dict.fromkeys([*existing.split(), *(w for m in more for w in m.split())])
    return " ".join(words)


def index_message(
    session: Session,
    case: Case,
    parsed: ParsedMessage,
    record: Mapping[str, Any],
    *,
    opens_case: bool,
) -> None:
    """Add a processed message to its case's filters and search text.

    ``record`` is the draft's record (codes and topics under ``analysis``;
    empty for a message that made no draft); ``opens_case``: the message is
    the case's question, so what the case had before (a retried failure) goes.
    """
    terms = analysis_terms(record)
    message = IndexedMessage(
        subject=parsed.subject,
        # The name is kept (on the case) for the requester only; a reindex finds it there.
        sender=_sender(parsed.from_name if opens_case else None, parsed.from_address),
        text=parsed.text if opens_case else parsed.new_text,
        attachments=[a.filename for a in parsed.attachments],
        codes=terms.codes,
        topics=terms.topics,
        modifiers=terms.modifiers,
    )
    _write(session, case, [message], fresh=opens_case)


def _write(session: Session, case: Case, messages: list[IndexedMessage], *, fresh: bool) -> None:
    if fresh:
        case.codes, case.modifiers, case.topics, case.attachment_count = "", "", "", 0
    for message in messages:
        case.codes = _merged(case.codes or "", message.codes)
        case.modifiers = _merged(case.modifiers or "", message.modifiers)
        case.topics = _merged(case.topics or "", message.topics)
        case.attachment_count = (case.attachment_count or 0) + len(message.attachments)
    parts = [m.document_part() for m in messages]
    row = None if lifecycle.is_fresh(session, case) else session.get(CaseSearch, case.id)
    if row is None:
        row = CaseSearch(case_id=case.id, document="")
        session.add(row)
    previous = "" if fresh else row.document
    row.document = "\n\n".join(p for p in (previous, *parts) if p)[:MAX_DOCUMENT_CHARS]


def _stored_messages(case: Case) -> list[IndexedMessage]:
    """The case's question messages as processing indexed them, from what it stored."""
    drafts = {d.inbound_message_id: d for d in case.drafts if d.template is not None}
    listed: dict[int, list[str]] = {}
    for event in case.events:
        inbound_id = event.details.get("inbound_id")
        if event.kind in RECEIVED_EVENTS and isinstance(inbound_id, int):
            listed[inbound_id] = [str(n) for n in event.details.get("attachments") or []]
    messages = []
    for position, inbound in enumerate(m for m in case.messages if m.route in QUESTION_ROUTES):
        draft = drafts.get(inbound.id)
        terms = analysis_terms(draft.facts if draft is not None else None)
        attachments = [str(a.get("filename", "")) for a in inbound.attachments or []]
        text = inbound.text or ""
        messages.append(
            IndexedMessage(
                subject=inbound.subject or "",
                sender=_sender(
                    case.requester_name if position == 0 else None, inbound.from_address
                ),
                text=text if position == 0 else new_text(text),
                attachments=attachments or listed.get(inbound.id, []),
                codes=terms.codes,
                topics=terms.topics,
                modifiers=terms.modifiers,
            )
        )
    return messages


def reindex_case(session: Session, case: Case) -> None:
    """Rebuild the case's codes, modifiers, topics, attachment count and search text."""
    _write(session, case, _stored_messages(case), fresh=True)


def reindex_all(db: Database, batch: int = 200) -> int:
    """Rebuild the index of every case, a batch per transaction; returns how many."""
    done, last_id = 0, 0
    while True:
        with db.session() as session:
            cases = list(
                session.scalars(
                    select(Case)
                    .where(Case.id > last_id)
                    .order_by(Case.id)
                    .limit(batch)
                    .options(
                        selectinload(Case.messages),
                        selectinload(Case.drafts),
                        selectinload(Case.events),
                    )
                )
            )
            for case in cases:
                reindex_case(session, case)
        if not cases:
            return done
        done += len(cases)
        last_id = cases[-1].id
