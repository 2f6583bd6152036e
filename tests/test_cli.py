"""The `consultant` command, run as an operator would, on both databases."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, func, inspect, select

from consultant.cli import main
from consultant.db import Database, alembic_config, upgrade
from consultant.models import Case, InboundMessage
from tests.support.corpus import PTP_FILE, QUESTIONS, SPECIAL, question_files

Cli = Callable[..., Result]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> Cli:
    monkeypatch.setenv("CONSULTANT_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CONSULTANT_DATABASE_URL", database_url)
    monkeypatch.setenv("CONSULTANT_CONSULT_ADDRESS", "consult@caseconsultant.example")
    runner = CliRunner()

    def run(*args: str, stdin: str | None = None) -> Result:
        return runner.invoke(main, list(args), input=stdin, catch_exceptions=False)

    return run


def _drop(var: Path, *files: Path) -> None:
    """Put ``files`` in the Maildir inbox, old enough for it to trust they are complete."""
    new = var / "mail" / "inbox" / "new"
    new.mkdir(parents=True, exist_ok=True)
    settled = time.time() - 10
    for path in files:
        target = new / path.name
        target.write_bytes(path.read_bytes())
        os.utime(target, (settled, settled))


def _drop_questions(var: Path) -> None:
    _drop(var, *question_files())


def test_db_upgrade_creates_the_sqlite_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CONSULTANT_VAR_DIR", str(tmp_path / "var"))
    result = CliRunner().invoke(main, ["db", "upgrade"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    path = tmp_path / "var" / "consultant.db"
    assert f"database is up to date: sqlite:///{path}" in result.output
    assert "case" in inspect(create_engine(f"sqlite:///{path}")).get_table_names()


def test_a_database_never_set_up_is_one_line_naming_the_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CONSULTANT_VAR_DIR", str(tmp_path / "var"))
    question = QUESTIONS / "01.eml"
    for args in (["analyze", str(question)], ["cases", "list"], ["codes", "show", "99213"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1, (args, result.output)
        assert result.output == (
            "Error: the database has no CaseConsultant tables yet: "
            "run `consultant db upgrade` first\n"
        ), args


def test_a_database_of_an_older_version_says_which_and_what_to_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0007")
    monkeypatch.setenv("CONSULTANT_DATABASE_URL", url)
    monkeypatch.setenv("CONSULTANT_VAR_DIR", str(tmp_path / "var"))
    result = CliRunner().invoke(main, ["cases", "show", "CC-000001"])
    assert result.exit_code == 1
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert result.output == (
        f"Error: the database's schema is revision 0007, this version needs {head}: "
        "run `consultant db upgrade` first\n"
    )


def test_users_create_reads_the_password_from_stdin(cli: Cli) -> None:
    result = cli(
        "users",
        "create",
        "Rita@Example.com",
        "--role",
        "admin",
        "--password-stdin",
        stdin="a long enough password\n",
    )
    assert result.exit_code == 0
    assert result.output == "user rita@example.com created with role admin\n"
    again = cli(
        "users", "create", "rita@example.com", "--password-stdin", stdin="another long one!\n"
    )
    assert again.exit_code == 1 and "already exists" in again.output
    short = cli("users", "create", "sam@example.com", "--password-stdin", stdin="short\n")
    assert short.exit_code == 1 and "at least 12 characters" in short.output


def test_poll_list_show_edit_approve(cli: Cli, tmp_path: Path) -> None:
    _drop_questions(tmp_path / "var")
    assert cli("poll", "--once").output == "stored 12 new message(s)\n"

    listed = json.loads(cli("cases", "list", "--json").output)
    assert len(listed) == 12 and {c["status"] for c in listed} == {"awaiting_review"}

    shown = json.loads(cli("cases", "show", "cc-000001", "--json").output)
    assert shown["requester"] == "apark@cedarortho.example"
    assert shown["timeline"][0]["what"].startswith("Message from apark@cedarortho.example")
    assert "Status received → analyzing" in shown["timeline"][1]["what"]

    refused = cli("cases", "approve", "CC-000001", "--yes")
    assert refused.exit_code == 1
    assert "open [expert: ...] note" in refused.output

    answer = "Dear Amy,\n\nThe answer.\n"
    unsure = cli("cases", "edit", "CC-000001", stdin=answer)
    assert unsure.exit_code == 1
    assert "--base-version N (the current one is v1), or --yes" in unsure.output
    edited = cli(
        "cases",
        "edit",
        "CC-000001",
        "--base-version",
        "1",
        "--as",
        "rita@example.com",
        stdin=answer,
    )
    assert edited.output == "CC-000001: Draft v2 saved.\n"
    stale = cli("cases", "edit", "CC-000001", "--base-version", "1", stdin="Other words.\n")
    assert stale.exit_code == 1
    assert "v2 was saved by rita@example.com" in stale.output and "+The answer." in stale.output
    old = cli("cases", "approve", "CC-000001", "--version", "1")
    assert old.exit_code == 1 and "nothing was sent" in old.output
    declined = cli("cases", "approve", "CC-000001", stdin="n\n")
    assert declined.exit_code == 1
    assert "--- draft v2 ---\nDear Amy," in declined.output and "Send draft v2" in declined.output
    approved = cli("cases", "approve", "CC-000001", stdin="y\n")
    assert approved.output.endswith("CC-000001: draft v2 approved, reply queued\n")
    shown = json.loads(cli("cases", "show", "CC-000001", "--json").output)
    assert shown["status"] == "sent"
    assert [o["kind"] for o in shown["outbound"]] == ["ack", "reply"]
    assert {o["state"] for o in shown["outbound"]} == {"sent"}


def test_reject_and_unknown_case(cli: Cli, tmp_path: Path) -> None:
    _drop_questions(tmp_path / "var")
    cli("poll", "--once")
    assert cli("cases", "reject", "CC-000002", "--reason", "not a coding question").exit_code == 0
    assert json.loads(cli("cases", "show", "CC-000002", "--json").output)["status"] == "rejected"
    missing = cli("cases", "show", "CC-999999")
    assert missing.exit_code == 1 and "no case CC-999999" in missing.output


def test_sweep_reports_what_it_did(cli: Cli) -> None:
    result = cli("sweep")
    assert result.output == "re-queued 0 message(s) and 0 send(s)\n"


def test_analyze_prints_the_analysis_and_facts_as_json(cli: Cli) -> None:
    assert cli("codes", "import", "ncci-ptp", str(PTP_FILE)).exit_code == 0
    result = cli("analyze", str(QUESTIONS / "01.eml"), "--json")
    data = json.loads(result.output)
    assert data["codes"][:2] == [
        {"system": "CPT", "code": "29880", "modifiers": [], "units": None},
        {"system": "CPT", "code": "29877", "modifiers": [], "units": None},
    ]
    assert [c["code"] for c in data["codes"][2:]] == ["M23.221", "M94.261"]
    assert data["modifiers"] == ["59", "XS"]
    assert sorted(data["topics"]) == ["modifier", "ncci"]
    assert data["phi"] == {"found": False, "kinds": []}
    (ptp,) = [f for f in data["facts"] if f["kind"] == "ptp"]
    assert ptp["data"]["modifier_indicator"] == 1
    assert ptp["source"]["version"] == "v323r0"


def test_analyze_changes_nothing(cli: Cli, database_url: str) -> None:
    cli("analyze", str(SPECIAL / "phi.eml"))
    database = Database(database_url)
    with database.session() as session:
        assert session.scalar(select(func.count(Case.id))) == 0
        assert session.scalar(select(func.count(InboundMessage.id))) == 0
    database.dispose()


def test_analyze_flags_phi_in_a_forwarded_part_as_processing_does(cli: Cli, tmp_path: Path) -> None:
    forwarded = tmp_path / "forwarded.eml"
    forwarded.write_bytes(
        b"From: Dana Coder <dana@clinic.example>\r\nTo: consult@caseconsultant.example\r\n"
        b"Subject: Fw: denial\r\nMessage-ID: <fw.1@clinic.example>\r\n\r\n"
        b"See the denial below: is XU the right fix for 97140, or 59?\r\n\r\n"
        b"---------- Forwarded message ---------\r\nFrom: Payer <era@payer.example>\r\n"
        b"Subject: Denial\r\n\r\nPt Linda Moreau, DOB 04/02/1957: 97140 denied, CO-97.\r\n"
    )
    output = cli("analyze", str(forwarded)).output
    assert "PHI:       dob, patient_name" in output
    assert "Linda" not in output and "1957" not in output


def test_analyze_flags_phi_without_printing_it(cli: Cli) -> None:
    output = cli("analyze", str(SPECIAL / "phi.eml")).output
    assert "PHI:       dob, member_id, mrn, patient_name" in output
    assert "Robert Miller" not in output and "44817203" not in output


def test_draft_prints_the_text_draft(cli: Cli) -> None:
    output = cli("draft", str(QUESTIONS / "03.eml")).output
    assert output.startswith("Dear colleague,\n\nYou asked about J1100 with modifiers JW and JZ")
    assert "[expert: " in output


def test_draft_json_has_the_reply_and_the_reviewers_panel_apart(cli: Cli) -> None:
    assert cli("codes", "import", "ncci-ptp", str(PTP_FILE)).exit_code == 0
    path = str(QUESTIONS / "01.eml")
    data = json.loads(cli("draft", path, "--json").output)
    assert set(data) == {"reply", "panel", "conclusions", "undecided", "on", "facts", "analysis"}
    (edit, choice) = data["conclusions"]
    assert (edit["rule"], choice["rule"]) == ("ptp_edit", "bypass_modifier")
    assert edit["codes"] == ["29880", "29877"] and edit["answer"] in data["reply"]["text"]
    assert edit["citations"][0]["source"] == "ncci-manual"
    assert edit["releases"][0]["version"] == "v323r0"
    assert data["reply"]["text"] == cli("draft", path).output
    assert "<p>" in data["reply"]["html"]
    assert "operator" not in data["reply"]["text"] + data["reply"]["html"]
    assert any("the operator imports" in note["text"] for note in data["panel"])
    assert [c["code"] for c in data["analysis"]["codes"]][:2] == ["29880", "29877"]


def test_unreadable_file_is_one_line(cli: Cli, tmp_path: Path) -> None:
    empty = tmp_path / "empty.eml"
    empty.write_bytes(b"")
    result = cli("draft", str(empty))
    assert result.exit_code == 1
    assert result.output == f"Error: {empty}: empty message: no bytes to read\n"


def test_claim_take_over_release_and_notes(cli: Cli, tmp_path: Path) -> None:
    _drop_questions(tmp_path / "var")
    cli("poll", "--once")
    assert cli("cases", "claim", "CC-000001", "--as", "ann@example.com").output == (
        "CC-000001: claimed for 30 minutes\n"
    )
    refused = cli("cases", "claim", "CC-000001", "--as", "bob@example.com")
    assert refused.exit_code == 1
    assert "claimed by ann@example.com since" in refused.output
    edit = cli(
        "cases",
        "edit",
        "CC-000001",
        "--base-version",
        "1",
        "--as",
        "bob@example.com",
        stdin="Bob's words\n",
    )
    assert edit.exit_code == 1 and "take it over" in edit.output
    taken = cli("cases", "claim", "CC-000001", "--take-over", "--as", "bob@example.com")
    assert taken.exit_code == 0
    released = cli("cases", "release", "CC-000001", "--as", "ann@example.com")
    assert released.output == "CC-000001: you did not hold it\n"
    assert cli("cases", "release", "CC-000001", "--as", "bob@example.com").output == (
        "CC-000001: released\n"
    )
    assert cli("cases", "note", "CC-000001", "Called the practice").exit_code == 0
    shown = json.loads(cli("cases", "show", "CC-000001", "--json").output)
    assert [n["text"] for n in shown["notes"]] == ["Called the practice"]
    whats = [entry["what"] for entry in shown["timeline"]]
    assert "Took the case over from ann@example.com" in whats
    assert "Claim released" in whats and "Internal note added" in whats


def test_show_prints_patient_details_only_when_asked_and_records_it(
    cli: Cli, tmp_path: Path
) -> None:
    _drop(tmp_path / "var", SPECIAL / "phi.eml")
    cli("poll", "--once")
    shown = cli("cases", "show", "CC-000001")
    assert "Robert Miller" not in shown.output and "07/22/1961" not in shown.output
    assert "[patient details removed]" in shown.output
    assert "Robert" not in cli("cases", "show", "CC-000001", "--json").output
    revealed = cli("cases", "show", "CC-000001", "--show-phi", "--as", "ann@example.com")
    assert "Robert Miller" in revealed.output
    timeline = json.loads(cli("cases", "show", "CC-000001", "--json").output)["timeline"]
    assert any(
        e["what"] == "Patient details shown by the command line" and e["who"] == "ann@example.com"
        for e in timeline
    )


def test_guidance_notes_from_the_cli_reach_the_draft(cli: Cli) -> None:
    added = cli(
        "guidance",
        "add",
        "--pair",
        "29880+29877",
        "--text",
        "Chondroplasty in a separate compartment is reported with XS on 29877.",
        "--citation",
        "Practice policy 12",
        "--as",
        "ann@example.com",
    )
    assert added.output == (
        "added #1 v1 pair 29877+29880: Chondroplasty in a separate compartment is reported "
        "with XS on 29877.\n"
    )
    draft = cli("draft", str(QUESTIONS / "01.eml")).output
    assert "- Chondroplasty in a separate compartment is reported with XS on 29877." in draft
    assert "(Practice policy 12)" in draft

    edited = cli("guidance", "edit", "1", "--version", "1", "--text", "Use XS on 29877.")
    assert edited.output.startswith("saved #1 v2 pair 29877+29880: Use XS on 29877.")
    stale = cli("guidance", "disable", "1", "--version", "1", "--as", "bob@example.com")
    assert stale.exit_code == 1
    assert "changed since version 1: it is now version 2" in stale.output
    assert cli("guidance", "disable", "1", "--version", "2").output.endswith(
        "(disabled): Use XS on 29877.\n"
    )
    assert "Use XS on 29877" not in cli("draft", str(QUESTIONS / "01.eml")).output
    assert cli("guidance", "list").output == "#1 v3 pair 29877+29880 (disabled): Use XS on 29877.\n"
    refused = cli("guidance", "add", "--code", "hello", "--text", "x")
    assert refused.exit_code == 1 and "'hello' is not a code" in refused.output
    both = cli("guidance", "add", "--code", "20956", "--topic", "ncci", "--text", "x")
    assert both.exit_code == 2 and "one of --code, --pair, --modifier, --topic" in both.output
