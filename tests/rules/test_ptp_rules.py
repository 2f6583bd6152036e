"""PTP edits: indicator 0 / 1 / 9, with and without a modifier named; deleted and future
edits; no edit; which bypass modifier fits."""

from __future__ import annotations

from consultant.drafting.facts import Fact
from tests.rules.support import PTP, by_rule, conclude, facts, ptp, question


def test_indicator_0_says_no_modifier_bypasses_even_the_one_named() -> None:
    result = conclude(
        question("93000", "93010", modifiers=("59",)), facts(ptp("93000", "93010", 0))
    )
    (edit,) = by_rule(result, "ptp_edit")
    assert "93010 is not paid with 93000 on the same day, and modifier 59 does not change that" in (
        edit.answer
    )
    assert "Report 93000." in edit.answer
    assert edit.confirm == ""  # nothing in the record changes it
    assert not by_rule(result, "bypass_modifier")


def test_indicator_1_with_a_bypass_modifier_named_needs_the_record() -> None:
    result = conclude(
        question("29880", "29877", modifiers=("XS",)), facts(ptp("29880", "29877", 1))
    )
    (edit,) = by_rule(result, "ptp_edit")
    assert "with XS on 29877, both may be paid, but only when the record shows" in edit.answer
    assert "confirm the record shows 29877 distinct from 29880" in edit.confirm
    (choice,) = by_rule(result, "bypass_modifier")
    assert "XS on 29877 fits when it was a separate organ or structure" in choice.answer


def test_indicator_1_without_a_modifier_lists_the_ones_that_fit() -> None:
    result = conclude(question("29880", "29877"), facts(ptp("29880", "29877", 1)))
    (edit,) = by_rule(result, "ptp_edit")
    assert "bundled into 29880 on the same day unless the services were distinct" in edit.answer
    (choice,) = by_rule(result, "bypass_modifier")
    assert "XE (separate encounter), XS (separate structure)" in choice.answer
    assert choice.confirm == "say which of XE, XS, XP or XU (or 59) the record supports for 29877"


def test_59_named_prefers_the_x_modifiers() -> None:
    result = conclude(
        question("29880", "29877", modifiers=("59",)), facts(ptp("29880", "29877", 1))
    )
    (choice,) = by_rule(result, "bypass_modifier")
    assert choice.answer.startswith("Prefer the X modifier that describes the service over 59")
    assert any(c.source == "mln-xepsu" for c in choice.citations)


def test_anatomic_modifiers_before_59() -> None:
    result = conclude(
        question("26055", "26160", modifiers=("F2", "59")), facts(ptp("26055", "26160", 1))
    )
    (choice,) = by_rule(result, "bypass_modifier")
    assert choice.answer.startswith("Use the anatomic modifier F2 on 26160")


def test_an_em_in_column_2_takes_25_not_59() -> None:
    result = conclude(
        question("11102", "99213", modifiers=("59",)), facts(ptp("11102", "99213", 1))
    )
    (choice,) = by_rule(result, "bypass_modifier")
    assert "modifier 25 goes on it" in choice.answer
    assert "59 and the X modifiers are not used on E/M services" in choice.answer


def test_deleted_future_and_never_applied_edits() -> None:
    deleted = ptp("20956", "20902", 1, kind="ptp_window", deletion="2025-12-31")
    future = ptp("64490", "64493", 0, kind="ptp_window", effective="2027-01-01")
    never = ptp(
        "11042", "97597", 9, kind="ptp_window", effective="2024-01-01", deletion="2024-01-01"
    )
    result = conclude(question("20956", "20902"), facts(deleted, future, never))
    words = [c.answer for c in by_rule(result, "ptp_dates")]
    assert "ended on 2025-12-31: it does not apply to a date of service of 2026-11-02" in words[0]
    assert (
        "takes effect on 2027-01-01: it does not apply to a date of service of 2026-11-02"
        in (words[1])
    )
    assert "was deleted the day it took effect: it never applied" in words[2]


def test_no_edit_on_file_in_force_means_no_bundling_and_no_59_needed() -> None:
    clear = Fact("ptp_none", ["20956", "20902"], {"pairs": [["20956", "20902"]]}, PTP)
    result = conclude(question("20956", "20902", modifiers=("59", "25")), facts(clear))
    (none,) = by_rule(result, "ptp_clear")
    assert none.answer == (
        "No NCCI PTP edit pairs 20956 with 20902 on 2026-11-02: NCCI does not bundle them, so "
        "modifier 59 is not needed for NCCI."  # 25 has a job besides bypassing edits
    )


def test_no_edit_from_a_stale_release_is_not_concluded() -> None:
    old = dict(PTP, version="v290r0", effective="2023-01-01")
    clear = Fact("ptp_none", ["20956", "20902"], {"pairs": [["20956", "20902"]]}, old)
    result = conclude(question("20956", "20902"), facts(clear))
    assert not by_rule(result, "ptp_clear")
    (why_not,) = result.undecided
    assert why_not.rule == "ptp_edit" and "not the one for 2026-11-02" in why_not.reason
