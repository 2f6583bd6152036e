"""The dashboard's figures per day, on SQLite and on PostgreSQL, from rows with known times."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from config import Settings
from consultant.cases import stats
from consultant.cases.sla import set_sla_hours
from consultant.cases.stats import DayStats, percentile
from consultant.models import Case, InboundMessage, OutboundMessage
from consultant.services import Services

NOW = datetime(2026, 10, 30, 15, 0, tzinfo=UTC)
TODAY = NOW.date()
YESTERDAY = TODAY - timedelta(days=1)
_numbers = iter(range(1, 100_000))


def at(day: date, hour: float) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=hour)


def add_case(
    session: Session,
    questions: list[datetime],
    replies: Sequence[datetime] = (),
    status: str = "awaiting_review",
    acks: Sequence[datetime] = (),
    ignored: Sequence[datetime] = (),
) -> None:
    """A case whose question messages arrived at ``questions`` and replies went at ``replies``."""
    case = Case(reference=f"CC-{next(_numbers):06d}", status=status, subject="q")
    session.add(case)
    session.flush()
    messages = [(when, "new_case" if n == 0 else "follow_up") for n, when in enumerate(questions)]
    for when, route in [*messages, *((when, "ignored") for when in ignored)]:
        session.add(
            InboundMessage(
                mailbox="test",
                dedup_key=uuid.uuid4().hex,
                sha256="0" * 64,
                raw=b"",
                size=0,
                received_at=when,
                processed_at=when,
                route=route,
                case_id=case.id,
            )
        )
    for when, kind in [*((w, "reply") for w in replies), *((w, "ack") for w in acks)]:
        session.add(
            OutboundMessage(
                case_id=case.id,
                kind=kind,
                message_id=f"<{uuid.uuid4().hex}@caseconsultant.example>",
                sender="consult@caseconsultant.example",
                recipients=["dana@clinic.example"],
                subject="Re: q",
                body_text="answer",
                raw=b"",
                state="sent",
                sent_at=when,
            )
        )


def figures(services: Services, settings: Settings | None = None) -> stats.Dashboard:
    with services.db.session() as session:
        return stats.dashboard(session, settings or services.settings, now=NOW)


def day(board: stats.Dashboard, which: date) -> DayStats:
    (found,) = [d for d in board.days if d.day == which]
    return found


def test_thirty_days_oldest_first_ending_today(services: Services) -> None:
    board = figures(services)

    assert [d.day for d in board.days] == [TODAY - timedelta(days=29 - n) for n in range(30)]
    assert board.total == DayStats(TODAY, 0, 0, 0, None, None)


def test_received_sent_and_time_to_reply_per_day(services: Services) -> None:
    with services.db.session() as session:
        add_case(session, [at(TODAY, 9)], [at(TODAY, 13)], "sent")  # 4 h
        add_case(session, [at(TODAY, 10)], [at(TODAY, 14.5)], "sent")  # 4.5 h
        add_case(session, [at(YESTERDAY, 8)], [at(TODAY, 8)], "sent")  # 24 h

    today = day(figures(services), TODAY)

    assert (today.received, today.sent) == (2, 3)
    assert today.median_hours == pytest.approx(4.5)
    assert today.p90_hours == pytest.approx(4.5 + (24 - 4.5) * 0.8)
    assert day(figures(services), YESTERDAY).received == 1


def test_time_to_reply_counts_from_the_first_unanswered_message(services: Services) -> None:
    with services.db.session() as session:
        # Asked twice before the answer: the wait runs from the first message (3 h).
        add_case(session, [at(TODAY, 1), at(TODAY, 2)], [at(TODAY, 4)], "sent")
        # A follow-up after the first answer: its wait starts at the follow-up (1 h).
        add_case(session, [at(TODAY, 1), at(TODAY, 6)], [at(TODAY, 3), at(TODAY, 7)], "sent")

    today = day(figures(services), TODAY)

    assert today.sent == 3
    assert today.median_hours == 2.0  # waits of 3, 2 and 1 hours
    assert today.received == 4


def test_acknowledgments_and_ignored_mail_are_neither_replies_nor_questions(
    services: Services,
) -> None:
    with services.db.session() as session:
        add_case(session, [at(TODAY, 9)], acks=[at(TODAY, 9)], ignored=[at(TODAY, 10)])

    today = day(figures(services), TODAY)

    assert (today.received, today.sent, today.median_hours) == (1, 0, None)


def test_overdue_questions_are_counted_on_the_day_they_arrived(services: Services) -> None:
    three_days_ago = TODAY - timedelta(days=3)
    with services.db.session() as session:
        add_case(session, [at(three_days_ago, 9)], [at(three_days_ago, 9 + 30)], "sent")  # late
        add_case(session, [at(three_days_ago, 10)], [at(three_days_ago, 12)], "sent")  # in time
        add_case(session, [at(three_days_ago, 11)])  # still waiting, 3+ days
        add_case(session, [at(three_days_ago, 12)], status="rejected")  # nobody waits
        add_case(session, [at(TODAY, 9)])  # waiting 6 h: not yet overdue

    board = figures(services)

    assert day(board, three_days_ago).overdue == 2
    assert day(board, TODAY).overdue == 0
    assert board.total.overdue == 2


def test_the_sla_an_admin_set_decides_what_is_overdue(services: Services) -> None:
    three_days_ago = TODAY - timedelta(days=3)
    with services.db.session() as session:
        add_case(session, [at(three_days_ago, 9)], [at(three_days_ago, 9 + 30)], "sent")
        set_sla_hours(session, 48, "admin@caseconsultant.example")

    board = figures(services)

    assert (board.sla_hours, board.total.overdue) == (48, 0)


def test_mail_older_than_the_window_is_left_out_but_answers_it_got_count(
    services: Services,
) -> None:
    long_ago = TODAY - timedelta(days=40)
    with services.db.session() as session:
        add_case(session, [at(long_ago, 9)], [at(TODAY, 9)], "sent")

    board = figures(services)

    assert (board.total.received, board.total.sent, board.total.overdue) == (0, 1, 0)
    assert board.total.median_hours == pytest.approx(40 * 24)


def test_days_are_those_of_the_business_timezone(
    services: Services, make_settings: Callable[..., Settings]
) -> None:
    with services.db.session() as session:
        add_case(session, [at(TODAY, 2)])  # 22:00 the day before in New York
    new_york = make_settings(
        database_url=services.settings.database_url, business_timezone="America/New_York"
    )

    board = figures(services, new_york)

    assert (day(board, YESTERDAY).received, day(board, TODAY).received) == (1, 0)


@pytest.mark.parametrize(
    ("values", "share", "expected"),
    [([], 0.5, None), ([7.0], 0.9, 7.0), ([1, 2, 3, 4], 0.5, 2.5), ([1, 2, 3, 4, 5], 0.9, 4.6)],
)
def test_percentiles_interpolate(values: list[float], share: float, expected: float | None) -> None:
    assert percentile(values, share) == (pytest.approx(expected) if expected else None)
