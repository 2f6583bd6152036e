"""ICD-10-CM from the CDC tabular XML and the order file, on SQLite and PostgreSQL.

Real data only: the excerpts in ../shared/data/cdc and the full April 2026
tabular that ships inside the ``simple-icd-10-cm`` package.
"""

from __future__ import annotations

import shutil
import zipfile
from datetime import date
from importlib import metadata
from pathlib import Path

import pytest
from sqlalchemy import func, select

from consultant.codes.icd10cm_refs import references
from consultant.codes.importers.icd10cm import Icd10CmImporter, default_tabular, version_from_name
from consultant.codes.importing import ImportOptions, ImportResult, import_release
from consultant.codes.lookup import CodeLookup, CodeResult, Status
from consultant.codes.sources import CodeImportError
from consultant.codes.systems import System
from consultant.codes.tables import CodeEntry, CodeNote, CodeRelease
from consultant.db import Database
from tests.support.corpus import DATA

CDC = DATA / "cdc"
TABULAR = CDC / "icd10cm_tabular_April2026_excerpt.xml"
ORDER = CDC / "icd10cm_order_April2025_excerpt.txt"
APRIL_2026 = date(2026, 4, 1)
APRIL_2025 = date(2025, 4, 1)


def load(db: Database, path: Path, options: ImportOptions | None = None) -> ImportResult:
    return import_release(db, Icd10CmImporter(), [path], options)


def show(db: Database, code: str, on: date = APRIL_2026) -> CodeResult:
    return CodeLookup(db).code(System.ICD10CM, code, on)


def package_code_list() -> list[str]:
    """The codes of the package's own list (chapters and sections left out), in its order."""
    [listing] = [f for f in metadata.files("simple-icd-10-cm") or [] if "code-list" in str(f)]
    codes: list[str] = []
    for line in Path(str(listing.locate())).read_text().split():
        if "-" in line or line.isdigit() or (codes and codes[-1] == line):
            continue  # a chapter, a section, or a section named like its only category
        codes.append(line)
    return codes


@pytest.mark.parametrize("tabular", [TABULAR, default_tabular()], ids=["excerpt", "full"])
def test_codes_of_the_tabular(db: Database, tabular: Path) -> None:
    release = load(db, tabular).release
    assert (release["version"], release["effective"]) == ("2026-04", "2026-04-01")

    e119 = show(db, "E11.9")
    assert (e119.status, e119.valid, e119.billable) == (Status.ACTIVE, True, True)
    assert e119.description == "Type 2 diabetes mellitus without complications"
    assert e119.release == release
    assert CodeLookup(db).find("E119", APRIL_2026) == e119

    e11 = show(db, "E11")
    assert (e11.status, e11.valid) == (Status.HEADER, False)
    children = [child["code"] for child in e11.children]
    assert {"E11.0", "E11.6", "E11.9"} <= set(children)
    assert "E11.65" not in children  # a grandchild: named by E11.6

    built = show(db, "S52.521A")
    assert (built.status, built.valid, built.billable) == (Status.ACTIVE, True, True)
    assert built.description == (
        "Torus fracture of lower end of right radius, initial encounter for closed fracture"
    )
    assert built.details == {
        "base": "S52.521",
        "seventh": "A",
        "seventh_meaning": "initial encounter for closed fracture",
    }
    base = show(db, "S52.521")
    assert (base.status, base.billable) == (Status.HEADER, False)
    assert [c["code"] for c in base.children] == [f"S52.521{c}" for c in "ADGKPS"]
    assert show(db, "S52.521B").status == Status.NOT_FOUND  # torus fractures are never open

    # S52.90 has six characters with the dot's X placeholder: S52.90 + X + 7th character.
    placeholder = show(db, "S52.90XA")
    assert placeholder.valid
    assert placeholder.description == (
        "Unspecified fracture of unspecified forearm, initial encounter for closed fracture"
    )
    assert show(db, "S52.90A").status == Status.NOT_FOUND


