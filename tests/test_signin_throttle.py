"""Sign-in throttling on both databases, with the clock given explicitly: the waits double
after the free failures, a try during a wait is refused, a success resets the account."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from consultant.db import Database
from consultant.models import LoginThrottle
from consultant.signin_throttle import (
    ADDRESS_ALLOWANCE,
    QUIET_PERIOD,
    Attempt,
    SignInRefused,
    ThrottlePolicy,
    begin,
    failed,
    forget_account,
    succeeded,
)

POLICY = ThrottlePolicy(
    free_failures=3, delay=timedelta(seconds=2), max_delay=timedelta(seconds=60)
)
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
EMAIL = "rita@clinic.example"
ADDRESS = "198.51.100.7"


def fail(
    db: Database, at: datetime, email: str = EMAIL, address: str | None = ADDRESS
) -> datetime | None:
    """One try that turns out wrong; returns when the next may come (None: at once)."""
    attempt = begin(db, POLICY, email, address, at)
    with db.session() as session:
        return failed(session, POLICY, attempt, at)


def succeed(db: Database, at: datetime, email: str = EMAIL, address: str | None = ADDRESS) -> None:
    attempt = begin(db, POLICY, email, address, at)
    with db.session() as session:
        succeeded(session, attempt)


def refused_until(
    db: Database, at: datetime, email: str = EMAIL, address: str | None = ADDRESS
) -> datetime:
    with pytest.raises(SignInRefused) as refused:
        begin(db, POLICY, email, address, at)
    return refused.value.retry_at


def test_waits_double_after_the_free_failures_up_to_the_longest() -> None:
    waits = [POLICY.wait_after(n, free=3).total_seconds() for n in range(1, 12)]
    assert waits == [0, 0, 0, 2, 4, 8, 16, 32, 60, 60, 60]
    assert POLICY.wait_after(10_000, free=3) == timedelta(seconds=60)


def test_a_try_during_the_wait_is_refused_and_the_wait_doubles(db: Database) -> None:
    now = T0
    for _ in range(3):
        assert fail(db, now) is None
    assert fail(db, now) == now + timedelta(seconds=2)
    # Refused tries do not count: the wait does not grow while someone keeps knocking.
    for seconds in (0, 1, 1.9):
        assert refused_until(db, now + timedelta(seconds=seconds)) == now + timedelta(seconds=2)
    expected = [4, 8, 16, 32, 60, 60]
    for wait in expected:
        now = refused_until(db, now)  # wait exactly as long as told
        assert fail(db, now) == now + timedelta(seconds=wait)


def test_a_success_resets_the_account_but_the_address_keeps_its_count(db: Database) -> None:
    for _ in range(4):
        fail(db, T0)
    later = T0 + timedelta(seconds=2)
    succeed(db, later)
    with db.read_session() as session:
        rows = {r.key: r.failures for r in session.scalars(select(LoginThrottle))}
    assert rows == {f"address:{ADDRESS}": 4}
    # The account is free again: three more free failures.
    for _ in range(3):
        assert fail(db, later) is None


def test_an_unknown_email_is_counted_like_any_other(db: Database) -> None:
    """The throttle never asks whether an account exists: the key is the email typed."""
    for _ in range(3):
        assert fail(db, T0, email="nobody@nowhere.example") is None
    assert fail(db, T0, email="nobody@nowhere.example") == T0 + timedelta(seconds=2)
    refused_until(db, T0 + timedelta(seconds=1), email="nobody@nowhere.example")


def test_one_address_trying_many_accounts_is_slowed(db: Database) -> None:
    allowance = POLICY.free_failures * ADDRESS_ALLOWANCE
    for n in range(allowance):
        assert fail(db, T0, email=f"guess{n}@clinic.example") is None
    assert fail(db, T0, email="one.more@clinic.example") == T0 + timedelta(seconds=2)
    # Any account, even one never tried, is refused from that address during the wait...
    refused_until(db, T0 + timedelta(seconds=1), email=EMAIL)
    # ...and not from another address.
    succeed(db, T0 + timedelta(seconds=1), email=EMAIL, address="203.0.113.9")


def test_one_account_tried_from_many_addresses_is_slowed(db: Database) -> None:
    for n in range(3):
        assert fail(db, T0, address=f"192.0.2.{n}") is None
    assert fail(db, T0, address="192.0.2.3") == T0 + timedelta(seconds=2)
    refused_until(db, T0 + timedelta(seconds=1), address="192.0.2.200")


def test_failures_are_forgotten_after_a_quiet_period(db: Database) -> None:
    for _ in range(4):
        fail(db, T0 + timedelta(minutes=1))
    quiet = T0 + timedelta(minutes=1) + QUIET_PERIOD + timedelta(seconds=1)
    assert fail(db, quiet) is None  # counted from one again
    with db.read_session() as session:
        failures = session.scalars(select(LoginThrottle.failures)).all()
    assert failures == [1, 1]


def test_long_quiet_counters_are_deleted_so_made_up_emails_do_not_pile_up(db: Database) -> None:
    for n in range(10):
        fail(db, T0, email=f"made.up.{n}@evil.example", address=f"192.0.2.{n}")
    fail(db, T0 + QUIET_PERIOD + timedelta(seconds=1))
    with db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(LoginThrottle)) == 2


def test_a_success_gives_back_only_its_own_charge(db: Database) -> None:
    """A success from an address past its allowance leaves no wait it started itself."""
    allowance = POLICY.free_failures * ADDRESS_ALLOWANCE
    for n in range(allowance):
        fail(db, T0, email=f"guess{n}@clinic.example")
    later = T0 + timedelta(minutes=5)
    attempt: Attempt = begin(db, POLICY, EMAIL, ADDRESS, later)
    assert attempt.charged[1] == later + timedelta(seconds=2)  # the charge would start a wait
    with db.session() as session:
        succeeded(session, attempt)
    succeed(db, later, email="colleague@clinic.example")  # the office is not kept waiting


def test_an_administrator_lifts_an_accounts_wait(db: Database) -> None:
    for _ in range(4):
        fail(db, T0, address=None)
    refused_until(db, T0, address=None)
    with db.session() as session:
        forget_account(session, EMAIL)
    succeed(db, T0, address=None)
