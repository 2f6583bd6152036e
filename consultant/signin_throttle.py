"""Sign-in throttling: failures counted per account and per client address.

Past a free allowance, each further failure doubles the wait before the next try
(``login_delay_seconds``, then twice that, four times, … up to
``login_max_delay_seconds``). A try during the wait is refused before any password
is looked at. The account key is the email
as typed, whether or not such an account exists, so a refusal says nothing about
which addresses have accounts.

A try is charged as a failure *before* its password is checked, in one locked
transaction, and given back if the password was right: forty tries sent at the
same moment are counted one after another, and only the free ones (plus the one
that starts the wait) reach the password check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from config import Settings
from consultant.auth_log import EMAIL_LENGTH
from consultant.db import Database
from consultant.models import LoginThrottle

ACCOUNT = "account:"
ADDRESS = "address:"
# Several people may sign in from one address (an office behind one NAT): one of them
# mistyping must not make the others wait, so an address gets five times the allowance.
ADDRESS_ALLOWANCE = 5
# Failures are forgotten after this long without one (or twice the longest wait, if more).
QUIET_PERIOD = timedelta(hours=1)


class SignInRefused(Exception):
    """Raised when a try comes during the wait that earlier failures started."""

    def __init__(self, retry_at: datetime) -> None:
        super().__init__(f"too many failed sign-ins; try again at {retry_at.isoformat()}")
        self.retry_at = retry_at


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failures are free and how the wait grows after them."""

    free_failures: int = 3
    delay: timedelta = timedelta(seconds=2)
    max_delay: timedelta = timedelta(minutes=15)

    @classmethod
    def from_settings(cls, settings: Settings) -> ThrottlePolicy:
        return cls(
            free_failures=settings.login_free_failures,
            delay=timedelta(seconds=settings.login_delay_seconds),
            max_delay=timedelta(seconds=settings.login_max_delay_seconds),
        )

    def wait_after(self, failures: int, free: int) -> timedelta:
        """The wait after ``failures`` failures when ``free`` of them cost nothing."""
        beyond = failures - free
        if beyond <= 0:
            return timedelta(0)
        limit = self.max_delay.total_seconds()
        seconds = self.delay.total_seconds() * 2 ** min(beyond - 1, 64)
        return timedelta(seconds=min(seconds, limit))

    @property
    def forget_after(self) -> timedelta:
        return max(QUIET_PERIOD, 2 * self.max_delay)


@dataclass(frozen=True)
class Counter:
    """One throttled key and the failures it may have for free."""

    key: str
    free: int


@dataclass(frozen=True)
class Attempt:
    """A try that was let through and charged; settle it with ``failed`` or ``succeeded``.

    ``charged`` holds, per counter, the wait the charge started (None: none), so that a
    success takes back its own charge and nothing a concurrent failure did.
    """

    counters: tuple[Counter, ...]
    charged: tuple[datetime | None, ...]

    @property
    def account(self) -> Counter:
        return self.counters[0]


def counters(policy: ThrottlePolicy, email: str, address: str | None) -> tuple[Counter, ...]:
    """The account's counter first, then the address's (when the address is known)."""
    found = [Counter(ACCOUNT + email[:EMAIL_LENGTH], policy.free_failures)]
    if address:
        found.append(Counter(ADDRESS + address, policy.free_failures * ADDRESS_ALLOWANCE))
    return tuple(found)


def begin(
    db: Database, policy: ThrottlePolicy, email: str, address: str | None, now: datetime
) -> Attempt:
    """Let a try through and charge it as a failure, or raise ``SignInRefused``.

    ``last_failure_at`` is set by the charge too: a try whose process died before it
    was settled still counts, and is still forgotten after the quiet period.
    """
    wanted = counters(policy, email, address)
    charged = []
    with db.session() as session:
        rows = _locked_rows(session, wanted)
        waits = [row.locked_until for row in rows.values() if row.locked_until]
        retry_at = max((at for at in waits if at > now), default=None)
        if retry_at is not None:
            raise SignInRefused(retry_at)
        for counter in wanted:
            row = rows[counter.key]
            if row.last_failure_at and now - row.last_failure_at > policy.forget_after:
                row.failures = 0
            row.failures += 1
            row.last_failure_at = now
            row.locked_until = _until(now, policy.wait_after(row.failures, counter.free))
            charged.append(row.locked_until)
    return Attempt(wanted, tuple(charged))


def failed(
    session: Session, policy: ThrottlePolicy, attempt: Attempt, now: datetime
) -> datetime | None:
    """The charged try was a failure: the wait runs from now. Returns when the next try
    may come, if there is a wait; forgets counters that have long been quiet."""
    rows = _locked_rows(session, attempt.counters)
    for counter in attempt.counters:
        row = rows[counter.key]
        row.last_failure_at = now
        row.locked_until = _until(now, policy.wait_after(row.failures, counter.free))
    waits = [row.locked_until for row in rows.values() if row.locked_until]
    _forget_quiet(session, policy, now)
    return max(waits, default=None)


def succeeded(session: Session, attempt: Attempt) -> None:
    """The charged try was right: the account starts afresh, the address gets its try back.

    The address keeps its other failures: a valid account of one's own must not wash
    away the failures of guesses at other accounts from the same address.
    """
    rows = _locked_rows(session, attempt.counters)
    session.delete(rows[attempt.account.key])
    for counter, charged in zip(attempt.counters[1:], attempt.charged[1:], strict=True):
        row = rows[counter.key]
        row.failures = max(row.failures - 1, 0)
        if row.locked_until == charged:
            # The try was let through, so no wait ran before its charge started this one.
            row.locked_until = None


def forget_account(session: Session, email: str) -> None:
    """Lift an account's wait (an administrator set a new password for it)."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == ACCOUNT + email))


def _until(start: datetime, wait: timedelta) -> datetime | None:
    return start + wait if wait else None


def _locked_rows(session: Session, wanted: Sequence[Counter]) -> dict[str, LoginThrottle]:
    """The counters' rows, created when missing and locked in key order (never a deadlock
    between two tries; on SQLite the transaction's write lock already serialises them)."""
    keys = sorted(counter.key for counter in wanted)
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(
        dialect.insert(LoginThrottle)
        .values([{"key": key, "failures": 0} for key in keys])
        .on_conflict_do_nothing(index_elements=["key"])
    )
    query = (
        select(LoginThrottle)
        .where(LoginThrottle.key.in_(keys))
        .order_by(LoginThrottle.key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {row.key: row for row in session.scalars(query)}


def _forget_quiet(session: Session, policy: ThrottlePolicy, now: datetime) -> None:
    """Drop counters with no failure for a long time and no wait running: the table stays
    as small as the recent failures, however many emails an attacker makes up."""
    cutoff = now - policy.forget_after
    session.execute(
        delete(LoginThrottle).where(
            or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < now),
            or_(LoginThrottle.last_failure_at.is_(None), LoginThrottle.last_failure_at < cutoff),
        )
    )