def test_the_full_tabular_has_every_code_of_the_package_list(db: Database) -> None:
    path = default_tabular()
    installed = Path(str(metadata.distribution("simple-icd-10-cm").locate_file("simple_icd_10_cm")))
    assert path.is_relative_to(installed)

    result = load(db, path)
    listed = package_code_list()
    # The package's list is in tabular order: a code is billable when the next one
    # does not extend it (E11.9 after E11.8; S52.521A after S52.521).
    billable = {
        code
        for code, following in zip(listed, [*listed[1:], ""], strict=True)
        if not following.startswith(code)
    }
    with db.session() as session:
        rows = session.execute(
            select(CodeEntry.code, CodeEntry.billable).where(
                CodeEntry.release_id == result.release["id"]
            )
        ).all()
        notes = session.scalar(select(func.count()).select_from(CodeNote))
    assert len(billable) == 74_719
    assert {code.replace(".", "") for code, flag in rows if flag} == billable
    assert {code.replace(".", "") for code, _ in rows} == set(listed)
    assert len(rows) == 98_186
    assert result.rows == len(rows) + notes

    # T36.0X1: the X placeholder is part of the base code in the tabular itself.
    assert show(db, "T36.0X1A").description == (
        "Poisoning by penicillins, accidental (unintentional), initial encounter"
    )
    # T07 is a category of three characters: padded with XXX before the 7th character.
    assert show(db, "T07.XXXA").valid
    assert show(db, "T07").status == Status.HEADER
    # "7th characters D and S do not apply to codes in category S06 with 6th character 7 or 8"
    assert show(db, "S06.1X7A").valid
    assert show(db, "S06.1X7D").status == Status.NOT_FOUND
    assert show(db, "S06.1X6D").valid
    # QA0: the 2026 category whose second character is a letter.
    assert show(db, "QA0.0101").valid


def test_notes_of_a_code_include_its_ancestors(db: Database) -> None:
    load(db, TABULAR)
    answer = CodeLookup(db).icd10cm_notes("E11.9", APRIL_2026)
    assert answer.found and answer.release is not None
    assert answer.release["version"] == "2026-04"
    found = [(n.source, n.kind, n.text) for n in answer.notes]
    assert found[0] == (
        "E11.9",
        "excludes1",
        "type 2 diabetes mellitus, without complications in remission (E11.A)",
    )
    assert ("E11", "excludes1", "type 1 diabetes mellitus (E10.-)") in found
    assert ("E11", "use_additional_code", "insulin (Z79.4)") in found
    assert ("E11", "includes", "diabetes NOS") in found
    sources = list(dict.fromkeys(source for source, _, _ in found))
    assert sources == ["E11.9", "E11", "E00-E89"]  # nearest first; E08-E13 has none here
    chapter = [n for n in answer.notes if n.source == "E00-E89" and n.kind == "excludes1"]
    assert [n.text for n in chapter] == [
        "transitory endocrine and metabolic disorders specific to newborn (P70-P74)"
    ]

    seventh = CodeLookup(db).icd10cm_notes("S52.521A", APRIL_2026)
    kinds = {(n.source, n.kind) for n in seventh.notes}
    assert ("S52.52", "seven_chr_note") in kinds
    assert ("S52", "excludes1") in kinds

    missing = CodeLookup(db).icd10cm_notes("E10.9", APRIL_2026)
    assert (missing.found, missing.notes) == (False, [])
    assert missing.message == "not an ICD-10-CM code in 2026-04"


def test_excludes1_conflicts_of_the_full_tabular(db: Database) -> None:
    load(db, default_tabular())
    lookup = CodeLookup(db)

    answer = lookup.excludes1_conflicts(["E11.9", "E10.9", "I10"], APRIL_2026)
    assert answer.release is not None and answer.release["version"] == "2026-04"
    pairs = {(c.code, c.excluded, c.note_on, c.note, c.reference) for c in answer.conflicts}
    assert pairs == {
        ("E11.9", "E10.9", "E11", "type 1 diabetes mellitus (E10.-)", "E10.-"),
        ("E10.9", "E11.9", "E10", "type 2 diabetes mellitus (E11.-)", "E11.-"),
    }

    # Diabetes with its insulin status is what the tabular asks for: no conflict.
    assert lookup.excludes1_conflicts(["E11.9", "Z79.4", "I10"], APRIL_2026).conflicts == []

    # A note on a category reaches every code below it: R73 (E08-E13) vs E11.65.
    hyperglycemia = lookup.excludes1_conflicts(["R73.9", "E11.65"], APRIL_2026)
    assert [(c.code, c.excluded) for c in hyperglycemia.conflicts] == [("R73.9", "E11.65")]
    assert "(E08-E13)" in hyperglycemia.conflicts[0].note

    # A condition after the codes: "open skull fracture (S02.- with 7th character B)".
    closed = lookup.excludes1_conflicts(["S01.01XA", "S02.0XXA"], APRIL_2026)
    opened = lookup.excludes1_conflicts(["S01.01XA", "S02.0XXB"], APRIL_2026)
    assert closed.conflicts == []
    assert [(c.code, c.excluded, c.note_on, c.reference) for c in opened.conflicts] == [
        ("S01.01XA", "S02.0XXB", "S01", "S02.-")
    ]

    unknown = lookup.excludes1_conflicts(["E11.9", "E11.99"], APRIL_2026)
    assert (unknown.conflicts, unknown.not_found) == ([], ["E11.99"])


