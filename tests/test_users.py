"""Accounts from the command line, as an operator runs them, on both databases: disabling
and enabling, setting a password (sessions end), and reading the audit log."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from consultant.cli import main
from consultant.db import Database
from consultant.models import utcnow
from consultant.signin import WrongCredentials, sign_in
from consultant.signin_throttle import ThrottlePolicy
from consultant.user_sessions import Active, SessionPolicy, resolve
from consultant.users import check_password

Cli = Callable[..., Result]
EMAIL = "rita@clinic.example"
PASSWORD = "a long enough password"
NEW = "another long passphrase"
POLICY = ThrottlePolicy()
SESSIONS = SessionPolicy(idle=timedelta(hours=1), lifetime=timedelta(hours=12))


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> Cli:
    monkeypatch.setenv("CONSULTANT_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CONSULTANT_DATABASE_URL", database_url)
    monkeypatch.setenv("CONSULTANT_CONSULT_ADDRESS", "consult@caseconsultant.example")
    runner = CliRunner()

    def run(*args: str, stdin: str | None = None) -> Result:
        return runner.invoke(main, list(args), input=stdin, catch_exceptions=False)

    created = run("users", "create", EMAIL, "--password-stdin", stdin=PASSWORD + "\n")
    assert created.exit_code == 0, created.output
    return run


def session_is_open(db: Database, token: str) -> bool:
    return isinstance(resolve(db, SESSIONS, token, None, utcnow()), Active)


def test_disabling_ends_the_sessions_and_enabling_lets_the_user_back(
    cli: Cli, db: Database
) -> None:
    token = sign_in(db, POLICY, EMAIL, PASSWORD, address="192.0.2.1").token
    assert session_is_open(db, token)

    disabled = cli("users", "disable", "Rita@Clinic.example", "--as", "it@clinic.example")
    assert disabled.output == f"user {EMAIL} disabled; 1 session(s) ended\n"
    assert not session_is_open(db, token)
    with pytest.raises(WrongCredentials):
        sign_in(db, POLICY, EMAIL, PASSWORD, address="192.0.2.1")

    assert cli("users", "enable", EMAIL).output == f"user {EMAIL} enabled\n"
    assert session_is_open(db, sign_in(db, POLICY, EMAIL, PASSWORD, address="192.0.2.1").token)
    assert not session_is_open(db, token)  # the old session stays ended

    missing = cli("users", "disable", "nobody@clinic.example")
    assert missing.exit_code == 1
    assert "there is no user nobody@clinic.example" in missing.output


def test_setting_a_password_ends_the_sessions(cli: Cli, db: Database) -> None:
    token = sign_in(db, POLICY, EMAIL, PASSWORD, address=None).token
    short = cli("users", "password", EMAIL, "--password-stdin", stdin="short\n")
    assert short.exit_code == 1 and "at least 12 characters" in short.output

    result = cli("users", "password", EMAIL, "--password-stdin", stdin=NEW + "\n")
    assert result.output == f"password of {EMAIL} set; 1 session(s) ended\n"
    assert not session_is_open(db, token)
    assert not check_password(db, EMAIL, PASSWORD).ok
    assert check_password(db, EMAIL, NEW).ok


def test_setting_a_password_at_the_prompt_asks_twice(cli: Cli, db: Database) -> None:
    result = cli("users", "password", EMAIL, stdin=f"{NEW}\n{NEW}\n")
    assert result.exit_code == 0
    assert NEW not in result.output  # typed hidden
    assert check_password(db, EMAIL, NEW).ok


def test_the_log_lists_every_step_newest_first_without_passwords(cli: Cli, db: Database) -> None:
    for guess in ("first wrong guess here", "second wrong guess here"):
        with pytest.raises(WrongCredentials):
            sign_in(db, POLICY, EMAIL, guess, address="198.51.100.4")
    with pytest.raises(WrongCredentials):
        sign_in(db, POLICY, "nobody@clinic.example", "third wrong guess", address="198.51.100.4")
    sign_in(db, POLICY, EMAIL, PASSWORD, address="198.51.100.4")
    cli("users", "disable", EMAIL, "--as", "it@clinic.example")

    lines = cli("users", "log").output.splitlines()
    assert [line.split("  ")[1:4] for line in lines] == [
        ["user_disabled", EMAIL, "-"],
        ["sign_in", EMAIL, "198.51.100.4"],
        ["sign_in_failed", "nobody@clinic.example", "198.51.100.4"],
        ["sign_in_failed", EMAIL, "198.51.100.4"],
        ["sign_in_failed", EMAIL, "198.51.100.4"],
    ]
    assert lines[0].endswith("by=it@clinic.example sessions_ended=1")
    assert lines[2].endswith("reason=unknown_account")
    assert lines[3].endswith("reason=wrong_password")
    assert lines[0][:4].isdigit() and " UTC  " in lines[0]

    assert len(cli("users", "log", "--limit", "2").output.splitlines()) == 2
    theirs = cli("users", "log", "--email", "Nobody@clinic.example").output.splitlines()
    assert len(theirs) == 1 and "nobody@clinic.example" in theirs[0]
    assert "guess" not in cli("users", "log").output
