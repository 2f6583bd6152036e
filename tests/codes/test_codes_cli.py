"""`consultant codes ...` as an operator runs it: import, releases, show, pair, fee, coverage.

The payment and coverage files are CONSTRUCTED (../shared/data/PROVENANCE.md): the
tests assert their made-up values, nothing presents them as real.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from consultant.cli import main
from tests.support.corpus import (
    COVERAGE_FILES,
    HCPCS_ZIP,
    MUE_FILE,
    PAYMENT_FILES,
    PTP_FILE,
)

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


# -- fee -------------------------------------------------------------------------------


@pytest.fixture
def payment(cli: Cli) -> None:
    for kind, path in PAYMENT_FILES:
        assert cli("codes", "import", kind, str(path)).exit_code == 0


@pytest.mark.usefixtures("payment")
def test_fee_in_a_locality_labelled_with_its_releases_locality_and_date(cli: Cli) -> None:
    result = cli("codes", "fee", "20610", "--locality", "Miami", "--on", "2027-01-15")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == (
        "Medicare physician fee schedule, 20610, MIAMI (FL), locality 04 of MAC 99101, "
        "on 2027-01-15; from PFS relative value file 2027-Jan-nonQPP (PPRRVU2027_Jan_nonQPP.csv, "
        "effective 2027-01-01) and PFS GPCIs 2027 (GPCI2027.csv, effective 2027-01-01)"
    )
    assert lines[1:9] == [
        "  status A: active: paid separately under the fee schedule",
        "  PC/TC indicator 0: a physician service: the professional/technical split does not apply",
        "  non-facility (office): $68.74",
        "    (0.79 x 1.000 + 0.95 x 1.066 + 0.10 x 2.310) x 33.8012 = 68.74",
        "    non-participating $65.30; limiting charge $75.10",
        "  facility: $49.28",
        "    (0.79 x 1.000 + 0.41 x 1.066 + 0.10 x 2.310) x 33.8012 = 49.28",
        "    non-participating $46.82; limiting charge $53.84",
    ]
    assert "  formula: (work RVU x work GPCI + PE RVU x PE GPCI + MP RVU x MP GPCI) x " in (
        result.output
    )


@pytest.mark.usefixtures("payment")
def test_fee_json_by_state_and_county(cli: Cli) -> None:
    result = cli(
        "codes", "fee", "71046", "--modifier", "26", "--state", "Florida", "--county", "Dade",
        "--on", "2027-01-15", "--json",
    )  # fmt: skip
    fee = json.loads(result.output)
    assert fee["amounts"]["non_facility"]["amount"] == "12.24"
    assert (fee["modifier"], fee["pctc"], fee["locality"]["locality"]) == ("26", "1", "04")
    assert fee["release"]["version"] == "2027-Jan-nonQPP"
    assert fee["gpci_release"]["version"] == "2027"


@pytest.mark.usefixtures("payment")
def test_fee_asks_to_choose_when_a_place_has_several_localities(cli: Cli) -> None:
    several = cli("codes", "fee", "20610", "--locality", "99", "--on", "2027-01-15")
    assert several.exit_code == 1
    assert several.output == (
        "Error: '99' matches 2 localities; choose one with --locality MAC/NUMBER:\n"
        "  99101/99  REST OF FLORIDA (FL): ALL OTHER COUNTIES\n"
        "  99202/99  REST OF TEXAS (TX): ALL OTHER COUNTIES\n"
    )
    texas = cli("codes", "fee", "20610", "--state", "TX", "--on", "2027-01-15")
    assert texas.exit_code == 1
    assert texas.output.startswith(
        "Error: TX has 2 localities: name the county with --county, or choose one with "
        "--locality MAC/NUMBER:\n  99202/09  BRAZORIA (TX): BRAZORIA\n"
    )
    as_json = cli("codes", "fee", "20610", "--locality", "99", "--on", "2027-01-15", "--json")
    assert as_json.exit_code == 1
    refused = json.loads(as_json.output)
    assert [loc["mac"] for loc in refused["localities"]] == ["99101", "99202"]
    assert refused["error"].startswith("'99' matches 2 localities")
    unknown = cli("codes", "fee", "20610", "--state", "XX", "--on", "2027-01-15")
    assert (unknown.exit_code, unknown.output) == (1, "Error: 'XX' is not a state\n")
    both = cli("codes", "fee", "20610", "--locality", "Miami", "--county", "Dade")
    assert both.exit_code == 2 and "not both" in both.output


@pytest.mark.usefixtures("payment")
def test_fee_says_why_a_setting_or_a_code_has_no_amount(cli: Cli) -> None:
    knee = cli("codes", "fee", "27447", "--locality", "99101/04", "--on", "2027-01-15").output
    assert (
        "  non-facility (office): not priced: the PFS 2027-Jan-nonQPP gives no non-facility "
        in (knee)
    )
    assert "  facility: $1,366.56\n" in knee
    bundled = cli("codes", "fee", "99100", "--on", "2027-01-15").output
    assert "  status B: bundled: paid as part of other services, never separately\n" in bundled
    assert "  no fee schedule amount for this status\n" in bundled
    assert "$" not in bundled
    draw = cli("codes", "fee", "36415", "--on", "2026-11-15").output
    assert "  no fee schedule amount: 36415 is not in the PFS 2026-Oct-nonQPP\n" in draw
    assert draw.endswith(
        "Clinical laboratory fee schedule, 36415, on 2026-11-15: $3.00 (national rate; from "
        "Clinical Laboratory Fee Schedule 2026 Q4 (CLFS2026Q4.csv, effective 2026-10-01))\n"
    )


def test_fee_with_nothing_loaded_says_so(cli: Cli) -> None:
    result = cli("codes", "fee", "20610", "--on", "2027-01-15")
    assert result.exit_code == 0
    assert "no fee schedule amount: no physician fee schedule file is loaded for 2027-01-15" in (
        result.output
    )
    assert "`consultant codes import pfs FILE`" in result.output
    diagnosis = cli("codes", "fee", "E11.9")
    assert diagnosis.exit_code == 2 and "is not a CPT or HCPCS code" in diagnosis.output


# -- coverage --------------------------------------------------------------------------


@pytest.fixture
def coverage(cli: Cli) -> None:
    for kind, path in COVERAGE_FILES:
        assert cli("codes", "import", kind, str(path)).exit_code == 0


@pytest.mark.usefixtures("coverage")
def test_coverage_in_a_state_cites_the_article_version_and_group(cli: Cli) -> None:
    result = cli(
        "codes", "coverage", "20610", "M17.9", "M17.11", "--state", "FL", "--on", "2026-11-02"
    )
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "Medicare coverage of 20610 on 2026-11-02, in FL"
    assert lines[1] == (
        "Article A90001 v2 (Example Medicare Services J-X Part B): Billing and Coding: "
        "Arthrocentesis and Joint Injections"
    )
    assert (
        "  M17.9: listed as not covered (Article A90001 v2 (Example Medicare Services J-X "
        "Part B), group 1)" in lines
    )
    assert (
        "    Group 1: unspecified osteoarthritis of the knee does not support medical "
        "necessity; report laterality." in lines
    )
    assert (
        "  M17.11: covered (Article A90001 v2 (Example Medicare Services J-X Part B), group 1)"
        in (lines)
    )
    assert "  contractor: Example Medicare Services J-X Part B (A and B MAC 99101), for FL, PR" in (
        lines
    )
    assert "  modifiers listed, group 1: LT, RT" in lines
    lcd = lines.index(
        "  LCD L90001 v3: Arthrocentesis and Joint Injections (constructed); "
        "https://www.cms.gov/medicare-coverage-database/view/lcd.aspx?lcdid=90001"
    )
    assert lines[lcd + 1 : lcd + 3] == [
        "    utilization:",
        "      Constructed utilization guidance: at most one injection per joint per 3 months.",
    ]
    assert "Articles listing 20610 for other jurisdictions (not in FL): A90002 v1" in lines
    assert (
        "Versions listing 20610 not in force on 2026-11-02: A90001 v1 (2025-10-01 to 2026-06-30)"
        in (lines)
    )


@pytest.mark.usefixtures("coverage")
def test_coverage_never_calls_a_diagnosis_not_listed_not_covered(cli: Cli) -> None:
    texas = cli("codes", "coverage", "20610", "M17.9", "--state", "TX", "--on", "2026-11-02")
    assert (
        "  M17.9: not listed in Article A90002 v1 (Sample Government Health J-Y Part B): the "
        "article says nothing of it" in texas.output.splitlines()
    )
    assert "not covered" not in texas.output


@pytest.mark.usefixtures("coverage")
def test_coverage_without_a_jurisdiction_gives_every_jurisdictions_answer(cli: Cli) -> None:
    text = cli("codes", "coverage", "20610", "M17.9", "--on", "2026-11-02").output
    lines = text.splitlines()
    assert lines[:2] == [
        "Medicare coverage of 20610 on 2026-11-02, in every jurisdiction",
        "  no state or MAC given: these are the answers of every jurisdiction; each applies "
        "only where its contractor does",
    ]
    assert [line.split(":")[0] for line in lines if line.startswith("Article ")] == [
        "Article A90001 v2 (Example Medicare Services J-X Part B)",
        "Article A90002 v1 (Sample Government Health J-Y Part B)",
    ]
    assert "Articles listing" not in text  # nothing is elsewhere when everywhere was asked


@pytest.mark.usefixtures("coverage")
def test_coverage_by_mac_as_json_with_modifiers_and_the_lcd(cli: Cli) -> None:
    result = cli(
        "codes", "coverage", "E0601", "G47.33", "--mac", "99303", "--on", "2026-11-02", "--json"
    )
    found = json.loads(result.output)
    (article,) = found["articles"]
    assert (article["display_id"], article["contractors"][0]["type"]) == ("A90003", "DME MAC")
    assert article["diagnoses"][0]["status"] == "covered"
    assert article["modifiers"][0]["modifiers"] == ["KH", "KI", "KJ", "KX", "RR"]
    assert found["jurisdiction"] == {"state": None, "macs": ["99303"], "source": "asked"}
    screening = cli("codes", "coverage", "G0105", "Z86.010", "--state", "FL", "--on", "2026-11-02")
    assert (
        "  Z86.010: covered (Article A90004 v1 (Example Medicare Services J-X Part B), group 2); "
        "the group's paragraph pairs it with Z12.11" in screening.output.splitlines()
    )


@pytest.mark.usefixtures("coverage")
def test_coverage_names_ncds_by_the_codes_description(cli: Cli) -> None:
    cli("codes", "import", "hcpcs", str(HCPCS_ZIP))
    text = cli("codes", "coverage", "G0105", "--on", "2026-11-02").output
    assert (
        "NCD 210.3-X v2: Colorectal Cancer Screening Tests (constructed); "
        "https://www.cms.gov/medicare-coverage-database/view/ncd.aspx?ncdid=9001&ncdver=2"
        in text.splitlines()
    )


@pytest.mark.usefixtures("coverage")
def test_coverage_refuses_what_it_cannot_look_up(cli: Cli) -> None:
    state = cli("codes", "coverage", "20610", "--state", "Atlantis")
    assert state.exit_code == 2 and "'Atlantis' is not a US state or territory" in state.output
    mac = cli("codes", "coverage", "20610", "--mac", "12345", "--on", "2026-11-02")
    assert mac.exit_code == 2
    assert "no contractor numbered '12345'" in mac.output and "99303 (Example DME MAC" in mac.output
    both = cli("codes", "coverage", "20610", "--state", "FL", "--mac", "99101")
    assert both.exit_code == 2 and "--state or --mac, not both" in both.output
    diagnosis = cli("codes", "coverage", "20610", "knee")
    assert diagnosis.exit_code == 2 and "'knee' is not an ICD-10-CM code" in diagnosis.output
    assert cli("codes", "coverage", "M17.9").exit_code == 2


def test_coverage_with_nothing_loaded_says_so(cli: Cli) -> None:
    result = cli("codes", "coverage", "20610", "M17.9", "--state", "FL", "--on", "2026-11-02")
    assert result.exit_code == 0
    assert result.output.splitlines()[1:] == [
        "  no Medicare Coverage Database articles are loaded for 2026-11-02",
        "  `consultant codes import mcd-articles FILE.zip` (and mcd-lcds, ncd) loads them",
    ]
