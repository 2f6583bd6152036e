"""Code search over the real sample files, on SQLite and PostgreSQL: modifiers, inclusion
terms, misspellings, the exact match first, code set and billable filters, hostile queries.

ICD-10-CM is the real April 2026 tabular excerpt (with its inclusion terms),
HCPCS Level II the real 2020 file (procedure codes and 369 modifiers),
ICD-10-PCS a real excerpt of the 2023 order file.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date

import psycopg
import pytest
from alembic import command
from sqlalchemy import delete, inspect

from consultant.codes import search_words
from consultant.codes.importers import importer_for
from consultant.codes.importing import import_release
from consultant.codes.lookup import CodeLookup
from consultant.codes.readonly import Reader
from consultant.codes.search import CodeSet, SearchMode, SearchResult, search_codes
from consultant.codes.tables import CodeRelease
from consultant.db import Database, alembic_config, upgrade
from tests.codes.test_code_page import TABULAR
from tests.support.corpus import DATA, HCPCS_ZIP

ON = date(2026, 11, 2)
PCS_ORDER = DATA / "cms" / "icd10pcs_order_2023_excerpt.txt"
XS_OFFICIAL = (
    "Separate structure, a service that is distinct because it was performed on a separate "
    "organ/structure"
)
KIMMELSTIEL = "Type 2 diabetes mellitus with Kimmelstiel-Wilson disease"


@pytest.fixture
def reader(db: Database) -> Reader:
    for kind, path in (("icd10cm", TABULAR), ("hcpcs", HCPCS_ZIP), ("icd10pcs", PCS_ORDER)):
        import_release(db, importer_for(kind), [path])
    return CodeLookup(db).reader


def found(result: SearchResult) -> list[tuple[str, str, str]]:
    return [(h.system, h.kind, h.code) for h in result.hits]


# -- modifiers ----------------------------------------------------------------------------------


def test_a_level_two_modifier_by_its_code_comes_first_with_its_official_text(
    reader: Reader,
) -> None:
    for query in ("XS", "xs", "-XS", "modifier xs", "Mod XS"):
        result = search_codes(reader, query, ON)
        first = result.hits[0]
        assert (first.system, first.kind, first.code) == ("HCPCS", "modifier", "XS"), query
        assert first.description == XS_OFFICIAL
        assert first.release is not None and first.release["version"] == "2020"


def test_a_cpt_modifier_is_found_with_our_own_summary_never_ama_text(reader: Reader) -> None:
    result = search_codes(reader, "25", ON)
    assert result.mode == SearchMode.CODE
    assert found(result)[0] == ("CPT", "modifier", "25")
    assert result.hits[0].release is None
    assert result.hits[0].description.startswith("An E/M service on the day of a procedure")
    named = search_codes(reader, "modifier 59", ON)
    assert (named.mode, named.words) == ("modifier", ["59"])
    assert found(named) == [("CPT", "modifier", "59")]


def test_modifiers_are_found_by_the_words_of_their_descriptions(reader: Reader) -> None:
    result = search_codes(reader, "left side", ON)
    assert ("HCPCS", "modifier", "LT") in found(result)
    modifiers = search_codes(reader, "left side", ON, sets=frozenset({CodeSet.MODIFIERS}))
    assert {h.kind for h in modifiers.hits} == {"modifier"}
    assert ("HCPCS", "modifier", "LT") in found(modifiers)
    codes_only = search_codes(reader, "left", ON, sets=frozenset({CodeSet.HCPCS}))
    assert codes_only.hits and {h.kind for h in codes_only.hits} == {"code"}
    assert search_codes(reader, "xs", ON, sets=frozenset({CodeSet.ICD10CM})).total == 0


# -- inclusion terms ----------------------------------------------------------------------------


def test_a_code_found_by_an_inclusion_term_shows_the_term(reader: Reader) -> None:
    result = search_codes(reader, "kimmelstiel", ON)
    by_code = {h.code: h for h in result.hits}
    assert by_code["E11.21"].description == "Type 2 diabetes mellitus with diabetic nephropathy"
    assert by_code["E11.21"].term == KIMMELSTIEL
    # Words found partly in the description, partly in a term: the term that has them.
    mixed = search_codes(reader, "type 2 diabetes kimmelstiel", ON)
    assert [(h.code, h.term) for h in mixed.hits] == [("E11.21", KIMMELSTIEL)]


def test_a_code_found_by_its_description_shows_no_term(reader: Reader) -> None:
    result = search_codes(reader, "diabetic nephropathy", ON)
    e1121 = next(h for h in result.hits if h.code == "E11.21")
    assert e1121.term is None


# -- misspellings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "typed", "used", "expected"),
    [
        ("diabetis mellitus", "diabetis", "diabetes", "E11.9"),
        ("fractre radius", "fractre", "fracture", "S52.12"),
        ("colonoscpy", "colonoscpy", "colonoscopy", "G0105"),
        ("type 2 diabetes mellitis", "mellitis", "mellitus", "E11"),
    ],
)
def test_a_misspelt_word_is_corrected_and_the_result_says_so(
    reader: Reader, query: str, typed: str, used: str, expected: str
) -> None:
    result = search_codes(reader, query, ON)
    assert [(c.typed, c.used) for c in result.corrections] == [(typed, used)]
    assert used in result.words and typed not in result.words
    assert expected in {h.code for h in result.hits}


def test_the_corrected_search_ranks_as_the_right_spelling_does(reader: Reader) -> None:
    typo = search_codes(reader, "fractre radius", ON, limit=3)
    right = search_codes(reader, "fracture radius", ON, limit=3)
    assert found(typo) == found(right)
    assert [h.code for h in right.hits] == ["S52.12", "S52.13", "S52.3"]
    assert right.corrections == []


def test_words_that_match_are_searched_as_typed(reader: Reader) -> None:
    """Exact results first: nothing is corrected while the words as typed find codes."""
    for query in ("diabetes", "diab", "radius", "ulna fracture", "colonoscopy"):
        result = search_codes(reader, query, ON)
        assert result.total > 0 and result.corrections == [], query
        assert result.words == query.split(), query


def test_nothing_near_enough_is_no_correction(reader: Reader) -> None:
    result = search_codes(reader, "zzqxv diabetes", ON)
    assert (result.total, result.corrections, result.hits) == (0, [], [])
    assert search_codes(reader, "qqq", ON).total == 0  # too short to guess from


def test_a_deleted_release_leaves_no_words_to_correct_to(db: Database, reader: Reader) -> None:
    assert search_codes(reader, "colonoscpy", ON).corrections
    with db.session() as session:
        session.execute(delete(CodeRelease).where(CodeRelease.kind == "hcpcs"))
    result = search_codes(reader, "colonoscpy", ON)
    assert (result.total, result.corrections) == (0, [])


# -- filters ------------------------------------------------------------------------------------


def test_code_sets_limit_the_search(reader: Reader) -> None:
    hcpcs = frozenset({CodeSet.HCPCS})
    assert {h.system for h in search_codes(reader, "colonoscopy", ON, sets=hcpcs).hits} == {"HCPCS"}
    assert search_codes(reader, "colonoscopy", ON, sets=frozenset({CodeSet.ICD10PCS})).total == 0
    assert search_codes(reader, "e11", ON, sets=frozenset({CodeSet.ICD10PCS})).total == 0
    both = frozenset({CodeSet.ICD10CM, CodeSet.ICD10PCS})
    result = search_codes(reader, "bypass", ON, sets=both)
    assert "ICD-10-PCS" in {h.system for h in result.hits}
    assert {h.system for h in result.hits} <= {"ICD-10-CM", "ICD-10-PCS"}
    assert result.sets == ["ICD-10-CM", "ICD-10-PCS"]
    assert [r["kind"] for r in result.releases] == ["icd10cm", "icd10pcs"]


def test_billable_leaves_out_headings_by_code_and_by_words(reader: Reader) -> None:
    every = search_codes(reader, "e11.2", ON)
    billable = search_codes(reader, "e11.2", ON, billable=True)
    assert [h.code for h in every.hits] == ["E11.2", "E11.21", "E11.22", "E11.29"]
    assert [h.code for h in billable.hits] == ["E11.21", "E11.22", "E11.29"]
    words = search_codes(reader, "fracture radius", ON, billable=True, limit=100)
    assert words.hits and all(h.billable for h in words.hits)
    assert words.total < search_codes(reader, "fracture radius", ON).total
    pcs = search_codes(reader, "001", ON, billable=True)
    assert "001" not in {h.code for h in pcs.hits} and pcs.total == 11


def test_billable_leaves_out_hcpcs_codes_and_modifiers_not_in_effect_on_the_date(
    reader: Reader,
) -> None:
    # G6020 was terminated on 2015-12-31 and is still listed in the 2020 file.
    assert "G6020" in {h.code for h in search_codes(reader, "colonoscopy", ON).hits}
    valid = {h.code for h in search_codes(reader, "colonoscopy", ON, billable=True).hits}
    assert "G0105" in valid and "G6020" not in valid
    assert found(search_codes(reader, "GD", ON))[0] == ("HCPCS", "modifier", "GD")
    assert search_codes(reader, "GD", ON, billable=True).total == 0
    # A4226 was added on 2020-01-01: not yet in effect at the end of 2019.
    assert "A4226" in {h.code for h in search_codes(reader, "A4226", date(2019, 12, 31)).hits}
    before = search_codes(reader, "A4226", date(2019, 12, 31), billable=True)
    assert before.total == 0
    assert search_codes(reader, "A4226", date(2020, 1, 1), billable=True).total == 1


# -- ranking windows and counting ---------------------------------------------------------------


def test_pages_across_ranking_windows_show_each_code_once(
    reader: Reader, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With small windows and a small count limit (the dense reading on PostgreSQL), paging
    through every match shows each code exactly once."""
    monkeypatch.setattr(search_words, "WINDOW", 7)
    monkeypatch.setattr(search_words, "MAX_COUNT", 40)
    seen: list[str] = []
    for offset in range(0, 42, 6):
        page = search_codes(reader, "fracture radius", ON, limit=6, offset=offset)
        assert page.total == 40 and page.total_capped
        seen += [h.code for h in page.hits]
    assert len(seen) == 42 == len(set(seen))


