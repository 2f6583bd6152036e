"""The analysis of the shared sample mail matches what an expert reads in it."""

from __future__ import annotations

import importlib.util
import json
import mailbox
import re
from functools import cache
from types import ModuleType
from typing import Any

import pytest

from consultant.analysis.analyze import analyze
from consultant.analysis.model import Analysis
from consultant.mail.parse import ParsedMessage, parse_message
from tests.support.corpus import (
    BENCH_MBOX,
    QUESTIONS,
    SPECIAL,
    question_files,
    special,
    special_expected,
)

SYSTEMS = {"cpt": "CPT", "hcpcs": "HCPCS", "icd10cm": "ICD-10-CM", "icd10pcs": "ICD-10-PCS"}
EXPECTED = json.loads((QUESTIONS / "expected.json").read_text())
NEW_CASES = sorted(name for name, e in special_expected().items() if e["route"] == "new_case")


def analysed(raw: bytes) -> Analysis:
    parsed = parse_message(raw)
    return analyze(parsed.subject, parsed.text)


def codes_by_system(analysis: Analysis) -> dict[str, set[str]]:
    return {key: set(analysis.codes_of(system)) for key, system in SYSTEMS.items()}


@pytest.mark.parametrize("path", question_files(), ids=lambda p: p.name)
def test_question_matches_expected(path: Any) -> None:
    expected = EXPECTED[path.name]
    analysis = analysed(path.read_bytes())

    assert codes_by_system(analysis) == {key: set(expected[key]) for key in SYSTEMS}
    assert set(analysis.modifiers) == set(expected["modifiers"])
    assert set(analysis.topics) == set(expected["topics"])
    assert analysis.phi_found is expected["phi"]


def test_every_question_file_has_an_expectation() -> None:
    assert sorted(p.name for p in question_files()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", NEW_CASES)
def test_special_new_case_keeps_its_codes_and_phi_flag(name: str) -> None:
    expected = special_expected()[name]
    analysis = analysed(special(name))

    assert codes_by_system(analysis) == {key: set(expected.get(key, ())) for key in SYSTEMS}
    assert analysis.phi_found is expected.get("phi", False)


def test_new_cases_in_the_special_mail_are_the_ones_analysed() -> None:
    assert NEW_CASES == ["bad_charset.eml", "html_only_with_attachment.eml", "phi.eml"]
    assert all((SPECIAL / name).exists() for name in NEW_CASES)


@cache
def generator() -> ModuleType:
    """The script that wrote the 1,000-message corpus: its lists are the codes it used."""
    spec = importlib.util.spec_from_file_location(
        "gen_corpus", BENCH_MBOX.with_name("gen_corpus.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def bench_messages() -> list[ParsedMessage]:
    box = mailbox.mbox(BENCH_MBOX, create=False)
    try:
        return [parse_message(box.get_bytes(key)) for key in box.iterkeys()]
    finally:
        box.close()


def test_bench_corpus_codes_are_the_ones_written_and_nothing_else() -> None:
    """Claim numbers, NPIs, amounts, account numbers, phones and paths never become codes."""
    vocabulary = set(generator().CPT) | set(generator().ICD)
    modifiers = set(generator().MODS)
    for message in bench_messages():
        text = f"{message.subject}\n{message.text}"
        analysis = analyze(message.subject, message.text)
        found = {c.code for c in analysis.codes}
        written = {v for v in vocabulary if re.search(rf"(?<![\w.]){re.escape(v)}(?!\w)", text)}
        assert found == written, text
        assert set(analysis.modifiers) <= modifiers, text
        assert not analysis.phi_found, text
