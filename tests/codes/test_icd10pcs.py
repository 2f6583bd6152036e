"""ICD-10-PCS from the CMS order file (real excerpt of the 2023 file), on SQLite and PostgreSQL."""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from consultant.codes.importers.icd10pcs import Icd10PcsImporter
from consultant.codes.importing import ImportOptions, ImportResult, import_release
from consultant.codes.lookup import CodeLookup, CodeResult, Status
from consultant.codes.sources import CodeImportError
from consultant.codes.systems import System
from consultant.codes.tables import CodeEntry, CodeRelease
from consultant.db import Database
from tests.support.corpus import DATA

ORDER = DATA / "cms" / "icd10pcs_order_2023_excerpt.txt"
ON = date(2023, 3, 1)


def load(db: Database, path: Path, options: ImportOptions | None = None) -> ImportResult:
    return import_release(db, Icd10PcsImporter(), [path], options)


def show(db: Database, code: str, on: date = ON) -> CodeResult:
    return CodeLookup(db).code(System.ICD10PCS, code, on)


def test_codes_of_the_order_file(db: Database) -> None:
    result = load(db, ORDER)
    assert (result.release["version"], result.release["effective"]) == ("FY2023", "2022-10-01")
    assert result.rows == 12

    code = show(db, "0016070")
    assert (code.status, code.valid, code.billable) == (Status.ACTIVE, True, True)
    assert code.description == (
        "Bypass Cerebral Ventricle to Nasopharynx with Autologous Tissue Substitute, Open Approach"
    )
    assert code.short_description == "Bypass Cereb Vent to Nasophar with Autol Sub, Open Approach"
    assert code.release == result.release
    assert CodeLookup(db).find("0016070", ON) == code

    table = show(db, "001")
    assert (table.status, table.valid) == (Status.HEADER, False)
    assert table.description == "Central Nervous System and Cranial Nerves, Bypass"
    assert [c["code"] for c in table.children] == [
        "0016070",
        "0016071",
        "0016072",
        "0016073",
        "0016074",
        "0016075",
        "0016076",
        "0016077",
        "0016078",
        "001607A",
        "001607B",
    ]

    missing = show(db, "00160J0")  # a real PCS code, but not in the excerpt
    assert (missing.found, missing.status) == (False, Status.NOT_FOUND)


def test_importing_the_same_file_twice_does_nothing(db: Database, tmp_path: Path) -> None:
    first = load(db, ORDER)
    assert load(db, ORDER).already_loaded

    archive = tmp_path / "2023-ICD-10-PCS-Codes-File.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(ORDER, "icd10pcs_order_2023.txt")
        zipped.writestr("icd10pcs_order_addenda_2023.txt", "")
        zipped.writestr("icd10pcs_codes_2023.txt", "")
    again = load(db, archive)
    assert again.already_loaded and again.release == first.release


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("00007 0016075 7 Bypass", "not an order-file line"),
        ("00007 00160   1 Bypass", "'00160' is not an ICD-10-PCS code (a valid code has 7"),
        ("00007 0016075 0 Bypass", "'0016075' is not an ICD-10-PCS table (a header has 3"),
    ],
)
def test_a_bad_line_fails_and_changes_nothing(
    db: Database, tmp_path: Path, line: str, message: str
) -> None:
    load(db, ORDER)
    lines = ORDER.read_text().splitlines()
    assert lines[7].startswith("00007 0016075 1 ")
    lines[7] = line + lines[7][len(line) :]
    bad = tmp_path / "icd10pcs_order_2024.txt"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(CodeImportError) as error:
        load(db, bad)
    assert str(error.value).startswith(f"icd10pcs_order_2024.txt line 8: {message}")
    assert "\n" not in str(error.value)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(CodeRelease)) == 1
        assert session.scalar(select(func.count()).select_from(CodeEntry)) == 12
    assert show(db, "0016075", date(2024, 3, 1)).valid


def test_the_year_comes_from_the_name_or_the_operator(db: Database, tmp_path: Path) -> None:
    unnamed = tmp_path / "pcs.txt"
    unnamed.write_bytes(ORDER.read_bytes())
    with pytest.raises(CodeImportError, match="--effective"):
        load(db, unnamed)
    stated = load(db, unnamed, ImportOptions(version="FY2023", effective=date(2022, 10, 1)))
    assert stated.release["version"] == "FY2023"
