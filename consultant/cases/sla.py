"""The service level: how many hours a question may wait for an expert's reply.

The SLA counts from ``case.waiting_since`` (when the case last started
waiting). With ``CONSULTANT_BUSINESS_HOURS`` set (e.g. ``09:00-17:00``, on
``CONSULTANT_BUSINESS_DAYS`` in ``CONSULTANT_BUSINESS_TIMEZONE``), only the
hours inside those windows count; otherwise every hour does. The due time
grows with the waiting time, so "overdue" is one comparison on
``waiting_since`` (``Sla.overdue_since``) that the database answers from an
index: the queue never computes a due time per row in SQL.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from config import Settings
from consultant.cases.app_settings import SLA_HOURS, read_setting, write_setting

MAX_SLA_HOURS = 24 * 366
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Far enough to cross any run of closed days a calendar can have; bounds the walks below.
MAX_CLOSED_DAYS = 14


class SlaError(ValueError):
    """Raised when an SLA value is not a number of hours an admin could mean."""


def sla_hours(session: Session, settings: Settings) -> float:
    """The SLA an admin set on the web, else CONSULTANT_SLA_HOURS."""
    value = read_setting(session, SLA_HOURS)
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return settings.sla_hours


def set_sla_hours(session: Session, hours: float, actor: str) -> None:
    """Store the SLA; refuses zero, negative, absurd or non-finite hours."""
    if not math.isfinite(hours) or not 0 < hours <= MAX_SLA_HOURS:
        raise SlaError(f"the SLA must be more than 0 and at most {MAX_SLA_HOURS} hours")
    write_setting(session, SLA_HOURS, hours, actor)


class SlaConfigError(ValueError):
    """Raised when the business-hours settings cannot be read (bad days, zone or window)."""


@dataclass(frozen=True)
class BusinessHours:
    """Opening hours: ``start`` to ``end`` local time on ``days`` (0 = Monday) in ``zone``."""

    start: time
    end: time
    days: frozenset[int]
    zone: ZoneInfo

    @classmethod
    def from_settings(cls, settings: Settings) -> BusinessHours | None:
        """The configured business hours, or None when every hour counts."""
        if not settings.business_hours:
            return None
        first, last = settings.business_hours.split("-")
        try:
            start, end = time.fromisoformat(first), time.fromisoformat(last)
        except ValueError as error:
            raise SlaConfigError(f"business hours {settings.business_hours!r}: {error}") from None
        if end <= start:
            raise SlaConfigError(
                f"business hours {settings.business_hours!r} end before they start"
            )
        days = set()
        for name in settings.business_days.split(","):
            key = name.strip().lower()[:3]
            if key not in DAY_NAMES:
                raise SlaConfigError(f"business day {name.strip()!r} is not a day name (Mon..Sun)")
            days.add(DAY_NAMES.index(key))
        try:
            zone = ZoneInfo(settings.business_timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise SlaConfigError(
                f"business timezone {settings.business_timezone!r} is unknown"
            ) from None
        return cls(start, end, frozenset(days), zone)

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The open hours of local ``day`` in UTC, or None when it is a closed day."""
        if day.weekday() not in self.days:
            return None
        opens = datetime.combine(day, self.start, self.zone).astimezone(UTC)
        closes = datetime.combine(day, self.end, self.zone).astimezone(UTC)
        return opens, closes

    def add(self, start: datetime, hours: timedelta) -> datetime:
        """The moment ``hours`` of open time after ``start``."""
        remaining, day = hours, start.astimezone(self.zone).date()
        cursor = start
        closed_run = 0
        while True:
            window = self.window(day)
            if window is None:
                closed_run += 1
                if closed_run > MAX_CLOSED_DAYS:
                    raise SlaConfigError("business hours name no open day")
            else:
                closed_run = 0
                opens, closes = window
                begin = max(cursor, opens)
                if begin < closes:
                    if remaining <= closes - begin:
                        return begin + remaining
                    remaining -= closes - begin
            day += timedelta(days=1)

    def subtract(self, end: datetime, hours: timedelta) -> datetime:
        """The latest moment with ``hours`` of open time between it and ``end``."""
        remaining, day = hours, end.astimezone(self.zone).date()
        closed_run = 0
        while True:
            window = self.window(day)
            if window is None:
                closed_run += 1
                if closed_run > MAX_CLOSED_DAYS:
                    raise SlaConfigError("business hours name no open day")
            else:
                closed_run = 0
                opens, closes = window
                finish = min(end, closes)
                if opens < finish:
                    if remaining <= finish - opens:
                        return finish - remaining
                    remaining -= finish - opens
            day -= timedelta(days=1)


@dataclass(frozen=True)
class Sla:
    """The reply deadline rule: ``hours`` of wall-clock time, or of ``business`` time."""

    hours: float
    business: BusinessHours | None = None

    @property
    def span(self) -> timedelta:
        return timedelta(hours=self.hours)

    def due(self, waiting_since: datetime) -> datetime:
        """When a case waiting since ``waiting_since`` should have its reply."""
        if self.business is None:
            return waiting_since + self.span
        return self.business.add(waiting_since, self.span)

    def overdue_since(self, now: datetime) -> datetime:
        """Cases waiting since this moment or earlier are overdue at ``now`` (due <= now).

        The due time never decreases as the waiting start moves later, so one
        bound on ``waiting_since`` answers "overdue" for every case at once.
        """
        if self.business is None:
            return now - self.span
        return self.business.subtract(now, self.span)

    def is_overdue(self, waiting_since: datetime, now: datetime) -> bool:
        return self.due(waiting_since) <= now


def current_sla(session: Session, settings: Settings) -> Sla:
    """The SLA in force: the hours (``sla_hours``) and the business hours, if any."""
    return Sla(sla_hours(session, settings), BusinessHours.from_settings(settings))


def describe_span(span: timedelta) -> str:
    """A duration as a person says it in a list: ``40 min``, ``3 h``, ``2 d 5 h``."""
    minutes = max(int(span.total_seconds() // 60), 0)
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h"
    return f"{hours // 24} d {hours % 24} h" if hours % 24 else f"{hours // 24} d"


def describe_due(due: datetime, now: datetime) -> str:
    """``due in 3 h`` or ``overdue by 2 h``, in wall-clock time from ``now``."""
    if due <= now:
        return f"overdue by {describe_span(now - due)}"
    return f"due in {describe_span(due - now)}"
