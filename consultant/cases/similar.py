"""Similar past cases: replies already sent on cases that share this one's codes.

Ranked by shared codes first, then shared modifiers, then shared topics, then
how alike the subjects are (the share of words in common). An expert can
start from one of these answers (a new draft version with its text); the
facts on the case stay this case's own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, literal_column, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import Text

from config.desks import MAIN as MAIN_DESK
from consultant.analysis.phi import REDACTED, redact
from consultant.models import Case, CaseStatus, OutboundKind, OutboundMessage, OutboundState

CANDIDATES = 200  # sent cases read per lookup at most; the best few are shown
SHOWN = 5


@dataclass(frozen=True)
class Similar:
    reference: str
    subject: str  # PHI redacted
    shared_codes: tuple[str, ...]
    shared_modifiers: tuple[str, ...]
    shared_topics: tuple[str, ...]
    reply_id: int
    reply_text: str


WORD = re.compile(r"\w+")


def _shares_a_code(session: Session, codes: set[str]) -> ColumnElement[bool]:
    """Cases naming any of ``codes``: through the GIN index on PostgreSQL, LIKE on SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        # The separator as a literal, so the expression is the index's own, whatever the plan.
        as_array = func.string_to_array(Case.codes, literal_column("' '"), type_=ARRAY(Text))
        return as_array.op("&&")(literal(sorted(codes), ARRAY(Text)))
    padded = literal(" ") + func.coalesce(Case.codes, "") + literal(" ")
    return or_(*(padded.like(f"% {code} %") for code in sorted(codes)))


def _words(subject: str) -> set[str]:
    """The subject's words, leaving out patient details (and the words that replace them)."""
    return set(WORD.findall(redact(subject).replace(REDACTED, " ").lower()))


def _alike(words: set[str], other: set[str]) -> float:
    """How alike two subjects are: the share of their words in common (Jaccard)."""
    return len(words & other) / len(words | other) if words or other else 0.0


def candidates_query(
    session: Session, case_id: int, codes: set[str], desk: str = MAIN_DESK
) -> Select[Any]:
    """The newest sent cases of ``desk`` (other than ``case_id``) naming any of ``codes``.

    Of the same desk only: another desk's cases are its team's.
    """
    return (
        select(Case.id, Case.reference, Case.subject, Case.codes, Case.modifiers, Case.topics)
        .where(
            Case.status == CaseStatus.SENT,
            Case.id != case_id,
            Case.desk == desk,
            _shares_a_code(session, codes),
        )
        .order_by(Case.updated_at.desc())
        .limit(CANDIDATES)
    )


def similar_cases(session: Session, case: Case, limit: int = SHOWN) -> list[Similar]:
    """The sent cases most like ``case``, each with its last reply; none without codes."""
    codes = set(case.codes.split())
    if not codes:
        return []
    modifiers = set(case.modifiers.split())
    topics = set(case.topics.split())
    candidates = session.execute(candidates_query(session, case.id, codes, case.desk)).all()
    words = _words(case.subject)

    def rank(row: object) -> tuple[int, int, int, float]:
        alike = _alike(words, _words(row.subject))
        return (
            len(codes & set(row.codes.split())),
            len(modifiers & set(row.modifiers.split())),
            len(topics & set(row.topics.split())),
            alike,
        )

    best = sorted(candidates, key=rank, reverse=True)[:limit]
    replies = _last_replies(session, [row.id for row in best])
    found = []
    for row in best:
        reply = replies.get(row.id)
        if reply is None:
            continue
        found.append(
            Similar(
                reference=row.reference,
                subject=redact(row.subject),
                shared_codes=tuple(sorted(codes & set(row.codes.split()))),
                shared_modifiers=tuple(sorted(modifiers & set(row.modifiers.split()))),
                shared_topics=tuple(sorted(topics & set(row.topics.split()))),
                reply_id=reply.id,
                reply_text=reply.body_text,
            )
        )
    return found


def _last_replies(session: Session, case_ids: list[int]) -> dict[int, OutboundMessage]:
    if not case_ids:
        return {}
    rows = session.scalars(
        select(OutboundMessage)
        .where(
            OutboundMessage.case_id.in_(case_ids),
            OutboundMessage.kind == OutboundKind.REPLY,
            OutboundMessage.state.in_([OutboundState.SENT, OutboundState.BOUNCED]),
        )
        .order_by(OutboundMessage.id)
    )
    return {row.case_id: row for row in rows}  # the last one per case wins


def sent_reply_text(
    session: Session, reply_id: int, desk: str = MAIN_DESK
) -> tuple[str, str] | None:
    """A sent reply's text and its case's reference, for starting a draft from it (of a case
    on ``desk``, the draft's own desk: another desk's replies are its team's)."""
    row = session.execute(
        select(OutboundMessage.body_text, Case.reference)
        .join(Case, Case.id == OutboundMessage.case_id)
        .where(
            OutboundMessage.id == reply_id,
            Case.desk == desk,
            OutboundMessage.kind == OutboundKind.REPLY,
            OutboundMessage.state.in_([OutboundState.SENT, OutboundState.BOUNCED]),
        )
    ).first()
    return None if row is None else (row[0], str(row[1]))
