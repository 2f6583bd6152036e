"""Excludes1 among the diagnoses named, code-first / use-additional order, headers and 7th
characters; codes deleted or not yet in force on the date of service; telehealth."""

from __future__ import annotations

from consultant.analysis.model import Setting
from consultant.drafting.facts import Fact
from tests.rules.support import HCPCS, HCPCS_2020, ICD, by_rule, code, conclude, facts, question

TOBACCO = {
    "F17.210": "Nicotine dependence, cigarettes, uncomplicated",
    "Z72.0": "Tobacco use",
    "Z87.891": "Personal history of nicotine dependence",
}


def excludes(a: str, b: str, note_on: str, note: str) -> Fact:
    return Fact(
        "excludes1", [a, b], {"code": a, "excluded": b, "note_on": note_on, "note": note}, ICD
    )


def test_excludes1_pairs_are_one_choice_and_name_each_code() -> None:
    analysis = question(*[("ICD-10-CM", c) for c in TOBACCO])
    gathered = facts(
        *[code(c, "ICD-10-CM", "active", ICD, description=d) for c, d in TOBACCO.items()],
        excludes("Z72.0", "F17.210", "Z72.0", "nicotine dependence (F17.-)"),
        excludes("Z87.891", "F17.210", "Z87.891", "current nicotine dependence (F17.2-)"),
    )
    (rule,) = by_rule(conclude(analysis, gathered), "excludes1")
    assert rule.answer.startswith("Report only one of F17.210, Z72.0 and Z87.891")
    assert "Z87.891 (Personal history of nicotine dependence)" in rule.answer
    assert rule.confirm == "confirm which of F17.210, Z72.0 and Z87.891 the record documents"
    assert rule.citations[0].where == "Section I.A.12.a, Excludes1"


def test_no_excludes1_no_conclusion() -> None:
    analysis = question(("ICD-10-CM", "E11.9"), ("ICD-10-CM", "I10"))
    assert not by_rule(conclude(analysis, facts()), "excludes1")


def note(code_: str, kind: str, named: list[str]) -> Fact:
    return Fact(
        "icd_note", [code_, *named], {"on": code_, "kind": kind, "text": "", "named": named}, ICD
    )


def test_code_first_and_use_additional_give_the_order() -> None:
    analysis = question(("ICD-10-CM", "N39.0"), ("ICD-10-CM", "B96.20"))
    (rule,) = by_rule(
        conclude(analysis, facts(note("N39.0", "use_additional_code", ["B96.20"]))), "sequencing"
    )
    assert rule.answer == "Report N39.0 first, then B96.20."
    analysis = question(("ICD-10-CM", "E11.9"), ("ICD-10-CM", "H36"))
    (rule,) = by_rule(conclude(analysis, facts(note("H36", "code_first", ["E11.9"]))), "sequencing")
    assert rule.answer == "Report E11.9 first, then H36."
    (rule,) = by_rule(conclude(analysis, facts(note("H36", "code_also", ["E11.9"]))), "sequencing")
    assert "the order depends on the reason for the encounter" in rule.answer


def test_a_header_needs_its_full_code_and_7th_character() -> None:
    children = [{"code": "S52.521A", "description": ""}, {"code": "S52.521D", "description": ""}]
    header = code("S52.521", "ICD-10-CM", "header", ICD, children=children)
    (rule,) = by_rule(
        conclude(question(("ICD-10-CM", "S52.521")), facts(header)), "icd_specificity"
    )
    assert rule.answer.startswith("S52.521 is a heading, not a code that can be reported")
    assert "with its 7th character" in rule.answer
    active = code("I10", "ICD-10-CM", "active", ICD)
    assert not by_rule(conclude(question(("ICD-10-CM", "I10")), facts(active)), "icd_specificity")


def test_a_deleted_code_in_force_data_and_the_same_from_stale_data() -> None:
    gone = code("G0289", "HCPCS", "deleted", HCPCS)
    (rule,) = by_rule(conclude(question(("HCPCS", "G0289")), facts(gone)), "code_in_force")
    assert rule.answer.startswith("G0289 is no longer valid on 2026-11-02")
    assert rule.confirm == "give the code that replaced G0289 for services on 2026-11-02"
    missing = code("G0316", "HCPCS", "not_found", HCPCS_2020)
    result = conclude(question(("HCPCS", "G0316")), facts(missing))
    assert not by_rule(result, "code_in_force")
    assert "whether it is valid is not said" in result.undecided[0].reason


def test_a_code_not_yet_in_force() -> None:
    later = code("G0999", "HCPCS", "not_yet_effective", HCPCS, effective="2027-01-01")
    (rule,) = by_rule(conclude(question(("HCPCS", "G0999")), facts(later)), "code_in_force")
    assert rule.answer.startswith(
        "G0999 is not yet in force on 2026-11-02: it takes effect on 2027-01-01"
    )


def test_telehealth_gt_for_medicare_and_a_commercial_payer() -> None:
    (rule,) = by_rule(conclude(question("99213", modifiers=("GT",)), facts()), "telehealth")
    assert (
        "place of service 02 (not in the patient's home) or 10 (in the patient's home)"
        in rule.answer
    )
    assert "GT is not used on a practitioner's Medicare claim" in rule.answer
    assert rule.confirm == ""
    aetna = question(
        "99213", modifiers=("95",), setting=Setting(payer="commercial", payer_name="Aetna")
    )
    (rule,) = by_rule(conclude(aetna, facts()), "telehealth")
    assert "Aetna sets its own telehealth rules" in rule.answer
    assert (
        rule.confirm
        == "confirm the current telehealth modifier and place of service rules of Aetna"
    )


def test_no_telehealth_words_no_telehealth_rule() -> None:
    assert not by_rule(conclude(question("99213", modifiers=("25",)), facts()), "telehealth")
