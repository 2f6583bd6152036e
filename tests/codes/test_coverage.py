"""Medicare Coverage Database exports: imported as CMS publishes them, asked by date and place.

The exports are CONSTRUCTED (../shared/data/PROVENANCE.md): two Part B MACs
(99101 for FL and PR, 99202 for TX and OK), a DME MAC (99303) for five
states, an article whose version 1 was retired on 2026-06-30 and whose
version 2 no longer covers M17.9, modifier groups, and a screening article
whose group 2 needs a second diagnosis. Tests may assert these values;
nothing may show them to a user as real.
"""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select

from consultant.codes.cms_edits import CmsEditLookups
from consultant.codes.coverage import CoverageLookups, Jurisdiction
from consultant.codes.coverage_tables import McdDocument, McdGroup
from consultant.codes.importers import importer_for
from consultant.codes.importing import ImportOptions, ImportResult, import_release
from consultant.codes.sources import CodeImportError
from consultant.codes.tables import CodeRelease
from consultant.db import Database
from tests.support.corpus import (
    ARTICLES_ZIP,
    COVERAGE_FILES,
    LCDS_ZIP,
    PTP_FILE,
)
from tests.support.mcd import changed, set_cell, tables, write_export

ON = date(2026, 11, 2)
FL = Jurisdiction(state="FL")


def load(db: Database, kind: str, path: Path, **options: object) -> ImportResult:
    return import_release(db, importer_for(kind), [path], ImportOptions(**options))


def coverage(db: Database, code: str, *dx: str, **kwargs: object) -> dict:
    result = CoverageLookups(CmsEditLookups(db)).coverage(code, list(dx), **kwargs)  # type: ignore[arg-type]
    return result.as_dict()


def answers(result: dict) -> dict[str, dict[str, str]]:
    """{article: {diagnosis: status}}."""
    return {
        f"{a['display_id']} v{a['version']}": {d["code"]: d["status"] for d in a["diagnoses"]}
        for a in result["articles"]
    }


@pytest.fixture
def loaded(db: Database) -> Database:
    for kind, path in COVERAGE_FILES:
        load(db, kind, path)
    return db


# -- importing ---------------------------------------------------------------


def test_article_export_is_one_release_of_every_table(db: Database) -> None:
    result = load(db, "mcd-articles", ARTICLES_ZIP)
    assert result.release | {"id": 0} == {
        "id": 0,
        "kind": "mcd-article",
        "setting": None,
        "version": "current_article 2026-09-30",
        "effective": "2026-09-30",
        "source": "current_article_csv.zip",
    }
    with db.session() as session:
        release = session.scalars(select(CodeRelease)).one()
        assert release.details["tables"] == {
            "mcd_contractor": 3,
            "mcd_jurisdiction": 9,
            "mcd_document": 5,
            "mcd_document_contractor": 5,
            "mcd_link": 3,
            f"mcd_code_r{release.id}": 44,  # 14 procedure codes, 20 + 3 diagnoses, 7 modifiers
            "mcd_group": 16,
        }
        statuses = session.execute(
            select(McdDocument.display_id, McdDocument.version, McdDocument.status)
            .where(McdDocument.document_id == 90001)
            .order_by(McdDocument.version)
        ).all()
        assert statuses == [("A90001", 1, "R"), ("A90001", 2, "A")]


def test_same_export_twice_changes_nothing(db: Database) -> None:
    first = load(db, "mcd-articles", ARTICLES_ZIP)
    again = load(db, "mcd-articles", ARTICLES_ZIP)
    assert again.already_loaded and again.release == first.release


def test_paragraph_html_is_kept_as_plain_text(db: Database, tmp_path: Path) -> None:
    html = (
        "<p>Report <strong>RT</strong> or LT &amp; document the side.</p>"
        "<ul><li>knee</li><li>hip</li></ul>"
    )
    export = changed(
        ARTICLES_ZIP,
        tmp_path / "current_article.zip",
        "article_x_icd10_covered_group",
        lambda t: set_cell(t, {"article_id": "90001", "article_version": "2"}, "paragraph", html),
    )
    load(db, "mcd-articles", export)
    (article,) = coverage(db, "20610", "M17.11", on=ON, jurisdiction=FL)["articles"]
    paragraph = article["diagnoses"][0]["groups"][0]["paragraph"]
    assert "Report RT or LT & document the side." in paragraph
    assert "<" not in paragraph and "knee" in paragraph.splitlines()[-2]


