"""`consultant codes ...` as an operator runs it: import, releases, show, pair."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from consultant.cli import main
from tests.support.corpus import HCPCS_ZIP, MUE_FILE, PTP_FILE

Cli = Callable[..., Result]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> Cli:
    monkeypatch.setenv("CONSULTANT_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CONSULTANT_DATABASE_URL", database_url)
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(main, list(args), catch_exceptions=False)

    return run


def test_import_says_what_it_loaded_and_then_that_it_is_loaded(cli: Cli) -> None:
    first = cli("codes", "import", "ncci-ptp", str(PTP_FILE))
    assert first.exit_code == 0
    assert first.output.startswith(
        "loaded ncci-ptp v323r0 (practitioner), effective 2026-10-01: 30 rows in "
    )
    again = cli("codes", "import", "ncci-ptp", str(PTP_FILE))
    assert again.output == (
        "ncci-ptp v323r0 (practitioner) is already loaded as release 1 from "
        "ccipra-v323r0-f1.TXT; nothing changed\n"
    )


def test_bad_file_is_one_line_and_exit_status_one(cli: Cli) -> None:
    result = cli("codes", "import", "ncci-ptp", str(MUE_FILE))
    assert result.exit_code == 1
    assert result.output == (
        "Error: MCR_MUE_PractitionerServices_Eff_10-01-2026.csv: this is not an NCCI PTP "
        "edit file (no 'Column 1 Column 2' header near the top)\n"
    )


def test_releases_lists_what_is_loaded(cli: Cli) -> None:
    cli("codes", "import", "ncci-ptp", str(PTP_FILE))
    cli("codes", "import", "hcpcs", str(HCPCS_ZIP))
    listed = json.loads(cli("codes", "releases", "--json").output)
    assert [(r["kind"], r["version"], r["rows"]) for r in listed] == [
        ("hcpcs", "2020", 7079),
        ("ncci-ptp", "v323r0", 30),
    ]
    assert "ccipra-v323r0-f1.TXT" in cli("codes", "releases").output


def test_releases_say_until_when_each_was_in_force(cli: Cli, tmp_path: Path) -> None:
    cli("codes", "import", "ncci-ptp", str(PTP_FILE))
    later = tmp_path / "ccipra-v330r0-f1.TXT"
    later.write_bytes(PTP_FILE.read_bytes().replace(b"G0439\tG0438", b"G0439\tG0437"))
    cli("codes", "import", "ncci-ptp", str(later))
    listed = json.loads(cli("codes", "releases", "--json").output)
    assert [(r["version"], r["effective"], r["until"]) for r in listed] == [
        ("v330r0", "2027-01-01", None),
        ("v323r0", "2026-10-01", "2027-01-01"),
    ]


def test_show_detects_the_system_and_cites_the_release(cli: Cli) -> None:
    cli("codes", "import", "hcpcs", str(HCPCS_ZIP))
    shown = json.loads(cli("codes", "show", "j1100", "--on", "2020-06-01", "--json").output)
    assert {k: shown[k] for k in ("system", "code", "found", "valid", "billable")} == {
        "system": "HCPCS",
        "code": "J1100",
        "found": True,
        "valid": True,
        "billable": True,
    }
    assert shown["description"] == "Injection, dexamethasone sodium phosphate, 1 mg"
    assert shown["release"]["version"] == "2020"
    text = cli("codes", "show", "J1100", "--on", "2020-06-01").output
    assert "HCPCS J1100: active" in text and "source: hcpcs 2020" in text


def test_show_a_cpt_code_without_the_licensed_file(cli: Cli) -> None:
    shown = json.loads(cli("codes", "show", "29880", "--json").output)
    assert (shown["system"], shown["found"], shown["status"]) == ("CPT", False, "no_data")
    assert "AMA" in shown["message"]


def test_pair_json_lists_the_edits_in_force(cli: Cli) -> None:
    cli("codes", "import", "ncci-ptp", str(PTP_FILE))
    result = json.loads(
        cli("codes", "pair", "29877", "29880", "--on", "2026-11-02", "--json").output
    )
    (edit,) = result["edits"]
    assert {
        k: edit[k]
        for k in ("column1", "column2", "modifier_indicator", "effective", "deletion", "rationale")
    } == {
        "column1": "29880",
        "column2": "29877",
        "modifier_indicator": 1,
        "effective": "2003-01-01",
        "deletion": None,
        "rationale": "Standards of medical / surgical practice",
    }
    assert edit["release"]["version"] == "v323r0"
    none = json.loads(cli("codes", "pair", "99213", "11102", "--json").output)
    assert none["edits"] == []


def test_pair_for_the_hospital_setting(cli: Cli) -> None:
    cli("codes", "import", "ncci-ptp", str(PTP_FILE))
    result = json.loads(
        cli("codes", "pair", "29877", "29880", "--setting", "hospital", "--json").output
    )
    assert result["edits"] == [] and "no NCCI PTP edits (hospital)" in result["message"]
