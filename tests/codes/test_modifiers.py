"""Modifier meanings and their NCCI role, with and without a HCPCS release, on both databases."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import pytest

from config import Settings
from consultant.codes.importers.hcpcs import HcpcsImporter
from consultant.codes.importing import import_release
from consultant.codes.lookup import CodeLookup
from consultant.db import Database
from tests.support.corpus import DATA

HCPCS_2020 = DATA / "cms" / "2020-Alpha-Numeric-HCPCS-File.zip"
ON = date(2020, 6, 1)
CPT_MODIFIERS = (
    "22 24 25 26 27 50 51 52 53 54 55 56 57 58 59 62 63 66 76 77 78 79 80 81 82 90 91 95 96 97 99"
)
XS_OFFICIAL = (
    "Separate structure, a service that is distinct because it was performed on a separate "
    "organ/structure"
)


@pytest.fixture
def lookup(make_settings: Callable[..., Settings], database_url: str) -> Iterator[CodeLookup]:
    database = Database(make_settings(database_url=database_url).database_url)
    yield CodeLookup(database)
    database.dispose()


def test_ncci_associated_modifiers_and_their_groups(lookup: CodeLookup) -> None:
    fifty_nine = lookup.modifier("59", ON)
    assert (fifty_nine.ncci_associated, fifty_nine.ncci_group) == (True, "other")
    for code in ("XE", "XS", "XP", "XU", "27", "91"):
        assert lookup.modifier(code, ON).ncci_group == "other", code
    for code in ("24", "25", "57", "58", "78", "79"):
        assert lookup.modifier(code, ON).ncci_group == "global surgery", code
    eyelids_and_digits = ("E1", "E2", "E3", "E4", "FA", "F1", "F5", "F9", "TA", "T1", "T5", "T9")
    for code in (*eyelids_and_digits, "LT", "RT", "LC", "LD", "RC", "LM", "RI"):
        assert lookup.modifier(code, ON).ncci_group == "anatomic", code
    for code in ("26", "50", "51", "76", "TC", "GA"):
        result = lookup.modifier(code, ON)
        assert (result.ncci_associated, result.ncci_group) == (False, None), code


def test_without_hcpcs_data_every_meaning_is_our_summary(lookup: CodeLookup) -> None:
    for code in [*CPT_MODIFIERS.split(), "XS", "RT", "F5", "LM"]:
        result = lookup.modifier(code, ON)
        assert result.source == "our summary", code
        assert result.meaning and result.meaning.endswith("."), code

    xs = lookup.modifier("xs", ON)
    assert xs.code == "XS"
    assert xs.meaning == "A distinct service because it was done on a separate organ or structure."
    assert lookup.modifier("F5", ON).meaning == "The thumb of the right hand."
    unknown = lookup.modifier("GJ", ON)
    assert (unknown.meaning, unknown.source, unknown.ncci_associated) == (None, None, False)


def test_a_loaded_hcpcs_release_gives_the_official_level_two_text(lookup: CodeLookup) -> None:
    release = import_release(lookup.db, HcpcsImporter(), [HCPCS_2020]).release

    xs = lookup.modifier("XS", ON)
    rt = lookup.modifier("RT", ON)
    gj = lookup.modifier("GJ", ON)
    twenty_five = lookup.modifier("25", ON)

    assert xs.as_dict() == {
        "code": "XS",
        "meaning": XS_OFFICIAL,
        "source": release,
        "ncci_associated": True,
        "ncci_group": "other",
    }
    assert rt.meaning == (
        "Right side (used to identify procedures performed on the right side of the body)"
    )
    assert (rt.source, rt.ncci_group) == (release, "anatomic")
    assert gj.meaning == '"opt out" physician or practitioner emergency or urgent service'
    assert (twenty_five.source, twenty_five.ncci_group) == ("our summary", "global surgery")
