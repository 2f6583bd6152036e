"""MUE with adjudication indicator 1 / 2 / 3 and the units asked; add-on codes without a
primary, with a wrong one, type 1 / 2 / 3, and asked about codes that are not add-ons."""

from __future__ import annotations

from typing import Any

from consultant.drafting.facts import Fact
from tests.rules.support import AOC, MUE, by_rule, conclude, facts, question


def mue(code: str, value: int, indicator: int, asked: int | None, **more: Any) -> Fact:
    data = {
        "code": code,
        "setting": "practitioner",
        "found": more.get("found", True),
        "value": value,
        "adjudication_indicator": indicator,
        "units_asked": asked,
        "exceeds": asked is not None and asked > value,
    }
    return Fact("mue", [code], data, more.get("source", MUE))


def test_units_within_the_mue() -> None:
    result = conclude(question("J1100"), facts(mue("J1100", 40, 3, 10)))
    (units,) = by_rule(result, "mue_units")
    assert units.answer == "10 units of J1100 are within its MUE of 40."
    assert units.confirm == ""


def test_units_above_by_adjudication_indicator() -> None:
    line = by_rule(conclude(question("J1100"), facts(mue("J1100", 2, 1, 4))), "mue_units")[0]
    assert "more than its MUE of 2 on one claim line" in line.answer
    policy = by_rule(conclude(question("J1100"), facts(mue("J1100", 2, 2, 4))), "mue_units")[0]
    assert "set by policy: units above 2 are not paid for the same date of service" in policy.answer
    assert policy.confirm == ""  # no record changes a policy limit
    clinical = by_rule(conclude(question("J1100"), facts(mue("J1100", 2, 3, 4))), "mue_units")[0]
    assert "may be paid on appeal when the record shows" in clinical.answer
    assert clinical.confirm.startswith("confirm the record documents the 4 units of J1100")


def test_units_not_asked_conclude_nothing() -> None:
    assert not by_rule(conclude(question("J1100"), facts(mue("J1100", 40, 3, None))), "mue_units")


def test_a_code_without_a_published_mue_is_never_called_unlimited() -> None:
    result = conclude(question("J1100"), facts(mue("J1100", 0, 3, 5, found=False)))
    (units,) = by_rule(result, "mue_units")
    assert "this does not mean any number of units is accepted" in units.answer


def addon(code: str, types: list[int], primaries: list[str], present: list[str]) -> Fact:
    data = {
        "code": code,
        "edit_types": types,
        "primaries": primaries,
        "primaries_present": present,
    }
    return Fact("addon", [code], data, AOC)


def test_type_1_addon_without_its_primary() -> None:
    result = conclude(question("22614", "22612"), facts(addon("22614", [1], ["22600"], [])))
    (rule,) = by_rule(result, "addon_primary")
    assert rule.answer == (
        "22614 is an add-on code and is paid only with one of its listed primary codes (22600); "
        "22612 is not one of them."
    )
    assert (
        rule.confirm == "confirm which primary procedure was reported with 22614 on the same claim"
    )


def test_type_3_addon_with_another_primary_is_up_to_the_contractor() -> None:
    result = conclude(question("20930", "22612"), facts(addon("20930", [3], ["22600"], [])))
    (rule,) = by_rule(result, "addon_primary")
    assert "its usual primaries are 22600, not 22612, and the Medicare contractor may accept" in (
        rule.answer
    )


def test_type_2_and_with_its_primary() -> None:
    two = by_rule(conclude(question("99292"), facts(addon("99292", [2], [], []))), "addon_primary")
    assert (
        two[0].answer
        == "99292 is an add-on code whose primary procedures the Medicare contractor defines."
    )
    ok = by_rule(
        conclude(question("22614", "22600"), facts(addon("22614", [1], ["22600"], ["22600"]))),
        "addon_primary",
    )
    assert ok[0].answer.startswith(
        "22614 is an add-on code, and 22600 in your question is a listed"
    )
    assert ok[0].confirm == ""


def test_asked_about_addons_when_neither_code_is_one() -> None:
    items = [Fact("not_addon", [c], {"code": c}, AOC) for c in ("20956", "20902")]
    result = conclude(question("20956", "20902", topics=("addon",)), facts(*items))
    (rule,) = by_rule(result, "addon_primary")
    assert rule.answer.startswith("20956 and 20902 are not add-on codes")
    stale = [Fact("not_addon", ["20956"], {"code": "20956"}, dict(AOC, effective="2024-01-01"))]
    result = conclude(question("20956", topics=("addon",)), facts(*stale))
    assert not by_rule(result, "addon_primary")
    assert result.undecided[0].rule == "addon_primary"
