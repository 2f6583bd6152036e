"""NCCI PTP, MUE, add-on and PFS files: imported as CMS publishes them, asked by date.

The values in these files are CONSTRUCTED (see ../shared/data/PROVENANCE.md):
the tests may assert them, nothing may show them to a user as real.
"""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, inspect, select

from consultant.codes.cms_edits import CmsEditLookups
from consultant.codes.importers import importer_for
from consultant.codes.importing import ImportOptions, ImportResult, import_release
from consultant.codes.sources import CodeImportError
from consultant.codes.tables import CodeRelease, ptp_table_name
from consultant.db import Database
from tests.support.corpus import AOC_FILE, MUE_FILE, PFS_FILE, PTP_FILE

ON = date(2026, 11, 2)


def load(db: Database, kind: str, *paths: Path, **options: object) -> ImportResult:
    return import_release(db, importer_for(kind), list(paths), ImportOptions(**options))


def releases(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count(CodeRelease.id)))


# -- NCCI PTP ----------------------------------------------------------------


def test_ptp_file_is_one_release_named_by_its_file(db: Database) -> None:
    result = load(db, "ncci-ptp", PTP_FILE)
    assert result.rows == 30 and not result.already_loaded
    assert result.release | {"id": 0} == {
        "id": 0,
        "kind": "ncci-ptp",
        "setting": "practitioner",
        "version": "v323r0",
        "effective": "2026-10-01",
        "source": "ccipra-v323r0-f1.TXT",
    }


def test_same_file_twice_changes_nothing(db: Database) -> None:
    first = load(db, "ncci-ptp", PTP_FILE)
    again = load(db, "ncci-ptp", PTP_FILE)
    assert again.already_loaded and again.release == first.release
    assert releases(db) == 1


def test_pair_found_in_either_order_with_its_indicator(db: Database) -> None:
    load(db, "ncci-ptp", PTP_FILE)
    lookups = CmsEditLookups(db)
    for a, b in (("29880", "29877"), ("29877", "29880")):
        (edit,) = lookups.ptp(a, b, ON).edits
        assert (edit.column1, edit.column2, edit.modifier_indicator) == ("29880", "29877", 1)
        assert edit.rationale == "Standards of medical / surgical practice"
        assert (edit.effective, edit.deletion) == ("2003-01-01", None)
        assert "59" in edit.modifier_meaning
        assert edit.release["version"] == "v323r0"


def test_no_edit_between_unrelated_codes(db: Database) -> None:
    load(db, "ncci-ptp", PTP_FILE)
    result = CmsEditLookups(db).ptp("99213", "11102", ON)
    assert result.edits == [] and result.release["version"] == "v323r0"


def test_deleted_edit_applies_only_inside_its_window(db: Database) -> None:
    load(db, "ncci-ptp", PTP_FILE)
    lookups = CmsEditLookups(db)
    assert [e.deletion for e in lookups.ptp("97110", "97140", date(2020, 6, 1)).edits] == [
        "2020-12-31"
    ]
    assert lookups.ptp("97110", "97140", date(2021, 1, 1)).edits == []


def test_pair_with_two_windows_answers_from_the_right_one(db: Database) -> None:
    load(db, "ncci-ptp", PTP_FILE)
    lookups = CmsEditLookups(db)
    (old,) = lookups.ptp("17000", "17281", date(2003, 5, 1)).edits
    (new,) = lookups.ptp("17000", "17281", ON).edits
    assert (old.effective, old.deletion) == ("1999-07-01", "2004-12-31")
    assert (new.effective, new.deletion) == ("2005-01-01", None)


def test_edit_deleted_the_day_it_took_effect_never_applies(db: Database) -> None:
    load(db, "ncci-ptp", PTP_FILE)
    result = CmsEditLookups(db).ptp("13121", "13120", date(1996, 1, 1))
    assert [(e.modifier_indicator, e.pre1996) for e in result.edits] == [(0, True)]
    assert [e.modifier_indicator for e in result.other_windows] == [9]


