"""`consultant cases list`, `cases search` and `cases reindex`, run as an operator would."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import delete, update

from consultant.cli import main
from consultant.models import Case, CaseSearch, utcnow
from consultant.services import Services
from tests.cases.test_queue import add_cases
from tests.cases.test_search import mail
from tests.support.cases import file_messages


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, services: Services) -> CliRunner:
    """The command on the test's database and var dir."""
    monkeypatch.setenv("CONSULTANT_VAR_DIR", str(services.settings.var_dir))
    monkeypatch.setenv("CONSULTANT_DATABASE_URL", str(services.settings.database_url))
    monkeypatch.setenv("CONSULTANT_CONSULT_ADDRESS", services.settings.consult_address)
    return CliRunner()


def run(cli: CliRunner, *args: str) -> Result:
    return cli.invoke(main, list(args), catch_exceptions=False)


def test_list_pages_through_every_waiting_case_oldest_first(
    cli: CliRunner, services: Services
) -> None:
    now = utcnow()
    add_cases(services, [{"waiting": now - timedelta(minutes=i + 1)} for i in range(120)])

    first = run(cli, "cases", "list").output.splitlines()
    assert len(first) == 51
    assert first[0].startswith("CC-000120 ")  # waiting longest
    assert first[-1] == (
        "showing 1\u201350 of 120 open cases (--offset 50 for the next page, --all for every one)"
    )
    last = run(cli, "cases", "list", "--offset", "100").output.splitlines()
    assert last[0].startswith("CC-000020 ") and last[-1] == "showing 101\u2013120 of 120 open cases"
    every = run(cli, "cases", "list", "--all").output.splitlines()
    assert len(every) == 121 and every[-1] == "showing 1\u2013120 of 120 open cases"
    newest = run(cli, "cases", "list", "--limit", "2", "--sort", "age", "--asc").output
    assert newest.splitlines()[:2][0].startswith("CC-000001 ")

    listed = json.loads(run(cli, "cases", "list", "--limit", "3", "--json").output)
    assert [c["reference"] for c in listed] == ["CC-000120", "CC-000119", "CC-000118"]
    assert listed[0]["status"] == "awaiting_review" and listed[0]["overdue"] is False


def test_list_prints_subjects_without_patient_details(cli: CliRunner, services: Services) -> None:
    add_cases(services, [{"subject": "John Smith DOB 03/14/1962 knee 29881", "phi_flagged": True}])
    for args in (("cases", "list"), ("cases", "list", "--json")):
        output = run(cli, *args).output
        assert "29881" in output
        assert "John Smith" not in output and "1962" not in output


def test_list_and_search_find_a_case_by_a_code_in_its_text(
    cli: CliRunner, services: Services
) -> None:
    file_messages(
        services,
        mail("Flap", "Can 20956 be billed with 20902 on the same day?"),
        mail("Visit", "Is 99213 with modifier 25 fine here?"),
    )
    listed = run(cli, "cases", "list", "--q", "20956").output.splitlines()
    assert [line.split()[0] for line in listed[:-1]] == ["CC-000001"]
    assert listed[-1] == "showing 1\u20131 of 1 open case"
    found = run(cli, "cases", "search", "99213").output.splitlines()
    assert [line.split()[0] for line in found[:-1]] == ["CC-000002"]
    assert run(cli, "cases", "list", "--code", "20902").output.startswith("CC-000001 ")


def test_bad_values_are_one_line_errors(cli: CliRunner) -> None:
    for args, message in (
        (("--status", "pending"), "no view 'pending'"),
        (("--sort", "oldest"), "no sort 'oldest'"),
        (("--topic", "lunch"), "no topic 'lunch'"),
        (("--mine",), "--mine needs --as EMAIL"),
    ):
        result = run(cli, "cases", "list", *args)
        assert result.exit_code == 1 and message in result.output, result.output


def test_reindex_fills_the_index_of_existing_cases(cli: CliRunner, services: Services) -> None:
    file_messages(services, mail("Flap", "Can 20956 be billed with 20902 on the same day?"))
    with services.db.session() as session:
        session.execute(delete(CaseSearch))
        session.execute(update(Case).values(codes=""))
    assert run(cli, "cases", "search", "20956").output.splitlines()[-1] == "showing 0 of 0 cases"

    assert run(cli, "cases", "reindex").output == "reindexed 1 case(s)\n"
    assert run(cli, "cases", "search", "20956").output.startswith("CC-000001 ")
    assert run(cli, "cases", "list", "--code", "20956").output.startswith("CC-000001 ")
