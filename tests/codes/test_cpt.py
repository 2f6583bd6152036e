"""CPT descriptors from the operator's own AMA-style files, on both databases.

CPT descriptors are the AMA's: every descriptor here is made up by the test,
in files laid out the way the AMA ships its data files.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from consultant.codes.importers.cpt import CptImporter
from consultant.codes.importing import ImportOptions, ImportResult, import_release
from consultant.codes.lookup import CodeLookup, CodeResult
from consultant.codes.sources import CodeImportError
from consultant.codes.systems import System
from consultant.codes.tables import CodeRelease
from consultant.db import Database

NOTICE = "Made-up descriptors for CaseConsultant tests. Not AMA text."
SHORT = {
    "99213": "FAKE VISIT SHORT",
    "10021": "FAKE NEEDLE SHORT",
    "0042T": "FAKE CAT III SHORT",
    "1000F": "FAKE CAT II SHORT ONLY",
}
MEDIUM = {
    "99213": "Fake visit, medium wording",
    "10021": "Fake needle step, medium wording",
    "0042T": "Fake category III, medium wording",
}
LONG = {
    "99213": "Invented long text for a visit code, written for a test",
    "10021": "Invented long text for a needle procedure, written for a test",
    "0042T": "Invented long text for a category III code, written for a test",
}
ON = date(2026, 3, 1)


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


@pytest.fixture
def three_files(tmp_path: Path) -> list[Path]:
    """The AMA's layout: a notice, then code and descriptor (a space in SHORTU, a tab else)."""
    return [
        write(tmp_path / "SHORTU.txt", [NOTICE, *(f"{c} {t}" for c, t in SHORT.items())]),
        write(tmp_path / "MEDU.txt", [NOTICE, *(f"{c}\t{t}" for c, t in MEDIUM.items())]),
        write(tmp_path / "LONGULT.txt", [NOTICE, "", *(f"{c}\t{t}" for c, t in LONG.items())]),
    ]


def load(db: Database, paths: list[Path], options: ImportOptions | None = None) -> ImportResult:
    return import_release(db, CptImporter(), paths, options)


def lookup(db: Database, code: str, on: date = ON) -> CodeResult:
    return CodeLookup(db).code(System.CPT, code, on)


def releases(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(CodeRelease)) or 0


def test_without_a_cpt_release_the_lookup_says_why(db: Database) -> None:
    result = lookup(db, "99213")

    assert (result.status, result.found) == ("no_data", False)
    assert result.message is not None
    assert "licensed by the AMA" in result.message
    assert "consultant codes import cpt" in result.message


def test_the_three_ama_files_merge_into_one_release(db: Database, three_files: list[Path]) -> None:
    with pytest.raises(CodeImportError, match=r"pass --effective"):
        load(db, three_files)

    result = load(db, three_files, ImportOptions(effective=date(2026, 1, 1)))

    assert (result.release["kind"], result.release["version"]) == ("cpt", "2026")
    assert result.release["effective"] == "2026-01-01"
    assert result.release["source"] == "SHORTU.txt, MEDU.txt, LONGULT.txt"
    assert result.rows == 4
    visit = lookup(db, "99213")
    assert (visit.system, visit.status, visit.valid) == ("CPT", "active", True)
    assert visit.description == LONG["99213"]
    assert visit.short_description == SHORT["99213"]
    assert visit.details == {"medium_description": MEDIUM["99213"]}
    assert lookup(db, "0042T").description == LONG["0042T"]
    # A code only the short file has is still described.
    assert lookup(db, "1000F").description == SHORT["1000F"]
    assert lookup(db, "99214").status == "not_found"
    again = load(db, three_files, ImportOptions(effective=date(2026, 1, 1)))
    assert again.already_loaded


def test_one_file_with_named_columns_takes_its_year_from_the_name(
    db: Database, tmp_path: Path
) -> None:
    rows = [
        "\t".join((str(1000 + n), code, SHORT[code], MEDIUM.get(code, ""), LONG.get(code, "")))
        for n, code in enumerate(SHORT)
    ]
    header = "Concept Id\tCPT Code\tShort Descriptor\tMedium Descriptor\tLong Descriptor"
    path = write(tmp_path / "cpt_descriptors_2025.txt", [header, *rows])

    result = load(db, [path])

    assert (result.release["version"], result.release["effective"]) == ("2025", "2025-01-01")
    assert result.rows == 4
    needle = lookup(db, "10021")
    assert needle.description == LONG["10021"]
    assert needle.short_description == SHORT["10021"]
    assert needle.details == {"medium_description": MEDIUM["10021"]}


def test_headerless_two_columns_are_code_and_descriptor(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path / "my_cpt_2026.tsv", [f"{c}\t{t}" for c, t in LONG.items()])

    load(db, [path])

    assert lookup(db, "99213").description == LONG["99213"]
    assert lookup(db, "99213").short_description is None


def test_a_file_saved_as_windows_1252_keeps_its_characters(db: Database, tmp_path: Path) -> None:
    text = "Invented text \u2013 with a dash, an \u00e9 and an ellipsis\u2026 for a test"
    path = tmp_path / "LONGULT_2026.txt"
    path.write_bytes(f"99213\t{text}\r\n10021\tSecond line\r\n".encode("cp1252"))

    load(db, [path])

    assert lookup(db, "99213").description == text
    assert lookup(db, "10021").description == "Second line"


def test_a_bad_line_is_refused_with_its_line_and_nothing_is_loaded(
    db: Database, three_files: list[Path]
) -> None:
    long_file = three_files[2]
    long_file.write_text(long_file.read_text() + "9921\tA code one digit short\r\n")

    with pytest.raises(CodeImportError) as refused:
        load(db, three_files, ImportOptions(effective=date(2026, 1, 1)))

    message = str(refused.value)
    assert message.startswith("LONGULT.txt line 6: expected a CPT code and 1 descriptor column")
    assert "\n" not in message
    assert releases(db) == 0
    assert lookup(db, "99213").status == "no_data"


def test_a_code_twice_in_one_file_is_refused(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path / "LONGULT2026.txt", ["99213\tFirst made-up text", "99213\tSecond"])

    with pytest.raises(CodeImportError, match=r"^LONGULT2026\.txt line 2: 99213 appears a second"):
        load(db, [path])

    assert releases(db) == 0


def test_two_files_of_the_same_length_are_refused(db: Database, tmp_path: Path) -> None:
    paths = [
        write(tmp_path / "LONGULT.txt", ["99213\tMade-up text"]),
        write(tmp_path / "LONGUT.txt", ["99213\tMADE-UP TEXT"]),
    ]

    with pytest.raises(CodeImportError, match="each hold one descriptor length"):
        load(db, paths, ImportOptions(effective=date(2026, 1, 1)))


def test_a_file_of_another_kind_is_refused(db: Database, tmp_path: Path) -> None:
    path = write(
        tmp_path / "ccipra-v323r0-2026.txt",
        ["Copyright line", "Column 1\tColumn 2\t*\tEffective", "99213\t0591T\t*\t20200101"],
    )

    with pytest.raises(CodeImportError, match=r"line 3: a file without a header row holds a code"):
        load(db, [path])

    assert releases(db) == 0