def test_all_parts_of_a_quarter_are_one_release(db: Database, tmp_path: Path) -> None:
    lines = PTP_FILE.read_bytes().split(b"\r\n")
    preamble, rows = lines[:6], [line for line in lines[6:] if line]
    for part, chunk in enumerate((rows[:15], rows[15:]), start=1):
        (tmp_path / f"ccipra-v323r0-f{part}.TXT").write_bytes(b"\r\n".join(preamble + chunk))
    result = load(db, "ncci-ptp", *sorted(tmp_path.glob("*.TXT")))
    assert result.rows == 30
    assert result.release["source"] == "ccipra-v323r0-f1.TXT, ccipra-v323r0-f2.TXT"
    assert len(CmsEditLookups(db).ptp("G0439", "G0438", ON).edits) == 1


def test_zip_as_cms_distributes_it(db: Database, tmp_path: Path) -> None:
    archive = tmp_path / "ccipra-v323r0-f1.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.write(PTP_FILE, PTP_FILE.name)
    assert load(db, "ncci-ptp", archive).rows == 30
    assert load(db, "ncci-ptp", PTP_FILE).already_loaded


def test_hospital_file_is_its_own_setting(db: Database, tmp_path: Path) -> None:
    hospital = tmp_path / "ccioph-v323r0-f1.TXT"
    hospital.write_bytes(PTP_FILE.read_bytes().replace(b"29880\t29877", b"29880\t29866"))
    load(db, "ncci-ptp", PTP_FILE)
    assert load(db, "ncci-ptp", hospital).release["setting"] == "hospital"
    lookups = CmsEditLookups(db)
    assert lookups.ptp("29880", "29866", ON, "hospital").edits
    assert not lookups.ptp("29880", "29866", ON, "practitioner").edits


def test_lookup_reads_the_release_in_force_on_the_date(db: Database, tmp_path: Path) -> None:
    load(db, "ncci-ptp", PTP_FILE)
    next_quarter = tmp_path / "ccipra-v330r0-f1.TXT"
    next_quarter.write_bytes(
        PTP_FILE.read_bytes().replace(b"\t*\t1\tStandards", b"\t*\t0\tStandards", 1)
    )
    assert load(db, "ncci-ptp", next_quarter).release["effective"] == "2027-01-01"
    lookups = CmsEditLookups(db)
    assert lookups.ptp("20956", "20902", ON).release["version"] == "v323r0"
    assert lookups.ptp("20956", "20902", ON).edits[0].modifier_indicator == 1
    assert lookups.ptp("20956", "20902", date(2027, 2, 1)).release["version"] == "v330r0"
    assert lookups.ptp("20956", "20902", date(2027, 2, 1)).edits[0].modifier_indicator == 0


def test_without_ptp_data_the_answer_says_so(db: Database) -> None:
    result = CmsEditLookups(db).ptp("29880", "29877", ON)
    assert result.release is None and result.edits == []
    assert result.message == "no NCCI PTP edits (practitioner) are loaded for 2026-11-02"