def test_fields_larger_than_the_csv_default_limit_load(db: Database, tmp_path: Path) -> None:
    huge = "<p>" + "Constructed requirement text. " * 12_000 + "</p>"  # 360,000 characters
    export = changed(
        ARTICLES_ZIP,
        tmp_path / "current_article.zip",
        "article_x_hcpc_code_group",
        lambda t: set_cell(t, {"article_id": "90002"}, "paragraph", huge),
    )
    load(db, "mcd-articles", export)
    with db.session() as session:
        paragraph = session.scalar(select(McdGroup.paragraph).where(McdGroup.document_id == 90002))
    assert paragraph is not None and len(paragraph) > 300_000


def test_columns_are_found_by_header_name(db: Database, tmp_path: Path) -> None:
    inner, read = tables(ARTICLES_ZIP)
    for name in ("article", "article_x_icd10_covered", "contractor_jurisdiction"):
        read[name] = [list(reversed(row)) for row in read[name]]
    load(db, "mcd-articles", write_export(tmp_path / "current_article.zip", inner, read))
    result = coverage(db, "20610", "M17.11", "M17.9", on=ON, jurisdiction=FL)
    assert answers(result) == {"A90001 v2": {"M17.11": "covered", "M17.9": "noncovered"}}


def test_the_inner_zip_alone_imports_too(db: Database, tmp_path: Path) -> None:
    inner, read = tables(ARTICLES_ZIP)
    flat = write_export(tmp_path / inner, inner, read, flat=True)
    assert load(db, "mcd-articles", flat).release["source"] == "current_article_csv.zip"


