"""What changed between two real releases: the sample ICD-10-CM, ICD-10-PCS and HCPCS files
and a later release of each written in its own layout (tests/support/code_updates.py), on
SQLite and PostgreSQL; the CSV a spreadsheet opens safely, and `consultant codes changes`."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from consultant.cli import main
from consultant.codes import changes
from consultant.codes.changes import Changes, NotComparable
from consultant.codes.changes_csv import cell, csv_lines, file_name
from consultant.codes.readonly import Reader
from consultant.db import Database
from tests.codes.test_code_page import load
from tests.support.code_updates import (
    FORMULA,
    HCPCS_CHANGES,
    ICD10CM_CHANGES,
    ICD10CM_ORDER,
    ICD10PCS_CHANGES,
    ICD10PCS_ORDER,
    hcpcs_april_2020,
    icd10cm_october_2025,
    icd10pcs_2024,
)
from tests.support.corpus import HCPCS_ZIP


@pytest.fixture
def reader(db: Database) -> Iterator[Reader]:
    found = Reader(db.url)
    yield found
    found.close()


def _codes(found: Changes) -> dict[str, list[str]]:
    return {name: [c.code for c in getattr(found, name)] for name in changes.CHANGES}


def _by_code(found: Changes) -> dict[str, changes.Change]:
    return {c.code: c for c in found.rows()}


def test_icd10cm_codes_added_deleted_and_revised(
    db: Database, reader: Reader, tmp_path: Path
) -> None:
    load(db, "icd10cm", ICD10CM_ORDER)
    load(db, "icd10cm", icd10cm_october_2025(tmp_path))
    earlier, later = changes.pair(reader, "icd10cm")
    assert (earlier.version, later.version) == ("2025-04", "2025-10")
    found = changes.compare(reader, earlier, later)

    assert _codes(found) == ICD10CM_CHANGES
    assert found.counts == {"added": 2, "deleted": 1, "revised": 4}
    rows = _by_code(found)
    assert (rows["A00.1"].description, rows["A00.1"].terminated) == (
        "Cholera due to Vibrio cholerae 01, biovar eltor",
        None,
    )
    assert (rows["A01.40"].description, rows["A01.40"].flag) == (
        "Paratyphoid fever, unspecified, a new code",
        True,
    )
    assert rows["A00.9"].fields == ("description",)
    assert (rows["A00.9"].previous_description, rows["A00.9"].description) == (
        "Cholera, unspecified",
        "Cholera, unspecified type",
    )
    assert rows["A01.05"].fields == ("short description",)
    assert rows["A01.05"].previous_short_description == "Typhoid osteomyelitis"
    assert rows["A01.4"].fields == ("billable",)
    assert (rows["A01.4"].previous_flag, rows["A01.4"].flag) == (True, False)


def test_the_other_way_round_swaps_added_and_deleted(
    db: Database, reader: Reader, tmp_path: Path
) -> None:
    load(db, "icd10cm", ICD10CM_ORDER)
    load(db, "icd10cm", icd10cm_october_2025(tmp_path))
    later, earlier = changes.releases(reader, "icd10cm")
    found = changes.compare(reader, later, earlier)
    assert _codes(found) == {
        "added": ICD10CM_CHANGES["deleted"],
        "deleted": ICD10CM_CHANGES["added"],
        "revised": ICD10CM_CHANGES["revised"],
    }


def test_the_quarterly_hcpcs_update_counts_a_discontinued_code_as_deleted(
    db: Database, reader: Reader, tmp_path: Path
) -> None:
    """The April file keeps A0110 with its termination date: deleted, as A0080 that is gone.
    Codes terminated years ago, listed in both files, are no change at all."""
    load(db, "hcpcs", HCPCS_ZIP)
    load(db, "hcpcs", hcpcs_april_2020(tmp_path))
    found = changes.compare(reader, *changes.pair(reader, "hcpcs"))
    assert (found.earlier["version"], found.later["version"]) == ("2020", "2020-04")
    assert _codes(found) == HCPCS_CHANGES
    rows = _by_code(found)
    assert (rows["A0110"].terminated, rows["A0080"].terminated) == ("2020-03-31", None)
    assert rows["A0100"].description == "Non-emergency transportation; taxi, per trip"
    assert rows["J1100"].fields == ("short description",)
    assert rows["J1100"].short_description == "Dexamethasone sod phos 1 mg"
    assert found.flag is None and rows["A0101"].flag is None


def test_icd10pcs_a_year_later(db: Database, reader: Reader, tmp_path: Path) -> None:
    load(db, "icd10pcs", ICD10PCS_ORDER)
    load(db, "icd10pcs", icd10pcs_2024(tmp_path))
    found = changes.compare(reader, *changes.pair(reader, "icd10pcs"))
    assert (found.earlier["version"], found.later["version"], found.flag) == (
        "FY2023",
        "FY2024",
        "valid",
    )
    assert _codes(found) == ICD10PCS_CHANGES


def test_releases_are_chosen_by_id_or_version_and_refused_with_reasons(
    db: Database, reader: Reader, tmp_path: Path
) -> None:
    with pytest.raises(NotComparable, match="no ICD-10-CM release is loaded"):
        changes.pair(reader, "icd10cm")
    load(db, "icd10cm", ICD10CM_ORDER)
    with pytest.raises(NotComparable, match="only ICD-10-CM 2025-04 is loaded"):
        changes.pair(reader, "icd10cm")
    load(db, "icd10cm", icd10cm_october_2025(tmp_path))
    later, earlier = changes.releases(reader, "icd10cm")
    assert changes.pair(reader, "icd10cm", str(earlier.id), "2025-10") == (earlier, later)
    assert changes.pair(reader, "icd10cm", later="2025-10") == (earlier, later)
    with pytest.raises(NotComparable, match="no release older than 2025-04"):
        changes.pair(reader, "icd10cm", later="2025-04")
    with pytest.raises(NotComparable, match="no ICD-10-CM release '2019' is loaded; these are"):
        changes.pair(reader, "icd10cm", "2019")
    with pytest.raises(NotComparable, match="two different releases"):
        changes.compare(reader, later, later)
    with pytest.raises(NotComparable, match="not a code set"):
        changes.releases(reader, "mue")


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("Type 2 diabetes, = + - @ inside", "Type 2 diabetes, = + - @ inside"),
        (True, "yes"),
        (None, ""),
    ],
)
def test_a_cell_a_spreadsheet_would_run_is_written_as_text(value: object, written: str) -> None:
    assert cell(value) == written


def test_the_csv_holds_every_change_and_no_formula(
    db: Database, reader: Reader, tmp_path: Path
) -> None:
    load(db, "icd10cm", ICD10CM_ORDER)
    load(db, "icd10cm", icd10cm_october_2025(tmp_path))
    found = changes.compare(reader, *changes.pair(reader, "icd10cm"))
    text = "".join(csv_lines(found))
    assert text.count("\r\n") == 1 + 7
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["change"], r["code"]) for r in rows] == [
        (name, code) for name, codes in ICD10CM_CHANGES.items() for code in codes
    ]
    by_code = {r["code"]: r for r in rows}
    assert by_code["A01.04"]["description"] == f"'{FORMULA}"
    assert by_code["A01.04"]["previous description"] == "Typhoid arthritis"
    assert by_code["A01.05"]["short description"] == "'-Typhoid osteomyelitis"
    assert (by_code["A01.4"]["billable"], by_code["A01.4"]["previous billable"]) == ("no", "yes")
    assert by_code["A01.4"]["what changed"] == "billable"
    starts = {value[:1] for row in rows for value in row.values()}
    assert not starts & {"=", "+", "-", "@"}
    assert file_name(found) == "icd10cm-changes-2025-04-to-2025-10.csv"


def test_the_command_prints_csv_json_and_a_summary(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(db, "hcpcs", HCPCS_ZIP)
    load(db, "hcpcs", hcpcs_april_2020(tmp_path))
    monkeypatch.setenv("CONSULTANT_DATABASE_URL", db.url)
    runner = CliRunner()

    summary = runner.invoke(main, ["codes", "changes", "hcpcs"], catch_exceptions=False)
    assert summary.exit_code == 0, summary.output
    lines = summary.output.splitlines()
    assert lines[0] == "HCPCS Level II 2020 -> 2020-04: 1 added, 2 deleted, 3 revised"
    assert (
        "  revised  J1100    Injection, dexamethasone sodium phosphate, 1 mg (short description)"
        in lines
    )

    as_csv = runner.invoke(main, ["codes", "changes", "hcpcs", "--from", "2020", "--csv"])
    rows = list(csv.reader(io.StringIO(as_csv.output)))
    assert rows[0][:3] == ["change", "code", "description"]
    assert ["revised", "A0021", '\'=HYPERLINK("http://evil.example","Ambulance")'] in [
        r[:3] for r in rows
    ]

    as_json = json.loads(runner.invoke(main, ["codes", "changes", "hcpcs", "--json"]).output)
    assert as_json["counts"] == {"added": 1, "deleted": 2, "revised": 3}

    refused = runner.invoke(main, ["codes", "changes", "icd10pcs"])
    assert refused.exit_code == 1
    assert "no ICD-10-PCS release is loaded" in refused.output