def test_an_offset_past_the_matches_is_an_empty_page(reader: Reader) -> None:
    result = search_codes(reader, "fracture", ON, offset=5000)
    assert result.total == 3061 and result.hits == []


# -- hostile queries ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced',
        "diabetes OR (",
        "NEAR(diabetes kidney, 2)",
        "diab* AND *",
        "{tags}: rel1",
        "description: heading",
        "^fracture -radius +ulna",
        "a & !b | c:* <-> d",
        "'; DROP TABLE code_search_words; --",
        "\x00\u202e\ufffd",
        "ñandú diabétis Ménière",
        "\U0001d521\U0001d526\U0001d51e\U0001d51f\U0001d522\U0001d531 \u00b2 \u0661\u0662",
        "x" * 5000,
        "mod",
        "modifier",
        "-",
    ],
)
def test_search_syntax_in_the_query_never_errors(reader: Reader, query: str) -> None:
    for sets, billable in ((frozenset(), False), (frozenset({CodeSet.MODIFIERS}), True)):
        result = search_codes(reader, query, ON, sets=sets, billable=billable)
        assert result.mode in (SearchMode.WORDS, SearchMode.EMPTY, SearchMode.CODE)
        assert all(w.isalnum() for w in result.words)


def test_with_no_code_data_loaded_nothing_is_found_and_nothing_fails(db: Database) -> None:
    reader = CodeLookup(db).reader
    for query in ("diabetis mellitus", "xs", "25", "e11", "modifier 59"):
        for sets in (frozenset(), frozenset({CodeSet.HCPCS})):
            result = search_codes(reader, query, ON, sets=sets, billable=True)
            assert result.releases == [] and result.corrections == [], query
    assert found(search_codes(reader, "25", ON)) == [("CPT", "modifier", "25")]


