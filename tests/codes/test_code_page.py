"""Code pages and code search over the real sample files, on SQLite and PostgreSQL.

The NCCI, MUE, add-on and PFS files in ../shared/data/constructed hold
made-up values in the published layouts (see PROVENANCE.md): the tests
assert them, nothing presents them as real. ICD-10-CM and HCPCS are real
excerpts. CPT descriptors are made up by the tests, as in test_cpt.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import delete

from consultant.cli import main
from consultant.codes.code_page import PTP_PAGE, CodePage, code_page
from consultant.codes.entries import Status
from consultant.codes.importers import importer_for
from consultant.codes.importing import ImportOptions, import_release
from consultant.codes.lookup import CodeLookup
from consultant.codes.search import SearchMode, search_codes
from consultant.codes.tables import CodeRelease
from consultant.db import Database
from tests.support.corpus import (
    AOC_FILE,
    COVERAGE_FILES,
    DATA,
    HCPCS_ZIP,
    MUE_FILE,
    NCD_ZIP,
    PAYMENT_FILES,
    PFS_2027_FILE,
    PFS_FILE,
    PTP_FILE,
)

ON = date(2026, 11, 2)
JAN_2027 = date(2027, 1, 15)
TABULAR = DATA / "cdc" / "icd10cm_tabular_April2026_excerpt.xml"
ORDER_2025 = DATA / "cdc" / "icd10cm_order_April2025_excerpt.txt"

# Words a page must never use about a code the data does not list.
NEGATIVES = ("invalid", "not a valid", "does not exist", "no such code")


def load(db: Database, kind: str, *paths: Path, **options: object) -> None:
    import_release(db, importer_for(kind), list(paths), ImportOptions(**options))


def page_of(db: Database, code: str, on: date = ON, **options: object) -> CodePage:
    page = code_page(CodeLookup(db), code, on, **options)  # type: ignore[arg-type]
    assert page is not None
    return page


@pytest.fixture
def cms(db: Database) -> Database:
    """The CMS edit files: PTP (practitioner), MUE, add-on, PFS October 2026 and January 2027."""
    for kind, path in (
        ("ncci-ptp", PTP_FILE),
        ("mue", MUE_FILE),
        ("aoc", AOC_FILE),
        ("pfs", PFS_FILE),
        ("pfs", PFS_2027_FILE),
    ):
        load(db, kind, path)
    return db


@pytest.fixture
def icd(db: Database) -> Database:
    """ICD-10-CM: the April 2025 order file excerpt and the April 2026 tabular excerpt."""
    load(db, "icd10cm", ORDER_2025)
    load(db, "icd10cm", TABULAR)
    return db


def wide_ptp_file(tmp_path: Path, as_column1: int, as_column2: int) -> Path:
    """The published PTP layout with 20610 in ``as_column1`` edits as column 1 and
    ``as_column2`` as column 2, against made-up partner codes."""
    preamble = PTP_FILE.read_bytes().split(b"\r\n")[:6]
    rows = [
        f"20610\t{70000 + n}\t\t20150101\t*\t{n % 2}\tMutually exclusive procedures"
        for n in range(as_column1)
    ]
    rows += [
        f"{80000 + n}\t20610\t\t20150101\t*\t1\tStandards of medical / surgical practice"
        for n in range(as_column2)
    ]
    rows.append("20610\t69999\t\t20150101\t20151231\t1\tMutually exclusive procedures")
    path = tmp_path / "ccipra-v323r0-f1.TXT"
    path.write_bytes(b"\r\n".join([*preamble, *(r.encode("latin-1") for r in rows)]) + b"\r\n")
    return path


def says_nothing_negative(text: str) -> bool:
    return not any(word in text.lower() for word in NEGATIVES)


# -- procedure codes: the CMS files, with or without CPT descriptors ---------------------------


@pytest.mark.usefixtures("cms")
def test_a_cpt_code_without_cpt_data_shows_what_the_cms_files_say(db: Database) -> None:
    page = page_of(db, "29880")

    assert (page.system, page.entry.status) == ("CPT", Status.NO_DATA)
    assert "No CPT release is loaded" in page.summary and "AMA" in page.summary
    assert says_nothing_negative(page.summary)
    (section,) = page.ptp
    assert (section.setting, section.release["version"]) == ("practitioner", "v323r0")
    first, second = section.listings["column1"], section.listings["column2"]
    assert [(e.column1, e.column2, e.modifier_indicator) for e in first.edits] == [
        ("29880", "29877", 1)
    ]
    assert [(e.column1, e.column2, e.modifier_indicator) for e in second.edits] == [
        ("29881", "29880", 0)
    ]
    assert second.edits[0].rationale == "Mutually exclusive procedures"
    assert second.edits[0].effective == "2012-01-01"
    assert {e.release["kind"] for e in first.edits + second.edits} == {"ncci-ptp"}
    (mue,) = page.mue
    assert not mue.found and mue.release["version"] == "Eff 10-01-2026"
    assert page.addon is not None and not page.addon.is_addon and page.addon.addons == []
    assert [m.what for m in page.missing] == [
        "NCCI PTP edits (hospital)",
        "Medicare coverage",
        "payment localities",
        "clinical lab fee schedule",
    ]


@pytest.mark.usefixtures("cms")
def test_add_on_mue_and_fee_schedule_indicators_each_cite_their_release(db: Database) -> None:
    page = page_of(db, "64494")

    (mue,) = page.mue
    assert (mue.value, mue.adjudication_indicator, mue.rationale) == (
        1,
        2,
        "Code Descriptor / CPT Instruction",
    )
    assert page.addon is not None
    assert (page.addon.is_addon, page.addon.primaries, page.addon.addons) == (
        True,
        ["64493"],
        ["64495"],
    )
    assert page.addon.release["kind"] == "aoc"
    (pfs,) = page.pfs
    assert pfs.indicators["global_days"] == "ZZZ" and pfs.indicators["status"] == "A"
    assert pfs.meanings["status"].startswith("active")
    assert pfs.release["version"] == "2026-Oct-nonQPP"


@pytest.mark.usefixtures("cms")
def test_fee_schedule_rows_per_modifier_from_the_release_in_force(db: Database) -> None:
    october = page_of(db, "93000")
    assert [(p.modifier, p.release["version"]) for p in october.pfs] == [
        ("", "2026-Oct-nonQPP"),
        ("26", "2026-Oct-nonQPP"),
    ]
    january = page_of(db, "93000", date(2027, 2, 1))
    (pfs,) = january.pfs
    assert (pfs.release["version"], pfs.indicators["pctc"]) == ("2027-Jan-nonQPP", "9")
    assert "does not apply" in pfs.meanings["pctc"]


@pytest.mark.usefixtures("cms")
def test_edits_outside_their_dates_are_counted_apart_and_listed_on_request(
    db: Database,
) -> None:
    page = page_of(db, "64494")
    second = page.ptp[0].listings["column2"]
    assert (second.total, second.outside_dates, second.edits) == (0, 1, [])

    outside = page_of(db, "64494", ptp_in_force=False).ptp[0].listings["column2"]
    (edit,) = outside.edits
    assert (edit.column1, edit.deletion, edit.modifier_indicator) == ("64493", "2010-12-31", 9)

    in_2010 = page_of(db, "64494", date(2010, 6, 1)).ptp[0].listings["column2"]
    assert in_2010.total == 1

    # Two windows of one pair: the later one is in force, the earlier one is not.
    pair = page_of(db, "17000").ptp[0].listings["column1"]
    assert [(e.effective, e.deletion) for e in pair.edits] == [("2005-01-01", None)]
    assert pair.outside_dates == 1


def test_a_code_in_thousands_of_edits_is_paged_with_counts(db: Database, tmp_path: Path) -> None:
    load(db, "ncci-ptp", wide_ptp_file(tmp_path, as_column1=250, as_column2=120))

    first = page_of(db, "20610").ptp[0].listings
    assert (first["column1"].total, len(first["column1"].edits)) == (250, PTP_PAGE)
    assert (first["column2"].total, len(first["column2"].edits)) == (120, PTP_PAGE)
    assert first["column1"].outside_dates == 1
    assert [e.column2 for e in first["column1"].edits[:2]] == ["70000", "70001"]

    last = page_of(db, "20610", ptp_offsets={"practitioner-column1": 200}).ptp[0]
    column1 = last.listings["column1"]
    assert (column1.offset, len(column1.edits)) == (200, 50)
    assert column1.edits[-1].column2 == "70249"
    assert last.listings["column2"].offset == 0  # each list pages on its own


# -- Medicare coverage and payment: the constructed MCD exports and payment files ---------------

MEDICARE_FILES = COVERAGE_FILES + PAYMENT_FILES


@pytest.fixture
def medicare(db: Database) -> Database:
    """Coverage (articles, LCDs, NCDs) and payment (PFS, GPCI, localities, CLFS): made up."""
    for kind, path in MEDICARE_FILES:
        load(db, kind, path)
    return db


@pytest.mark.usefixtures("medicare")
def test_coverage_lists_the_articles_of_every_jurisdiction(db: Database) -> None:
    page = page_of(db, "20610")

    coverage = page.coverage
    assert coverage is not None and coverage.jurisdiction["state"] is None
    assert [(a.display_id, a.version) for a in coverage.articles] == [("A90001", 2), ("A90002", 1)]
    first, second = coverage.articles
    assert [(c["number"], c["states"]) for c in first.contractors] == [("99101", ["FL", "PR"])]
    assert [(c["number"], c["states"]) for c in second.contractors] == [("99202", ["OK", "TX"])]
    assert first.code_groups == [
        {"group": 1, "paragraph": "Group 1 Paragraph: the joint procedure codes below."}
    ]
    assert first.modifiers == [{"group": 1, "modifiers": ["LT", "RT"], "paragraph": ""}]
    assert [(lcd["id"], lcd["version"]) for lcd in first.lcds] == [("L90001", 3)]
    assert first.diagnoses == []  # a code page asks about no diagnosis
    assert coverage.other_versions == ["A90001 v1 (2025-10-01 to 2026-06-30)"]
    assert coverage.release is not None and coverage.release["kind"] == "mcd-article"
    assert [m.what for m in page.missing] == [
        "NCCI PTP edits (practitioner)",
        "NCCI PTP edits (hospital)",
        "MUE values",
        "add-on code edits",
        "payment localities",  # the GPCI file loaded is 2027's
    ]


def test_ncds_are_found_by_the_title_of_the_codes_description(db: Database) -> None:
    load(db, "hcpcs", HCPCS_ZIP)
    load(db, "ncd", NCD_ZIP)
    page = page_of(db, "G0105")
    assert (
        page.entry.description
        == "Colorectal cancer screening; colonoscopy on individual at high risk"
    )
    assert page.coverage is not None
    assert [(n["section"], n["matched_by"]) for n in page.coverage.ncds] == [("210.3-X", "title")]
    assert page.coverage.articles == []
    assert [m.what for m in page.missing if m.what in ("Medicare coverage articles", "LCDs")] == [
        "Medicare coverage articles",
        "LCDs",
    ]
    assert page_of(db, "E11.9").coverage is None  # a diagnosis has no coverage section


@pytest.mark.usefixtures("medicare")
def test_payment_national_and_in_the_locality_asked_for(db: Database) -> None:
    page = page_of(db, "71046", JAN_2027, locality="99101/04")

    payment = page.payment
    assert payment is not None
    assert [f.modifier for f in payment.national] == ["", "26", "TC"]
    national = payment.national[0]
    assert national.locality is None
    assert national.amounts["non_facility"]["amount"] == "33.46"  # (0.22 + 0.75 + 0.02) x 33.8012
    assert "not priced in that setting" in national.not_priced["facility"]
    assert payment.locality is not None and payment.locality["name"] == "MIAMI"
    professional = payment.local[1]
    assert (professional.modifier, professional.amounts["non_facility"]["amount"]) == (
        "26",
        "12.24",
    )
    assert professional.gpci_release is not None and professional.gpci_release["version"] == "2027"
    assert len(payment.choices) == 7
    assert {"value": "99101/04", "label": "FL: MIAMI (locality 04 of MAC 99101)"} in payment.choices
    assert payment.locality_message is None


@pytest.mark.usefixtures("medicare")
def test_a_locality_of_several_or_none_is_named_and_only_national_amounts_shown(
    db: Database,
) -> None:
    several = page_of(db, "20610", JAN_2027, locality="99").payment
    assert several is not None and several.local == [] and several.locality is None
    assert several.locality_message == "'99' matches 2 localities: choose one"
    none = page_of(db, "20610", JAN_2027, locality="Atlantis").payment
    assert none is not None and none.locality_message == "no locality matches 'Atlantis'"
    # national: (0.79 + 0.95 + 0.10) x 33.8012 = 1.84 x 33.8012 = 62.1942 -> 62.19
    assert none.national[0].amounts["non_facility"]["amount"] == "62.19"


@pytest.mark.usefixtures("medicare")
def test_a_lab_code_has_its_lab_fee_schedule_rate(db: Database) -> None:
    page = page_of(db, "36415", date(2026, 11, 15))
    assert page.payment is not None
    (fee,) = page.payment.national
    assert fee.clfs is not None and fee.clfs["rate"] == "3.00"
    assert fee.amounts == {} and fee.message == "36415 is not in the PFS 2026-Oct-nonQPP"
    # GPCIs are yearly: the 2027 file offers no locality for a date in 2026.
    assert page.payment.choices == [] and page.payment.gpci_release is None
    assert "payment localities" in [m.what for m in page.missing]
    later = page_of(db, "36415", date(2027, 2, 1))
    assert "the CLFS loaded (2026 Q4, from 2026-10-01) is not the quarter of 2027-02-01" in [
        m.reason for m in later.missing
    ]


# -- diagnosis codes: status, notes, parents and children, history -----------------------------


@pytest.mark.usefixtures("icd")
def test_an_icd10cm_code_with_its_notes_parents_and_sources(db: Database) -> None:
    page = page_of(db, "e119")

    assert (page.system, page.code, page.entry.status) == ("ICD-10-CM", "E11.9", Status.ACTIVE)
    assert page.entry.description == "Type 2 diabetes mellitus without complications"
    assert (
        page.summary
        == "Billable on 2026-11-02, as listed in ICD-10-CM 2026-04 (effective 2026-04-01)."
    )
    assert page.lineage is not None
    assert page.lineage.parents == [{"code": "E11", "description": "Type 2 diabetes mellitus"}]
    assert (page.lineage.sections, page.lineage.chapter) == (["E08-E13"], "E00-E89")
    notes = {group.kind: group.notes for group in page.notes}
    assert {
        "source": "E11.9",
        "text": "type 2 diabetes mellitus, without complications in remission (E11.A)",
    } in notes["excludes1"]
    assert {"source": "E11", "text": "type 1 diabetes mellitus (E10.-)"} in notes["excludes1"]
    assert {"source": "E11", "text": "insulin (Z79.4)"} in notes["use_additional_code"]
    assert [g.kind for g in page.notes][:2] == ["includes", "excludes1"]
    assert page.notes_release is not None and page.notes_release["version"] == "2026-04"
    assert page.ptp == [] and page.mue == [] and page.missing == []


@pytest.mark.usefixtures("icd")
def test_a_heading_lists_its_children_with_their_count(db: Database) -> None:
    page = page_of(db, "E11")

    assert page.entry.status == Status.HEADER
    assert "not valid on a claim by itself" in page.summary
    assert page.lineage is not None and page.lineage.children_total == 10
    assert page.lineage.children[0] == {
        "code": "E11.0",
        "description": "Type 2 diabetes mellitus with hyperosmolarity",
    }


@pytest.mark.usefixtures("icd")
def test_history_by_release_and_the_release_that_answers_for_the_date(db: Database) -> None:
    now = page_of(db, "A00.0")
    assert [(h.release["version"], h.listed, h.in_force) for h in now.history] == [
        ("2026-04", False, True),
        ("2025-04", True, False),
    ]
    assert now.history[1].description == "Cholera due to Vibrio cholerae 01, biovar cholerae"
    assert now.summary == (
        "Not listed in ICD-10-CM 2026-04 (effective 2026-04-01), the release that answers "
        "for 2026-11-02; last listed in ICD-10-CM 2025-04 (effective 2025-04-01)."
    )
    then = page_of(db, "A00.0", date(2025, 6, 1))
    assert then.entry.status == Status.ACTIVE
    assert [h.in_force for h in then.history] == [False, True]
    assert says_nothing_negative(now.summary) and says_nothing_negative(then.summary)


@pytest.mark.usefixtures("icd")
def test_a_code_no_loaded_release_lists_is_not_called_invalid(db: Database) -> None:
    page = page_of(db, "A15.0")

    assert page.entry.status == Status.NOT_FOUND
    assert page.summary.startswith("Not in the loaded releases: ICD-10-CM 2026-04")
    assert says_nothing_negative(page.summary)
    assert [h.listed for h in page.history] == [False, False]


@pytest.mark.usefixtures("icd")
def test_a_date_before_every_release_says_the_release_shown_is_not_in_force(
    db: Database,
) -> None:
    page = page_of(db, "A00.0", date(2019, 1, 1))
    assert "starts after 2019-01-01" in page.summary


def test_with_nothing_loaded_the_page_says_what_is_missing_and_nothing_else(
    db: Database,
) -> None:
    page = page_of(db, "29880")
    assert says_nothing_negative(page.summary)
    assert page.ptp == [] and page.mue == [] and page.pfs == [] and page.addon is None
    assert [m.what for m in page.missing] == [
        "NCCI PTP edits (practitioner)",
        "NCCI PTP edits (hospital)",
        "MUE values",
        "add-on code edits",
        "physician fee schedule indicators",
        "Medicare coverage",
        "Medicare payment",
    ]
    assert page.coverage is None and page.payment is None
    icd = page_of(db, "E11.9")
    assert icd.entry.status == Status.NO_DATA
    assert [m.what for m in icd.missing] == ["ICD-10-CM codes"]
    assert code_page(CodeLookup(db), "hello") is None


def test_a_hcpcs_code_also_readable_as_icd10cm(db: Database) -> None:
    load(db, "hcpcs", HCPCS_ZIP)
    page = page_of(db, "J1100", date(2020, 6, 1))
    assert (page.system, page.entry.description) == (
        "HCPCS",
        "Injection, dexamethasone sodium phosphate, 1 mg",
    )
    assert [(r.system, r.code, r.found) for r in page.readings] == [("ICD-10-CM", "J11.00", False)]
    other = page_of(db, "J1100", date(2020, 6, 1), system="ICD-10-CM")
    assert (other.system, other.code) == ("ICD-10-CM", "J11.00")


def test_cpt_descriptors_where_the_operator_imported_them(db: Database, tmp_path: Path) -> None:
    made_up = tmp_path / "my_cpt_2026.tsv"
    made_up.write_text("29880\tInvented knee words for a test, not AMA text\r\n")
    load(db, "cpt", made_up)

    page = page_of(db, "29880")
    assert page.entry.description == "Invented knee words for a test, not AMA text"
    assert page.summary == "Valid on 2026-11-02, as listed in CPT 2026 (effective 2026-01-01)."
    found = search_codes(CodeLookup(db).reader, "invented knee", ON)
    assert [(h.system, h.code) for h in found.hits] == [("CPT", "29880")]


# -- search -------------------------------------------------------------------------------------


@pytest.mark.usefixtures("icd")
def test_search_by_code_or_its_start_puts_the_code_itself_first(db: Database) -> None:
    reader = CodeLookup(db).reader
    result = search_codes(reader, "e11", ON, limit=5)
    assert result.mode == SearchMode.CODE
    assert [h.code for h in result.hits] == ["E11", "E11.0", "E11.00", "E11.01", "E11.1"]
    assert result.total > 5
    assert all(h.release["version"] == "2026-04" for h in result.hits)
    assert [h.code for h in search_codes(reader, "E119", ON).hits] == ["E11.9"]
    second = search_codes(reader, "E11", ON, limit=5, offset=5)
    assert second.hits[0].code not in {h.code for h in result.hits}


@pytest.mark.usefixtures("icd")
def test_search_by_words_ranks_the_best_matches_first(db: Database) -> None:
    reader = CodeLookup(db).reader
    result = search_codes(reader, "fracture radius", ON, limit=3)
    assert result.mode == SearchMode.WORDS and result.total > 1000
    # The short, precise descriptions before the long 7th-character variants.
    assert [(h.code, h.description) for h in result.hits] == [
        ("S52.12", "Fracture of head of radius"),
        ("S52.13", "Fracture of neck of radius"),
        ("S52.3", "Fracture of shaft of radius"),
    ]
    every_word = search_codes(reader, "diabetes kidney complications", ON)
    assert {h.code for h in every_word.hits} == {"E11.2", "E11.29"}
    # Words are prefixes, and inflections match: "diab" finds "diabetic" and "diabetes".
    assert "E11.9" in {h.code for h in search_codes(reader, "diab compl", ON, limit=50).hits}


@pytest.mark.usefixtures("icd")
def test_search_reads_only_the_release_in_force_on_the_date(db: Database) -> None:
    reader = CodeLookup(db).reader
    assert search_codes(reader, "cholera", ON).total == 0
    older = search_codes(reader, "cholera", date(2025, 6, 1))
    assert {h.code for h in older.hits} == {"A00", "A00.0", "A00.1", "A00.9"}
    assert {h.release["version"] for h in older.hits} == {"2025-04"}


@pytest.mark.usefixtures("icd")
@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced',
        "diabetes OR (",
        "NEAR(a b)",
        "col:value*",
        "a & !b | c:*",
        "'; DROP TABLE code_entry; --",
        "<script>alert(1)</script>",
        "\x00\u202e\ufffd",
        "x" * 5000,
        "...",
    ],
)
def test_search_syntax_in_the_query_is_only_words(db: Database, query: str) -> None:
    reader = CodeLookup(db).reader
    result = search_codes(reader, query, ON)
    assert result.mode in (SearchMode.WORDS, SearchMode.EMPTY)
    assert len(result.words) <= 8 and all(w.isalnum() for w in result.words)
    assert search_codes(reader, "E11.9", ON).total == 1


@pytest.mark.usefixtures("icd")
def test_a_release_removed_leaves_nothing_in_the_search(db: Database) -> None:
    reader = CodeLookup(db).reader
    assert search_codes(reader, "diabetes", ON).total > 0
    with db.session() as session:
        session.execute(delete(CodeRelease).where(CodeRelease.version == "2026-04"))
        session.commit()
    assert search_codes(reader, "diabetes", ON).total == 0
    load(db, "icd10cm", TABULAR)
    assert search_codes(reader, "diabetes", ON).total > 0


# -- the command line ---------------------------------------------------------------------------

Cli = Callable[..., Result]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> Cli:
    monkeypatch.setenv("CONSULTANT_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CONSULTANT_DATABASE_URL", database_url)
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(main, list(args), catch_exceptions=False)

    return run


@pytest.mark.usefixtures("cms")
def test_codes_show_prints_the_code_page(cli: Cli) -> None:
    text = cli("codes", "show", "29880", "--on", "2026-11-02").output
    assert text.startswith("CPT 29880: no data (as of 2026-11-02)\n")
    assert "29880 as column 1: 1 edit(s) in force on 2026-11-02" in text
    assert "    29877  modifier indicator 1; effective 2003-01-01" in text
    assert "    29881  modifier indicator 0; effective 2012-01-01" in text
    assert "source: ncci-ptp practitioner v323r0, effective 2026-10-01" in text
    assert "not loaded: NCCI PTP edits (hospital)" in text
    shown = json.loads(cli("codes", "show", "64494", "--on", "2026-11-02", "--json").output)
    assert (shown["code"], shown["status"]) == ("64494", "no_data")
    assert shown["addon"]["primaries"] == ["64493"]
    assert shown["mue"][0]["value"] == 1
    assert cli("codes", "show", "hello").exit_code == 1


@pytest.mark.usefixtures("medicare")
def test_codes_show_prints_coverage_and_payment(cli: Cli) -> None:
    text = cli("codes", "show", "20610", "--on", "2027-01-15").output
    assert "Medicare coverage of 20610 on 2027-01-15, in every jurisdiction\n" in text
    assert "Article A90001 v2 (Example Medicare Services J-X Part B): Billing and Coding" in text
    assert (
        "  contractor: Sample Government Health J-Y Part B (A and B MAC 99202), for OK, TX\n"
        in (text)
    )
    assert "  modifiers listed, group 1: LT, RT\n" in text
    assert (
        "Medicare physician fee schedule, 20610, national (no locality: every GPCI 1.000), "
        "on 2027-01-15; from PFS relative value file 2027-Jan-nonQPP" in text
    )
    assert "  non-facility (office): $62.19\n" in text
    assert "    (0.79 x 1.000 + 0.95 x 1.000 + 0.10 x 1.000) x 33.8012 = 62.19\n" in text
    shown = json.loads(cli("codes", "show", "20610", "--on", "2027-01-15", "--json").output)
    # facility: (0.79 + 0.41 + 0.10) x 33.8012 = 1.30 x 33.8012 = 43.9416 -> 43.94
    assert shown["payment"]["national"][0]["amounts"]["facility"]["amount"] == "43.94"
    assert [a["display_id"] for a in shown["coverage"]["articles"]] == ["A90001", "A90002"]


# -- the migration ------------------------------------------------------------------------------


def test_the_migration_indexes_what_was_loaded_before_it(sqlite_url: str) -> None:
    """Releases imported before 0006 become searchable, and their PTP tables get a column 2
    index, when it runs; downgrading removes both."""
    from alembic import command
    from sqlalchemy import inspect

    from consultant.db import alembic_config

    db = Database(sqlite_url)
    load(db, "icd10cm", TABULAR)
    load(db, "ncci-ptp", PTP_FILE)
    command.downgrade(alembic_config(sqlite_url), "0005")
    command.upgrade(alembic_config(sqlite_url), "head")

    assert search_codes(CodeLookup(db).reader, "diabetes kidney", ON).total == 3
    indexes = {i["name"] for i in inspect(db.engine).get_indexes("ptp_edit_r2")}
    assert indexes == {"ix_ptp_edit_r2_pair", "ix_ptp_edit_r2_column2"}
    db.dispose()