def test_a_corrupt_zip_leaves_the_previous_release_in_force(db: Database, tmp_path: Path) -> None:
    load(db, "mcd-articles", ARTICLES_ZIP)
    inner, read = tables(ARTICLES_ZIP)
    read["article"] = set_cell(read["article"], {}, "last_updated", "2026-11-30 00:00:00")
    newer = write_export(tmp_path / "current_article.zip", inner, read).read_bytes()
    broken = tmp_path / "broken" / "current_article.zip"
    broken.parent.mkdir()
    broken.write_bytes(newer[: len(newer) // 2])
    with pytest.raises(CodeImportError, match=r"current_article\.zip: damaged or not a zip"):
        load(db, "mcd-articles", broken)
    # the inner zip damaged, the outer one whole
    damaged = tmp_path / "damaged.zip"
    with zipfile.ZipFile(damaged, "w") as archive:
        archive.writestr(inner, b"PK\x03\x04 not really a zip")
    with pytest.raises(CodeImportError, match=r"current_article_csv\.zip: damaged zip"):
        load(db, "mcd-articles", damaged)
    with db.session() as session:
        assert session.scalar(select(func.count(CodeRelease.id))) == 1
    assert answers(coverage(db, "20610", "M17.9", on=ON, jurisdiction=FL)) == {
        "A90001 v2": {"M17.9": "noncovered"}
    }


def test_a_bad_row_names_its_table_and_line_and_loads_nothing(db: Database, tmp_path: Path) -> None:
    export = changed(
        ARTICLES_ZIP,
        tmp_path / "current_article.zip",
        "contractor_jurisdiction",
        lambda t: set_cell(t, {"contractor_id": "1002", "state_id": "38"}, "state_id", "77"),
    )
    with pytest.raises(CodeImportError) as raised:
        load(db, "mcd-articles", export)
    assert str(raised.value) == (
        "current_article_csv.zip/contractor_jurisdiction.csv line 5: "
        "state_id '77' is not in state_lookup.csv"
    )
    with db.session() as session:
        assert session.scalar(select(func.count(CodeRelease.id))) == 0
        assert session.scalar(select(func.count()).select_from(McdDocument)) == 0
    assert not [t for t in inspect(db.engine).get_table_names() if t.startswith("mcd_code_r")]


def test_a_file_of_another_kind_is_refused(db: Database, tmp_path: Path) -> None:
    with pytest.raises(CodeImportError, match="not a zip"):
        load(db, "mcd-articles", PTP_FILE)
    with pytest.raises(
        CodeImportError, match=r"not a Medicare Coverage Database article download: no article\.csv"
    ):
        load(db, "mcd-articles", LCDS_ZIP)


def test_lcd_export_keeps_texts_and_links(loaded: Database) -> None:
    result = coverage(loaded, "20610", on=ON, jurisdiction=FL)
    (article,) = result["articles"]
    (lcd,) = article["lcds"]
    assert lcd["id"] == "L90001" and lcd["version"] == 3
    assert lcd["utilization"] == (
        "Constructed utilization guidance: at most one injection per joint per 3 months."
    )
    assert lcd["documentation"] == "Constructed documentation requirements."
    assert lcd["url"].endswith("lcdid=90001")
    assert result["lcd_release"]["version"] == "current_lcd 2026-09-30"


# -- lookups -----------------------------------------------------------------


def test_coverage_follows_the_article_version_in_force(loaded: Database) -> None:
    before = coverage(loaded, "20610", "M17.9", on=date(2026, 5, 2), jurisdiction=FL)
    after = coverage(loaded, "20610", "M17.9", on=ON, jurisdiction=FL)
    assert answers(before) == {"A90001 v1": {"M17.9": "covered"}}
    assert answers(after) == {"A90001 v2": {"M17.9": "noncovered"}}
    (article,) = after["articles"]
    assert article["diagnoses"][0]["groups"] == [
        {
            "group": 1,
            "paragraph": "Group 1: unspecified osteoarthritis of the knee does not support "
            "medical necessity; report laterality.",
        }
    ]
    assert after["other_versions"] == ["A90001 v1 (2025-10-01 to 2026-06-30)"]


def test_the_jurisdiction_chooses_the_article(loaded: Database) -> None:
    texas = coverage(loaded, "20610", "M17.9", on=ON, jurisdiction=Jurisdiction(state="TX"))
    by_mac = coverage(loaded, "20610", "M17.9", on=ON, jurisdiction=Jurisdiction(macs=("99101",)))
    everywhere = coverage(loaded, "20610", "M17.9", on=ON)
    assert answers(texas) == {"A90002 v1": {"M17.9": "not_listed"}}
    assert texas["elsewhere"] == ["A90001 v2"]
    assert answers(by_mac) == {"A90001 v2": {"M17.9": "noncovered"}}
    assert answers(everywhere) == {
        "A90001 v2": {"M17.9": "noncovered"},
        "A90002 v1": {"M17.9": "not_listed"},
    }
    assert everywhere["articles"][1]["contractors"] == [
        {
            "name": "Sample Government Health J-Y Part B",
            "number": "99202",
            "type": "A and B MAC",
            "states": ["OK", "TX"],
        }
    ]


def test_a_supply_is_answered_by_the_dme_mac_with_its_modifiers(loaded: Database) -> None:
    result = coverage(loaded, "E0601", "G47.33", on=ON, jurisdiction=FL)
    (article,) = result["articles"]
    assert article["display_id"] == "A90003"
    assert article["contractors"][0]["type"] == "DME MAC"
    assert article["diagnoses"][0]["status"] == "covered"
    assert article["modifiers"] == [
        {"group": 1, "modifiers": ["KH", "KI", "KJ", "KX", "RR"], "paragraph": ""}
    ]
    assert "KX modifier once adherence is documented" in article["code_groups"][0]["paragraph"]
    assert [lcd["id"] for lcd in article["lcds"]] == ["L90003"]


def test_a_pairing_names_only_diagnoses_the_article_covers(db: Database, tmp_path: Path) -> None:
    paragraph = (
        "<p>Group 2: high risk screening; report with one of Z12.11, A9552 or B12 as the "
        "secondary diagnosis.</p>"
    )
    export = changed(
        ARTICLES_ZIP,
        tmp_path / "current_article.zip",
        "article_x_icd10_covered_group",
        lambda t: set_cell(
            t, {"article_id": "90004", "icd10_covered_group": "2"}, "paragraph", paragraph
        ),
    )
    load(db, "mcd-articles", export)
    (article,) = coverage(db, "G0105", "Z80.0", on=ON, jurisdiction=FL)["articles"]
    assert article["diagnoses"][0]["with_codes"] == ["Z12.11"]  # not A95.52 nor B12


def test_a_senders_part_b_mac_and_state_find_the_dme_article(loaded: Database) -> None:
    where = Jurisdiction(state="FL", macs=("99101",))
    assert answers(coverage(loaded, "E0601", "G47.33", on=ON, jurisdiction=where)) == {
        "A90003 v1": {"G47.33": "covered"}
    }


def test_a_damaged_member_names_the_export(db: Database, tmp_path: Path) -> None:
    inner, read = tables(ARTICLES_ZIP)
    good = write_export(tmp_path / "good.zip", inner, read, flat=True).read_bytes()
    with zipfile.ZipFile(tmp_path / "good.zip") as archive:
        info = archive.getinfo("article_x_icd10_covered.csv")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    damaged = bytearray(good)
    damaged[start] ^= 0xFF  # the first byte of the deflated data
    (tmp_path / inner).write_bytes(bytes(damaged))
    with pytest.raises(CodeImportError, match=r"current_article_csv\.zip.*damaged zip file"):
        load(db, "mcd-articles", tmp_path / inner)
    with db.session() as session:
        assert session.scalar(select(func.count(CodeRelease.id))) == 0


def test_a_group_can_need_a_second_diagnosis(loaded: Database) -> None:
    (article,) = coverage(loaded, "G0105", "Z86.010", on=ON, jurisdiction=FL)["articles"]
    (diagnosis,) = article["diagnoses"]
    assert (diagnosis["status"], diagnosis["with_codes"]) == ("covered", ["Z12.11"])
    assert "secondary diagnosis" in diagnosis["groups"][0]["paragraph"]


def test_covered_groups_answer_for_the_procedure_group_of_their_number(
    loaded: Database,
) -> None:
    drug = coverage(loaded, "J7321", "M17.11", "M19.011", "M17.9", "Z00.00", on=ON, jurisdiction=FL)
    # M19.011 is covered for the group 1 procedures only; the non-covered list (M17.9,
    # Z00.00, group 1) applies to the whole article.
    assert answers(drug) == {
        "A90001 v2": {
            "M17.11": "covered",
            "M19.011": "not_listed",
            "M17.9": "noncovered",
            "Z00.00": "noncovered",
        }
    }
    (article,) = drug["articles"]
    assert article["diagnoses"][0]["groups"][0]["group"] == 2
    assert article["diagnoses"][1]["other_groups"] == [1]


def test_diagnoses_are_matched_with_or_without_their_dot(loaded: Database) -> None:
    result = coverage(loaded, "20610", "M1711", on=ON, jurisdiction=FL)
    assert answers(result) == {"A90001 v2": {"M17.11": "covered"}}


def test_ncds_by_title_and_by_section(loaded: Database) -> None:
    described = coverage(
        loaded,
        "G0105",
        on=ON,
        description="Colorectal cancer screening; colonoscopy on individual at high risk",
    )
    named = coverage(loaded, "E0601", on=ON, ncd_sections=("240.4",))
    assert [(n["section"], n["matched_by"]) for n in described["ncds"]] == [("210.3-X", "title")]
    assert [(n["section"], n["matched_by"]) for n in named["ncds"]] == [("240.4-X", "section")]
    assert "every 24 months at high risk" in described["ncds"][0]["indications"]


def test_nothing_loaded_says_so_and_lists_nothing(db: Database) -> None:
    result = coverage(db, "20610", "M17.9", on=ON, jurisdiction=FL)
    assert result["articles"] == [] and result["release"] is None
    assert result["message"] == "no Medicare Coverage Database articles are loaded for 2026-11-02"


def test_a_code_no_article_lists(loaded: Database) -> None:
    result = coverage(loaded, "99213", "I10", on=ON, jurisdiction=FL)
    assert result["articles"] == [] and result["elsewhere"] == [] and result["message"] is None