def test_an_accented_misspelling_is_corrected_too(reader: Reader) -> None:
    result = search_codes(reader, "diabétis", ON)
    assert [(c.typed, c.used) for c in result.corrections] == [("diabétis", "diabetes")]


# -- the migration ------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def own_database(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[str]:
    """A migrated database of this test's own, to take down and up again."""
    if request.param == "sqlite":
        yield sqlite_url
        return
    server = request.getfixturevalue("postgres_server")
    name = f"cc_search_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{server.rsplit('/', 1)[0]}/{name}"
    upgrade(url)
    yield url
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_migration_indexes_terms_modifiers_and_words_already_loaded(
    own_database: str,
) -> None:
    """Releases loaded before 0013 become searchable by terms, modifiers and misspellings
    when it runs; downgrading brings back 0006's index of descriptions."""
    db = Database(own_database)
    for kind, path in (("icd10cm", TABULAR), ("hcpcs", HCPCS_ZIP)):
        import_release(db, importer_for(kind), [path])
    command.downgrade(alembic_config(own_database), "0012")
    tables = set(inspect(db.engine).get_table_names())
    assert "code_search_fts" in tables and not tables & {"code_search_words", "recent_search"}
    command.upgrade(alembic_config(own_database), "head")

    reader = Reader(own_database)
    assert KIMMELSTIEL in {h.term for h in search_codes(reader, "kimmelstiel", ON).hits}
    modifiers = search_codes(reader, "left side", ON, sets=frozenset({CodeSet.MODIFIERS}))
    assert ("HCPCS", "modifier", "LT") in found(modifiers)
    assert search_codes(reader, "colonoscpy", ON).corrections
    reader.close()
    db.dispose()