def _bad_copy(tmp_path: Path, old: bytes, new: bytes, name: str = "ccipra-v323r0-f1.TXT") -> Path:
    data = PTP_FILE.read_bytes()
    assert old in data
    target = tmp_path / name
    target.write_bytes(data.replace(old, new, 1))
    return target


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            b"20100101\t20101231",
            b"20100101\t20101331",
            "line 21: deletion date '20101331' is not a date (YYYYMMDD)",
        ),
        (b"20170101\t*\t1", b"20170101\t*\t7", "line 10: modifier indicator '7' is not 0, 1 or 9"),
    ],
)
def test_bad_line_names_file_and_line_and_changes_nothing(
    db: Database, tmp_path: Path, old: bytes, new: bytes, message: str
) -> None:
    previous = tmp_path / "previous"
    previous.mkdir()
    load(
        db,
        "ncci-ptp",
        _bad_copy(previous, b"G0439\tG0438", b"G0439\tG0437", "ccipra-v322r0-f1.TXT"),
    )
    bad = _bad_copy(tmp_path, old, new)
    with pytest.raises(CodeImportError) as error:
        load(db, "ncci-ptp", bad)
    assert str(error.value) == f"ccipra-v323r0-f1.TXT {message}"
    assert releases(db) == 1
    assert CmsEditLookups(db).ptp("G0439", "G0437", ON).release["version"] == "v322r0"
    tables = inspect(db.engine).get_table_names()
    assert [t for t in tables if t.startswith("ptp_edit_r")] == [ptp_table_name(1)]


def test_truncated_file_names_the_cut_line_and_changes_nothing(
    db: Database, tmp_path: Path
) -> None:
    data = PTP_FILE.read_bytes()
    cut = tmp_path / PTP_FILE.name
    cut.write_bytes(data[: data.index(b"20956\t20900") + len(b"20956\t209")])
    with pytest.raises(CodeImportError) as error:
        load(db, "ncci-ptp", cut)
    assert str(error.value) == (
        "ccipra-v323r0-f1.TXT line 8: expected 7 tab-separated columns, found 2"
    )
    assert releases(db) == 0
    assert not [t for t in inspect(db.engine).get_table_names() if t.startswith("ptp_edit_r")]


def test_wrong_kind_of_file_is_refused(db: Database) -> None:
    with pytest.raises(CodeImportError, match="this is not an NCCI PTP edit file"):
        load(db, "ncci-ptp", MUE_FILE)
    assert releases(db) == 0


def test_file_name_without_release_needs_options(db: Database, tmp_path: Path) -> None:
    renamed = tmp_path / "edits.txt"
    renamed.write_bytes(PTP_FILE.read_bytes())
    with pytest.raises(CodeImportError, match="pass --setting, --version and --effective"):
        load(db, "ncci-ptp", renamed)
    result = load(
        db,
        "ncci-ptp",
        renamed,
        setting="practitioner",
        version="v323r0",
        effective=date(2026, 10, 1),
    )
    assert result.rows == 30


# -- MUE ---------------------------------------------------------------------


def test_mue_value_indicator_and_rationale(db: Database) -> None:
    result = load(db, "mue", MUE_FILE)
    assert (result.rows, result.release["setting"], result.release["effective"]) == (
        24,
        "practitioner",
        "2026-10-01",
    )
    mue = CmsEditLookups(db).mue("J1100", ON)
    assert (mue.value, mue.adjudication_indicator, mue.rationale) == (40, 3, "Clinical: Data")
    assert mue.adjudication_meaning.startswith("date of service edit, clinical")
    line_edit = CmsEditLookups(db).mue("80053", ON)
    assert (line_edit.value, line_edit.adjudication_indicator) == (1, 1)


def test_mue_of_a_code_not_listed(db: Database) -> None:
    load(db, "mue", MUE_FILE)
    result = CmsEditLookups(db).mue("99999", ON)
    assert not result.found and result.message == "99999 has no MUE in Eff 10-01-2026"


def test_mue_for_another_setting_is_not_answered_from_practitioner(db: Database) -> None:
    load(db, "mue", MUE_FILE)
    result = CmsEditLookups(db).mue("J1100", ON, "hospital")
    assert result.release is None and "no MUE file (hospital)" in result.message


def test_mue_bad_indicator(db: Database, tmp_path: Path) -> None:
    bad = tmp_path / MUE_FILE.name
    bad.write_bytes(MUE_FILE.read_bytes().replace(b"J1100,40,3 Date", b"J1100,40,5 Date"))
    with pytest.raises(CodeImportError) as error:
        load(db, "mue", bad)
    assert str(error.value) == (
        f"{MUE_FILE.name} line 25: adjudication indicator "
        "'5 Date of Service Edit: Clinical' is not 1, 2 or 3"
    )
    assert releases(db) == 0


