"""Personal API tokens: made, checked, listed and revoked, by the service and by
`consultant tokens`, on SQLite and on PostgreSQL."""

from __future__ import annotations

import getpass
import hashlib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from consultant import api_tokens, auth_log
from consultant.api_tokens import TokenError
from consultant.db import Database
from consultant.models import ApiToken, Role, utcnow
from consultant.users import create_user, set_active

EXPERT = "expert@clinic.example"
PASSWORD = "correct horse battery staple"

Cli = Callable[..., Result]


@pytest.fixture
def expert(db: Database) -> str:
    create_user(db, EXPERT, PASSWORD, Role.REVIEWER)
    return EXPERT


def _row(db: Database, token_id: int) -> ApiToken:
    with db.read_session() as session:
        row = session.get(ApiToken, token_id)
        assert row is not None
        return row


def test_a_new_token_is_kept_only_as_its_hash(db: Database, expert: str) -> None:
    made = api_tokens.create(db, expert, "  nightly   export ")
    assert made.secret.startswith("cc_") and len(made.secret) >= 40
    assert made.prefix == made.secret[:10]
    assert made.name == "nightly export"
    row = _row(db, made.id)
    assert row.token_hash == hashlib.sha256(made.secret.encode()).hexdigest()
    stored = [str(value) for value in vars(row).values()]
    assert not any(made.secret in value for value in stored)
    assert api_tokens.create(db, expert).secret != made.secret


def test_a_token_opens_the_api_for_its_owner(db: Database, expert: str) -> None:
    made = api_tokens.create(db, expert)
    owner = api_tokens.verify(db, made.secret)
    assert owner is not None
    assert (owner.email, owner.role, owner.token_id) == (EXPERT, Role.REVIEWER, made.id)


@pytest.mark.parametrize(
    "presented",
    ["", "cc_", "cc_nonsense", "not-ours", "cc_" + "x" * 500],
)
def test_unknown_tokens_open_nothing(db: Database, expert: str, presented: str) -> None:
    api_tokens.create(db, expert)
    assert api_tokens.verify(db, presented) is None


def test_a_token_changed_by_one_character_opens_nothing(db: Database, expert: str) -> None:
    secret = api_tokens.create(db, expert).secret
    changed = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    assert api_tokens.verify(db, changed) is None


def test_a_revoked_token_opens_nothing_and_revoking_again_keeps_the_time(
    db: Database, expert: str
) -> None:
    made = api_tokens.create(db, expert)
    first = api_tokens.revoke(db, made.id)
    assert first.revoked and first.revoked_at is not None
    assert api_tokens.verify(db, made.secret) is None
    again = api_tokens.revoke(db, made.id, now=utcnow() + timedelta(hours=1))
    assert again.revoked_at == first.revoked_at and again.revoked
    logged = [(e.kind, e.email, e.details["prefix"]) for e in reversed(auth_log.recent(db))]
    assert logged == [
        ("token_created", EXPERT, made.prefix),
        ("token_revoked", EXPERT, made.prefix),
    ]
    assert all(made.secret not in str(e.details) for e in auth_log.recent(db))


def test_revoking_an_unknown_token_says_so(db: Database) -> None:
    with pytest.raises(TokenError, match="no token 999"):
        api_tokens.revoke(db, 999)


def test_a_disabled_users_tokens_stop_and_start_again_when_enabled(
    db: Database, expert: str
) -> None:
    made = api_tokens.create(db, expert)
    set_active(db, expert, False, "admin@clinic.example")
    assert api_tokens.verify(db, made.secret) is None
    with pytest.raises(TokenError, match="disabled"):
        api_tokens.create(db, expert)
    set_active(db, expert, True, "admin@clinic.example")
    assert api_tokens.verify(db, made.secret) is not None


def test_tokens_are_made_only_for_existing_users_with_a_short_name(
    db: Database, expert: str
) -> None:
    with pytest.raises(TokenError, match=r"no user nobody@clinic\.example"):
        api_tokens.create(db, "Nobody@Clinic.example")
    with pytest.raises(TokenError, match="at most 100"):
        api_tokens.create(db, expert, "n" * 101)


def test_last_used_is_written_at_most_once_a_minute(db: Database, expert: str) -> None:
    made = api_tokens.create(db, expert)
    assert _row(db, made.id).last_used_at is None
    start = utcnow()
    api_tokens.verify(db, made.secret, now=start)
    assert _row(db, made.id).last_used_at == start
    api_tokens.verify(db, made.secret, now=start + timedelta(seconds=59))
    assert _row(db, made.id).last_used_at == start
    later = start + timedelta(seconds=61)
    api_tokens.verify(db, made.secret, now=later)
    assert _row(db, made.id).last_used_at == later


def test_lists_show_prefixes_never_tokens(db: Database, expert: str) -> None:
    create_user(db, "other@clinic.example", PASSWORD, Role.ADMIN)
    mine = api_tokens.create(db, expert, "mine")
    theirs = api_tokens.create(db, "other@clinic.example", "theirs")
    api_tokens.revoke(db, theirs.id)
    listed = api_tokens.list_tokens(db)
    assert [(t.id, t.email, t.name, t.revoked) for t in listed] == [
        (mine.id, EXPERT, "mine", False),
        (theirs.id, "other@clinic.example", "theirs", True),
    ]
    assert [t.prefix for t in listed] == [mine.prefix, theirs.prefix]
    assert [t.id for t in api_tokens.list_tokens(db, "EXPERT@clinic.example")] == [mine.id]


# -- the command ---------------------------------------------------------------


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> Cli:
    monkeypatch.setenv("CONSULTANT_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CONSULTANT_DATABASE_URL", database_url)
    monkeypatch.setenv("CONSULTANT_CONSULT_ADDRESS", "consult@caseconsultant.example")
    runner = CliRunner()

    def run(*args: str) -> Result:
        from consultant.cli import main

        return runner.invoke(main, list(args), catch_exceptions=False)

    return run


def test_tokens_create_list_revoke(cli: Cli, db: Database, expert: str) -> None:
    made = cli("tokens", "create", expert, "--name", "billing export")
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip()
    assert secret.startswith("cc_") and "\n" not in secret, "stdout holds the token alone"
    assert "shown only this once" in made.stderr
    assert api_tokens.verify(db, secret) is not None

    listed = cli("tokens", "list")
    assert listed.exit_code == 0, listed.output
    assert secret[:10] in listed.output and "billing export" in listed.output
    assert secret not in listed.output
    assert "active" in listed.output and "last used" in listed.output

    (row,) = api_tokens.list_tokens(db)
    revoked = cli("tokens", "revoke", str(row.id))
    assert revoked.exit_code == 0, revoked.output
    assert f"token {row.id}" in revoked.output and "revoked" in revoked.output
    assert api_tokens.verify(db, secret) is None
    assert "revoked" in cli("tokens", "list", expert).output
    assert cli("tokens", "list", "other@clinic.example").output == ""
    made, ended = reversed(auth_log.recent(db))
    assert (made.kind, ended.kind) == ("token_created", "token_revoked")
    assert made.details["by"] == ended.details["by"] == f"cli:{getpass.getuser()}"


def test_tokens_commands_refuse_in_one_line(cli: Cli, db: Database, expert: str) -> None:
    unknown = cli("tokens", "create", "nobody@clinic.example")
    assert unknown.exit_code == 1
    assert "there is no user nobody@clinic.example" in unknown.output
    missing = cli("tokens", "revoke", "42")
    assert missing.exit_code == 1 and "there is no token 42" in missing.output
    with db.read_session() as session:
        assert session.scalars(select(ApiToken)).all() == []