def test_a_header_with_no_notes(db: Database) -> None:
    load(db, default_tabular())
    answer = CodeLookup(db).icd10cm_notes("U07", APRIL_2026)
    assert (answer.found, answer.notes) == (True, [])
    assert show(db, "U07").status == Status.HEADER


TYPE_1 = "type 1 diabetes mellitus (E10.-)"
GESTATIONAL = "gestational diabetes (O24.4-)"
DIABETES = "diabetes mellitus (E08-E13)"
ATHEROSCLEROSIS = "atherosclerosis of the extremities (I70.2--I70.7-)"
ANGIOPATHY = "diabetic (peripheral) angiopathy (E08-E13 with .51-.52)"
ATAXIA = "ataxia following cerebrovascular disease (I69. with final characters -93)"
WHOOPING = "whooping cough with pneumonia (A37 with fifth-character 1)"
REMISSION = "leukemia in remission C91.0-C95.9 with 5th character 1"
NEPHRITIC = "Acute nephritic syndrome (with C3 glomerulopathy) with dense deposit disease (N00.6)"
ADVERSE = "specified adverse effects of drugs and medicaments (A00-R94 and T80-T88.6, T88.8)"


@pytest.mark.parametrize(
    ("note", "code", "named"),
    [
        (TYPE_1, "E10.9", True),
        (TYPE_1, "E11.9", False),
        (GESTATIONAL, "O24.410", True),
        (GESTATIONAL, "O24.3", False),
        (DIABETES, "E13.9", True),
        (DIABETES, "E14", False),
        (ATHEROSCLEROSIS, "I70.545", True),
        (ATHEROSCLEROSIS, "I70.8", False),
        (ANGIOPATHY, "E11.52", True),
        (ANGIOPATHY, "E11.59", False),
        (ATAXIA, "I69.393", True),
        (ATAXIA, "I69.398", False),
        (WHOOPING, "A37.01", True),
        (WHOOPING, "A37.00", False),
        (REMISSION, "C92.01", True),
        (REMISSION, "C92.00", False),
        (NEPHRITIC, "N00.6", True),
        (ADVERSE, "T88.7", False),
        (ADVERSE, "T88.8", True),
    ],
)
def test_codes_named_by_real_excludes1_notes(note: str, code: str, named: bool) -> None:
    assert any(r.matches(code) for r in references(note)) is named


def test_importing_the_same_file_twice_does_nothing(db: Database, tmp_path: Path) -> None:
    first = load(db, TABULAR)
    again = load(db, TABULAR)
    assert not first.already_loaded and again.already_loaded
    assert again.release == first.release and again.rows == first.rows

    # The zip CMS/CDC distribute holds the same content: the same release.
    archive = tmp_path / "icd10cm-table-index-April-2026.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.write(TABULAR, "icd10cm_tabular_April2026.xml")
        zipped.writestr("icd10cm_index_April2026.pdf", b"%PDF-1.4")
    assert load(db, archive).already_loaded
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(CodeRelease)) == 1


def _assert_one_line(error: pytest.ExceptionInfo[CodeImportError], prefix: str) -> None:
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(prefix), message


def test_truncated_xml_fails_and_leaves_the_previous_release(db: Database, tmp_path: Path) -> None:
    load(db, TABULAR)
    lines = TABULAR.read_text(encoding="utf-8").splitlines(keepends=True)
    cut = tmp_path / "icd10cm_tabular_October2026.xml"
    cut.write_text("".join(lines[:1500]) + lines[1500][:20], encoding="utf-8")
    with pytest.raises(CodeImportError) as error:
        load(db, cut)
    _assert_one_line(error, "icd10cm_tabular_October2026.xml line 1501: malformed or truncated XML")

    broken = tmp_path / "icd10cm_tabular_November2026.xml"
    lines[700] = lines[700].replace("</desc>", "</dsc>")
    broken.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(CodeImportError) as error:
        load(db, broken)
    _assert_one_line(error, "icd10cm_tabular_November2026.xml line 701: malformed")

    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(CodeRelease)) == 1
    assert show(db, "E11.9", date(2026, 12, 1)).release["source"] == TABULAR.name  # type: ignore[index]


