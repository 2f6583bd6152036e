"""Global periods 000 / 010 / 090 / XXX / YYY / ZZZ / MMM counted from the procedure's own
date, visits inside and outside, the global modifiers, and an E/M on the day of a procedure."""

from __future__ import annotations

from datetime import date

import pytest

from consultant.analysis.model import Line
from consultant.rules.global_surgery import window
from tests.rules.support import by_rule, conclude, facts, pfs, question


def test_a_visit_inside_a_90_day_global_counted_from_the_surgery_date() -> None:
    lines = (
        Line(date(2026, 10, 2), "procedure", ("27447",)),
        Line(date(2026, 11, 15), "visit", ("99213",)),
    )
    result = conclude(
        question("27447", "99213", lines=lines),
        facts(pfs("27447", global_days="090"), on="2026-10-02"),
    )
    (period,) = by_rule(result, "global_period")
    assert "27447 on 2026-10-02 has a 90-day global period, from 2026-10-01 (the day before) " in (
        period.answer
    )
    assert "through 2026-12-31" in period.answer
    assert "The visit on 2026-11-15 (99213) is inside it (day 44)" in period.answer
    assert "modifier 24" in period.answer
    assert "unrelated to 27447 (modifier 24)" in period.confirm


def test_a_visit_after_a_10_day_global_ended() -> None:
    lines = (
        Line(date(2026, 10, 2), "procedure", ("11402",)),
        Line(date(2026, 10, 20), "visit", ()),
    )
    result = conclude(question("11402", lines=lines), facts(pfs("11402", global_days="010")))
    (period,) = by_rule(result, "global_period")
    assert "from 2026-10-02 through 2026-10-12" in period.answer
    assert "The visit on 2026-10-20 is after it ended on 2026-10-12" in period.answer
    assert period.confirm == ""


@pytest.mark.parametrize(
    ("days", "words"),
    [
        ("XXX", "the global surgery rules do not apply to it"),
        ("YYY", "the Medicare contractor sets its global period"),
        ("ZZZ", "falls within the global period of its primary procedure"),
        ("MMM", "it is a maternity code"),
    ],
)
def test_other_global_indicators_when_asked(days: str, words: str) -> None:
    result = conclude(question("99999", topics=("global",)), facts(pfs("99999", global_days=days)))
    (period,) = by_rule(result, "global_period")
    assert words in period.answer


def test_no_global_conclusion_when_neither_asked_nor_a_visit() -> None:
    result = conclude(question("27447"), facts(pfs("27447", global_days="090")))
    assert not by_rule(result, "global_period")


def test_windows() -> None:
    day = date(2026, 3, 10)
    assert window("000", day) == (day, day)
    assert window("010", day) == (day, date(2026, 3, 20))
    assert window("090", day) == (date(2026, 3, 9), date(2026, 6, 8))


@pytest.mark.parametrize(
    ("named", "words"),
    [
        (("58", "78"), "58 if it was staged, planned or more extensive; 78 if it was an unplanned"),
        (
            ("78", "79"),
            "78 for an unplanned return to the operating room for a related complication",
        ),
        (("58", "79"), "58 if it is staged or related; 79 if it is unrelated"),
        (("25", "57"), "57 when the E/M led to the decision for major surgery"),
        (("54",), "Modifier 54 is for surgical care only"),
        (("55",), "postoperative management only"),
        (("56",), "preoperative management only"),
        (("24",), "an unrelated E/M service by the same physician during the postoperative period"),
    ],
)
def test_global_modifiers(named: tuple[str, ...], words: str) -> None:
    result = conclude(question("52601", modifiers=named), facts(pfs("52601", global_days="090")))
    (rule,) = by_rule(result, "global_modifiers")
    assert words in rule.answer


def test_global_modifiers_need_a_surgical_code_or_the_question() -> None:
    result = conclude(question("99213", modifiers=("25",)), facts(pfs("99213")))
    assert not by_rule(result, "global_modifiers")


def test_em_on_the_day_of_a_minor_and_of_a_major_procedure() -> None:
    minor = conclude(
        question("99213", "11102", modifiers=("25",)), facts(pfs("11102", global_days="000"))
    )
    (rule,) = by_rule(minor, "em_with_procedure")
    assert "reported with modifier 25, as you suggest" in rule.answer
    major = conclude(question("99204", "27447"), facts(pfs("27447", global_days="090")))
    (rule,) = by_rule(major, "em_with_procedure")
    assert "unless it was the visit at which the decision to operate was made" in rule.answer
    assert rule.confirm == "confirm the decision for 27447 was made at the 99204 visit"


def test_em_on_another_day_is_not_the_same_day_rule() -> None:
    lines = (
        Line(date(2026, 10, 2), "procedure", ("11102",)),
        Line(date(2026, 10, 30), "visit", ("99213",)),
    )
    result = conclude(
        question("99213", "11102", lines=lines), facts(pfs("11102", global_days="000"))
    )
    assert not by_rule(result, "em_with_procedure")
