"""The library as a whole: every rule has its words and real citations, and a conclusion
carries the releases it rests on."""

from __future__ import annotations

from consultant.rules.library import RULES
from consultant.rules.sources import SOURCES
from tests.rules.support import PTP, TEMPLATES, by_rule, conclude, facts, ptp, question


def test_every_rule_has_a_partial_with_answer_and_why_and_cites_a_known_source() -> None:
    names = [r.name for r in RULES]
    assert len(names) == len(set(names))
    for rule in RULES:
        partial = (TEMPLATES / "replies" / "rules" / f"{rule.name}.txt.j2").read_text()
        assert "{% macro answer(p) %}" in partial and "{% macro why(p) %}" in partial, rule.name
        if rule.name == "guidance":  # each note carries its own citation
            continue
        assert rule.citations and all(c.source in SOURCES for c in rule.citations), rule.name


def test_every_source_has_an_address_and_an_edition() -> None:
    for source in SOURCES.values():
        assert source.address.startswith("https://"), source.key
        assert source.edition and source.title and source.date, source.key


def test_a_conclusion_names_its_release_and_its_documents() -> None:
    (edit,) = by_rule(
        conclude(question("93000", "93010"), facts(ptp("93000", "93010", 0))), "ptp_edit"
    )
    assert edit.releases == [PTP]
    record = edit.as_dict()
    assert record["citations"][0]["text"].startswith(
        "National Correct Coding Initiative Policy Manual for Medicare Services, Chapter I"
    )
    assert record["answer"] and record["why"]