def test_bad_order_file_line_fails_and_leaves_the_previous_release(
    db: Database, tmp_path: Path
) -> None:
    load(db, ORDER)
    lines = ORDER.read_text().splitlines(keepends=True)
    assert lines[11].startswith("00010 A0103   1 ")
    lines[11] = lines[11].replace("00010 A0103   1 ", "00010 A0103   7 ")
    bad = tmp_path / ORDER.name
    bad.write_text("".join(lines))
    with pytest.raises(CodeImportError) as error:
        load(db, bad)
    _assert_one_line(error, f"{ORDER.name} line 12: not an order-file line")
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(CodeRelease)) == 1
        assert session.scalar(select(func.count()).select_from(CodeEntry)) == 32
    assert show(db, "A01.03", APRIL_2025).description == "Typhoid pneumonia"


def test_a_file_of_another_kind_is_refused(db: Database, tmp_path: Path) -> None:
    hcpcs = tmp_path / "icd10cm_order_2026.txt"
    hcpcs.write_text("HCPCS 2026 alpha-numeric file\n0001A  ...\n")
    with pytest.raises(CodeImportError) as error:
        load(db, hcpcs)
    _assert_one_line(error, "icd10cm_order_2026.txt: neither the ICD-10-CM tabular XML nor")

    other_xml = tmp_path / "icd10cm_index_2026.xml"
    other_xml.write_text('<?xml version="1.0"?>\n<ICD10CM.index><version>2026</version>\n')
    with pytest.raises(CodeImportError) as error:
        load(db, other_xml)
    _assert_one_line(error, "icd10cm_index_2026.xml line 2: not an ICD-10-CM tabular")
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(CodeRelease)) == 0


@pytest.mark.parametrize(
    ("name", "version", "effective"),
    [
        ("icd10cm_tabular_April2026.xml", "2026-04", date(2026, 4, 1)),
        ("icd10c-tabular-April-1-2026.xml", "2026-04", date(2026, 4, 1)),
        ("icd10cm_order_April2025.txt", "2025-04", date(2025, 4, 1)),
        ("icd10cm_order_2026.txt", "FY2026", date(2025, 10, 1)),
        ("FY2026-ICD-10-CM-tabular.zip", "FY2026", date(2025, 10, 1)),
        ("icd10cm_tabular.xml", None, None),
    ],
)
def test_version_from_the_file_name(name: str, version: str | None, effective: date | None) -> None:
    named = version_from_name(name)
    assert named == ((version, effective) if version else None)


def test_version_from_the_xml_or_the_operator(db: Database, tmp_path: Path) -> None:
    unnamed = tmp_path / "tabular.xml"
    shutil.copyfile(TABULAR, unnamed)  # says <version>2026</version>: fiscal year 2026
    release = load(db, unnamed).release
    assert (release["version"], release["effective"]) == ("FY2026", "2025-10-01")

    order = tmp_path / "codes.txt"
    shutil.copyfile(ORDER, order)
    with pytest.raises(CodeImportError) as error:
        load(db, order)
    _assert_one_line(error, "codes.txt: neither the file name nor the file says")
    assert "--effective" in str(error.value)
    stated = ImportOptions(version="2025-04", effective=APRIL_2025)
    assert load(db, order, stated).release["effective"] == "2025-04-01"


def test_order_file_and_tabular_agree(db: Database) -> None:
    load(db, ORDER)
    load(db, default_tabular())
    codes = [
        line[6:13].strip() for line in ORDER.read_text().splitlines() if not line.startswith("#")
    ]
    assert len(codes) == 32
    for code in codes:
        ordered, tabular = show(db, code, APRIL_2025), show(db, code, APRIL_2026)
        assert ordered.release["source"] == ORDER.name  # type: ignore[index]
        assert (ordered.code, ordered.billable) == (tabular.code, tabular.billable), code
        assert ordered.description == tabular.description, code
    header = show(db, "A05", APRIL_2025)
    assert header.status == Status.HEADER
    assert [c["code"] for c in header.children] == ["A05.2"]  # the excerpt skips lines
    a0472 = show(db, "A04.72", APRIL_2025)
    assert a0472.short_description == "Enterocolitis d/t Clostridium difficile, not spcf as recur"


def test_tabular_answers_before_an_order_file_of_the_same_date(db: Database) -> None:
    load(db, TABULAR)
    load(db, ORDER, ImportOptions(effective=APRIL_2026, version="2026-04 order"))
    lookup = CodeLookup(db)
    assert lookup.code(System.ICD10CM, "E11.9", APRIL_2026).release["version"] == "2026-04"
    assert lookup.icd10cm_notes("E11.9", APRIL_2026).notes
