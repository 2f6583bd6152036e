"""The dashboard's figures: per day for the last 30 days, how much came in, went out, waited.

Per day (in CONSULTANT_BUSINESS_TIMEZONE):

- received: questions that arrived (new cases and follow-ups; ignored mail is not a question);
- sent: replies sent (acknowledgments and notices are not replies);
- overdue: questions that arrived that day and missed the SLA (``consultant.cases.sla``,
  in business hours when those are set): answered after they were due, or still
  waiting past it (a case an expert rejected waits for nothing);
- median and p90 time to reply: for the replies sent that day, the time from the
  first message of the question they answer (the first one received since the case's
  previous reply) to the reply.

The database selects the rows (plain SQL, the same on SQLite and PostgreSQL);
days and percentiles are worked out here, since SQLite has no percentile
function and no time zones.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, union
from sqlalchemy.orm import Session

from config import Settings
from consultant.cases.sla import current_sla
from consultant.models import (
    Case,
    CaseStatus,
    InboundMessage,
    OutboundKind,
    OutboundMessage,
    Route,
    utcnow,
)

DAYS = 30
QUESTION_ROUTES = (Route.NEW_CASE, Route.FOLLOW_UP)
# A question still unanswered in these is not waiting for anyone.
CLOSED_UNANSWERED = frozenset({CaseStatus.REJECTED, CaseStatus.IGNORED})


@dataclass(frozen=True)
class DayStats:
    day: date
    received: int
    sent: int
    overdue: int
    median_hours: float | None
    p90_hours: float | None


@dataclass(frozen=True)
class Dashboard:
    """The days, oldest first, and the same figures over the whole period."""

    days: list[DayStats]
    total: DayStats
    sla_hours: float
    business_hours: bool
    timezone: str


@dataclass
class _Round:
    """One question on a case: from its first message to the reply that answered it."""

    case_id: int
    asked_at: datetime
    answered_at: datetime | None = None


def percentile(values: Sequence[float], share: float) -> float | None:
    """The ``share`` (0..1) percentile of ``values``, interpolated linearly; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * share
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def dashboard(
    session: Session, settings: Settings, now: datetime | None = None, days: int = DAYS
) -> Dashboard:
    """The figures for the ``days`` local days up to and including today."""
    now = now or utcnow()
    zone = ZoneInfo(settings.business_timezone)
    today = now.astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, time(), zone).astimezone(UTC)
    sla = current_sla(session, settings)

    questions, replies, statuses = _rows(session, start)
    rounds, waits = _rounds(questions, replies)

    def local_day(moment: datetime) -> date:
        return moment.astimezone(zone).date()

    received: dict[date, int] = defaultdict(int)
    for _, at in questions:
        if at >= start:
            received[local_day(at)] += 1
    sent: dict[date, int] = defaultdict(int)
    for _, at in replies:
        if at >= start:
            sent[local_day(at)] += 1
    hours: dict[date, list[float]] = defaultdict(list)
    for replied_at, seconds in waits:
        if replied_at >= start:
            hours[local_day(replied_at)].append(seconds / 3600)
    overdue: dict[date, int] = defaultdict(int)
    for r in rounds:
        if r.asked_at < start:
            continue
        if r.answered_at is None and statuses.get(r.case_id) in CLOSED_UNANSWERED:
            continue
        if sla.due(r.asked_at) < (r.answered_at or now):
            overdue[local_day(r.asked_at)] += 1

    rows = [
        DayStats(
            day=day,
            received=received[day],
            sent=sent[day],
            overdue=overdue[day],
            median_hours=percentile(hours[day], 0.5),
            p90_hours=percentile(hours[day], 0.9),
        )
        for day in (first + timedelta(days=n) for n in range(days))
    ]
    every = [h for day in rows for h in hours[day.day]]
    total = DayStats(
        day=today,
        received=sum(d.received for d in rows),
        sent=sum(d.sent for d in rows),
        overdue=sum(d.overdue for d in rows),
        median_hours=percentile(every, 0.5),
        p90_hours=percentile(every, 0.9),
    )
    return Dashboard(rows, total, sla.hours, sla.business is not None, settings.business_timezone)


def _rows(
    session: Session, start: datetime
) -> tuple[list[tuple[int, datetime]], list[tuple[int, datetime]], dict[int, str]]:
    """The question messages and sent replies of every case active since ``start``, at any
    time (a question asked before ``start`` may be answered after it), and the cases' status."""
    question = (InboundMessage.route.in_(QUESTION_ROUTES), InboundMessage.case_id.is_not(None))
    # An automatic answer sent at once answers the requester as a reply does.
    answered = (OutboundKind.REPLY, OutboundKind.INSTANT)
    reply = (OutboundMessage.kind.in_(answered), OutboundMessage.sent_at.is_not(None))
    active = union(
        select(InboundMessage.case_id).where(*question, InboundMessage.received_at >= start),
        select(OutboundMessage.case_id).where(*reply, OutboundMessage.sent_at >= start),
    ).subquery()
    questions = session.execute(
        select(InboundMessage.case_id, InboundMessage.received_at).where(
            *question, InboundMessage.case_id.in_(select(active.c.case_id))
        )
    ).all()
    replies = session.execute(
        select(OutboundMessage.case_id, OutboundMessage.sent_at).where(
            *reply, OutboundMessage.case_id.in_(select(active.c.case_id))
        )
    ).all()
    statuses = session.execute(
        select(Case.id, Case.status).where(Case.id.in_(select(active.c.case_id)))
    ).all()
    return (
        [(case_id, at) for case_id, at in questions if case_id is not None],
        [(case_id, at) for case_id, at in replies if at is not None],
        {case_id: status for case_id, status in statuses},
    )


def _rounds(
    questions: Iterable[tuple[int, datetime]], replies: Iterable[tuple[int, datetime]]
) -> tuple[list[_Round], list[tuple[datetime, float]]]:
    """Each case's questions (a message with nothing unanswered before it starts one; the
    next reply ends it), and for each reply that ended one, when it went and the wait."""
    timeline: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for case_id, at in questions:
        timeline[case_id].append((at, 0))  # a question before a reply of the same instant
    for case_id, at in replies:
        timeline[case_id].append((at, 1))
    rounds: list[_Round] = []
    waits: list[tuple[datetime, float]] = []
    for case_id, moments in timeline.items():
        open_round: _Round | None = None
        for at, is_reply in sorted(moments):
            if not is_reply:
                if open_round is None:
                    open_round = _Round(case_id, at)
                    rounds.append(open_round)
            elif open_round is not None:
                open_round.answered_at = at
                waits.append((at, (at - open_round.asked_at).total_seconds()))
                open_round = None
    return rounds, waits