# -- add-on code edits -------------------------------------------------------


def test_addon_and_its_primaries(db: Database) -> None:
    assert load(db, "aoc", AOC_FILE).release["version"] == "2026Q4"
    lookups = CmsEditLookups(db)
    addon = lookups.addon("64495", ON)
    assert (addon.is_addon, addon.edit_types, addon.primaries) == (True, [1], ["64493", "64494"])
    primary = lookups.addon("64493", ON)
    assert (primary.is_addon, primary.addons) == (False, ["64494", "64495"])


def test_type_two_addon_has_contractor_defined_primaries(db: Database) -> None:
    load(db, "aoc", AOC_FILE)
    result = CmsEditLookups(db).addon("99100", ON)
    assert result.contractor_defined_primaries and result.primaries == []
    assert result.edit_types == [2]


def test_addon_edit_ended_by_its_deletion_date(db: Database) -> None:
    load(db, "aoc", AOC_FILE)
    lookups = CmsEditLookups(db)
    assert lookups.addon("33517", date(2019, 6, 1)).primaries == ["33533"]
    assert lookups.addon("33517", ON).is_addon is False


def test_addon_file_as_excel(db: Database, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    for line in AOC_FILE.read_text(encoding="latin-1").splitlines():
        sheet.append(line.split("\t"))
    book.save(tmp_path / "AOC_V2026Q4-MCR.xlsx")
    result = load(db, "aoc", tmp_path / "AOC_V2026Q4-MCR.xlsx")
    assert result.rows == 14
    assert CmsEditLookups(db).addon("20930", ON).primaries == ["22600"]


def test_addon_bad_julian_date(db: Database, tmp_path: Path) -> None:
    bad = tmp_path / AOC_FILE.name
    bad.write_bytes(AOC_FILE.read_bytes().replace(b"2021001", b"2021400", 1))
    with pytest.raises(
        CodeImportError, match=r"line \d+: effective date '2021400' is not a Julian"
    ):
        load(db, "aoc", bad)
    assert releases(db) == 0


# -- PFS relative value file ---------------------------------------------------


def test_pfs_indicators_without_descriptors(db: Database) -> None:
    assert load(db, "pfs", PFS_FILE).rows == 18
    result = CmsEditLookups(db).pfs("20956", on=ON)
    assert result.indicators | {"work_rvu": None} == {
        "status": "A",
        "global_days": "090",
        "pre_op": None,
        "intra_op": None,
        "post_op": None,
        "multiple_procedure": "2",
        "bilateral": "0",
        "assistant": "2",
        "co_surgeon": "1",
        "team_surgery": "0",
        "pctc": None,
        "work_rvu": None,
        "conversion_factor": 33.4009,
    }
    assert result.indicators["work_rvu"] == 38.0
    assert result.meanings["global_days"].startswith("90-day global period")
    assert set(result.global_modifiers) == {"24", "25", "57", "58", "78", "79"}


def test_pfs_code_with_modifier(db: Database) -> None:
    load(db, "pfs", PFS_FILE)
    lookups = CmsEditLookups(db)
    assert lookups.pfs("93000", "26", ON).found
    assert not lookups.pfs("93000", "TC", ON).found
    assert lookups.pfs("93000", "", ON).global_modifiers == {}


def test_pfs_bad_indicator(db: Database, tmp_path: Path) -> None:
    bad = tmp_path / PFS_FILE.name
    bad.write_bytes(PFS_FILE.read_bytes().replace(b"090,,,,2,0,1,0,0", b"090,,,,2,X,1,0,0", 1))
    with pytest.raises(CodeImportError, match="line 12: bilateral indicator 'X' is not a digit"):
        load(db, "pfs", bad)
    assert releases(db) == 0
