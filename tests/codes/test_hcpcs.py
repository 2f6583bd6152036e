"""The CMS HCPCS Level II 2020 file, imported as CMS distributes it, on both databases."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from consultant.codes.importers.hcpcs import HcpcsImporter
from consultant.codes.importing import ImportOptions, ImportResult, import_release
from consultant.codes.lookup import CodeLookup, CodeResult
from consultant.codes.sources import CodeImportError
from consultant.codes.systems import System
from consultant.codes.tables import CodeEntry, CodeRelease, LevelTwoModifier
from consultant.db import Database
from tests.support.corpus import DATA

CMS = DATA / "cms"
ZIP = CMS / "2020-Alpha-Numeric-HCPCS-File.zip"
MEMBER = "HCPC2020_ANWEB_w_disclaimer.txt"
DERIVED = CMS / "HCPCS2020_level2_modifiers_derived.tsv"

G0365 = (
    "Vessel mapping of vessels for hemodialysis access (services for preoperative vessel "
    "mapping prior to creation of hemodialysis access using an autogenous hemodialysis "
    "conduit, including arterial inflow and venous outflow)"
)
A4226 = (
    "Supplies for maintenance of insulin infusion pump with dosage rate adjustment using "
    "therapeutic continuous glucose sensing, per week"
)


def load(db: Database, path: Path, options: ImportOptions | None = None) -> ImportResult:
    return import_release(db, HcpcsImporter(), [path], options)


def lookup(db: Database, code: str, on: date) -> CodeResult:
    return CodeLookup(db).code(System.HCPCS, code, on)


def member_lines() -> list[str]:
    """The lines of the ANWEB text file inside the zip, line ends removed."""
    with zipfile.ZipFile(ZIP) as archive:
        return archive.read(MEMBER).decode("latin-1").split("\r\n")


def first_line(lines: list[str], code: str) -> int:
    """Index of the first record of a procedure code."""
    return next(i for i, line in enumerate(lines) if line[:5] == code and line[10:11] == "3")


def write(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_bytes("\r\n".join(lines).encode("latin-1"))
    return path


def counts(db: Database) -> tuple[int, int, int]:
    """Releases, codes and modifiers in the database."""
    with db.session() as session:
        return (
            session.scalar(select(func.count()).select_from(CodeRelease)) or 0,
            session.scalar(select(func.count()).select_from(CodeEntry)) or 0,
            session.scalar(select(func.count()).select_from(LevelTwoModifier)) or 0,
        )


def test_the_2020_zip_loads_every_procedure_code_and_modifier(db: Database) -> None:
    result = load(db, ZIP)

    assert not result.already_loaded
    assert result.release["version"] == "2020"
    assert result.release["effective"] == "2020-01-01"
    assert result.release["source"] == MEMBER
    assert result.rows == 6710 + 369
    assert counts(db) == (1, 6710, 369)
    with db.session() as session:
        release = session.get_one(CodeRelease, result.release["id"])
        assert release.details == {"procedure_codes": 6710, "modifiers": 369}


def test_j1100_and_e0143_have_their_descriptions_and_indicators(db: Database) -> None:
    load(db, ZIP)

    j1100 = lookup(db, "J1100", date(2020, 6, 1))
    assert (j1100.status, j1100.valid, j1100.billable) == ("active", True, True)
    assert j1100.description == "Injection, dexamethasone sodium phosphate, 1 mg"
    assert j1100.short_description == "Dexamethasone sodium phos"
    assert j1100.effective == "1982-01-01"
    assert j1100.release is not None and j1100.release["version"] == "2020"
    assert j1100.details["pricing_indicators"] == ["51"]
    assert j1100.details["multiple_pricing_indicator"] == "A"
    assert j1100.details["coverage_code"] == "D"
    assert j1100.details["betos"] == "O1E"
    assert j1100.details["type_of_service"] == ["1", "P"]
    assert j1100.details["medicare_manual"] == ["2049"]
    assert j1100.details["action_code"] == "N"
    assert j1100.details["action_effective_date"] == "2001-01-01"

    e0143 = lookup(db, "E0143", date(2020, 6, 1))
    assert e0143.status == "active"
    assert e0143.description == "Walker, folding, wheeled, adjustable or fixed height"
    assert e0143.short_description == "Walker folding wheeled w/o s"
    assert e0143.details["pricing_indicators"] == ["32"]
    assert e0143.details["coverage_code"] == "D"
    assert e0143.details["betos"] == "D1E"
    assert e0143.details["type_of_service"] == ["A", "P", "R"]
    assert e0143.details["coverage_issues_manual"] == ["60-9"]
    assert e0143.details["medicare_manual"] == ["2100.1"]

    assert lookup(db, "A0021", date(2020, 6, 1)).details["cross_references"] == ["A0030"]


def test_continuation_records_complete_the_long_description(db: Database) -> None:
    load(db, ZIP)

    assert lookup(db, "G0365", date(2019, 6, 1)).description == G0365
    # G0503 runs over sixteen continuation records.
    g0503 = lookup(db, "G0503", date(2017, 6, 1)).description or ""
    assert g0503.startswith("Subsequent psychiatric collaborative care management, first 60 ")
    assert "monitoring of patient outcomes using validated rating scales;" in g0503
    assert g0503.endswith("are prepared for discharge from active treatment")


def test_a_terminated_code_is_active_until_its_termination_date(db: Database) -> None:
    load(db, ZIP)

    before = lookup(db, "G0365", date(2019, 12, 31))
    after = lookup(db, "G0365", date(2020, 1, 1))

    assert (before.status, before.valid) == ("active", True)
    assert (after.status, after.valid) == ("terminated", False)
    assert after.terminated == "2019-12-31"
    assert after.message == "terminated on 2019-12-31"


def test_a_code_added_in_2020_is_not_yet_effective_in_2019(db: Database) -> None:
    load(db, ZIP)

    in_2019 = lookup(db, "A4226", date(2019, 12, 31))
    in_2020 = lookup(db, "A4226", date(2020, 1, 1))

    assert (in_2019.status, in_2019.valid) == ("not_yet_effective", False)
    assert in_2019.message == "effective from 2020-01-01"
    assert (in_2020.status, in_2020.description) == ("active", A4226)


def test_the_369_modifiers_match_the_derived_list(db: Database) -> None:
    load(db, ZIP)
    # Split on tabs only: a description such as GJ's starts with a quotation mark.
    header, *rows = DERIVED.read_text().splitlines()
    assert header.split("\t")[:2] == ["MOD", "LONG_DESCRIPTION"]
    expected = {
        row[0]: tuple(value or None for value in row[1:])
        for row in (line.split("\t") for line in rows)
    }

    def yyyymmdd(value: date | None) -> str | None:
        return value.strftime("%Y%m%d") if value else None

    with db.session() as session:
        loaded = {
            m.code: (
                m.long_description,
                m.short_description,
                yyyymmdd(m.added),
                yyyymmdd(m.effective),
                yyyymmdd(m.terminated),
                m.action_code,
            )
            for m in session.scalars(select(LevelTwoModifier))
        }

    assert len(expected) == 369
    assert loaded == expected
    assert loaded["GJ"][0] == '"opt out" physician or practitioner emergency or urgent service'


def test_the_zip_and_the_text_file_inside_it_are_one_release(db: Database, tmp_path: Path) -> None:
    first = load(db, ZIP)
    with zipfile.ZipFile(ZIP) as archive:
        text_file = Path(archive.extract(MEMBER, tmp_path))

    again = load(db, text_file)

    assert again.already_loaded
    assert again.release == first.release
    assert counts(db) == (1, 6710, 369)


def test_a_later_release_without_a_code_makes_it_deleted(db: Database, tmp_path: Path) -> None:
    load(db, ZIP)
    lines = member_lines()
    start = first_line(lines, "J7677")
    assert lines[start + 1][:5] == "J7677"  # its continuation record goes with it
    april = write(tmp_path, "HCPC2020_APR_ANWEB.txt", lines[:start] + lines[start + 2 :])

    result = load(db, april)
    after = lookup(db, "J7677", date(2020, 5, 1))
    before = lookup(db, "J7677", date(2020, 3, 31))

    assert (result.release["version"], result.release["effective"]) == ("2020-04", "2020-04-01")
    assert result.rows == 6709 + 369
    assert (after.status, after.valid) == ("deleted", False)
    assert after.release is not None and after.release["version"] == "2020"
    assert after.message == "not in the release in force (2020-04); last in 2020"
    assert before.status == "active"
    assert before.release is not None and before.release["version"] == "2020"
    j1100 = lookup(db, "J1100", date(2020, 5, 1))
    assert j1100.status == "active"
    assert j1100.release is not None and j1100.release["version"] == "2020-04"


def _truncated(lines: list[str]) -> tuple[list[str], int, str]:
    at = first_line(lines, "J1100")
    return [*lines[:at], lines[at][:150]], at + 1, "truncated record: 150 of 320 columns"


def _bad_date(lines: list[str]) -> tuple[list[str], int, str]:
    at = first_line(lines, "J1100")
    bad = lines[at][:268] + "20191301" + lines[at][276:]
    return (
        [*lines[:at], bad, *lines[at + 1 :]],
        at + 1,
        "add date '20191301' is not a date (YYYYMMDD)",
    )


def _orphan_continuation(lines: list[str]) -> tuple[list[str], int, str]:
    at = first_line(lines, "J7677")
    return (
        lines[:at] + lines[at + 1 :],
        at + 1,
        "continuation record of J7677 without its first line",
    )


@pytest.mark.parametrize(
    "damage",
    [_truncated, _bad_date, _orphan_continuation],
    ids=["truncated", "bad-date", "orphan-continuation"],
)
def test_a_damaged_file_is_refused_with_its_line_and_changes_nothing(
    db: Database,
    tmp_path: Path,
    damage: Callable[[list[str]], tuple[list[str], int, str]],
) -> None:
    load(db, ZIP)
    lines, line, reason = damage(member_lines())
    path = write(tmp_path, "HCPC2020_JUL_ANWEB.txt", lines)

    with pytest.raises(CodeImportError) as refused:
        load(db, path)

    assert str(refused.value) == f"HCPC2020_JUL_ANWEB.txt line {line}: {reason}"
    assert counts(db) == (1, 6710, 369)
    still = lookup(db, "J1100", date(2020, 8, 1))
    assert still.status == "active"
    assert still.release is not None and still.release["version"] == "2020"


def test_a_file_of_another_kind_is_refused(db: Database, tmp_path: Path) -> None:
    with zipfile.ZipFile(ZIP) as archive:
        readme = Path(archive.extract("HCPC2020_README.txt", tmp_path))

    with pytest.raises(CodeImportError) as refused:
        load(db, readme)

    message = str(refused.value)
    assert message.startswith("HCPC2020_README.txt line 1: not a HCPCS alpha-numeric file")
    assert "\n" not in message
    assert counts(db) == (0, 0, 0)


def test_a_file_name_without_the_year_needs_the_effective_date(
    db: Database, tmp_path: Path
) -> None:
    renamed = write(tmp_path, "hcpcs.txt", member_lines())

    with pytest.raises(CodeImportError, match=r"^hcpcs\.txt: .*pass --effective$"):
        load(db, renamed)
    result = load(db, renamed, ImportOptions(version="2020 annual", effective=date(2020, 1, 1)))

    assert (result.release["version"], result.release["effective"]) == (
        "2020 annual",
        "2020-01-01",
    )
