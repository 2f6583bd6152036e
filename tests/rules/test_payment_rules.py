"""Fee schedule indicators: status codes, bilateral 50 vs RT/LT, multiple procedures 51,
assistant, co- and team surgery; and the HCPCS code Medicare uses in place of a CPT code."""

from __future__ import annotations

import pytest

from consultant.analysis.model import Setting
from tests.rules.support import by_rule, conclude, facts, pfs, question


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("B", "Medicare does not pay 99100 separately"),
        ("C", "The Medicare contractor prices 99100"),
        ("I", "Medicare does not accept 99100: CMS pays this service under another code"),
        ("N", "Medicare does not cover 99100"),
        ("R", "only in restricted circumstances"),
        ("T", "only when no other fee schedule service is paid on the same day"),
        ("X", "excluded from the physician fee schedule by law: it is not paid under it"),
    ],
)
def test_status_says_whether_medicare_pays(status: str, words: str) -> None:
    result = conclude(question("99100"), facts(pfs("99100", status=status)))
    (rule,) = by_rule(result, "pfs_status")
    assert words in rule.answer


def test_status_a_says_nothing() -> None:
    assert not by_rule(conclude(question("99213"), facts(pfs("99213"))), "pfs_status")


@pytest.mark.parametrize(
    ("indicator", "words"),
    [
        ("1", "Medicare takes one line with modifier 50 and 1 unit, paid at 150%"),
        ("2", "already describes both sides"),
        ("3", "paid at 100% for each side"),
        ("0", "modifier 50 is not used with it; RT or LT only says which side"),
    ],
)
def test_bilateral_by_indicator(indicator: str, words: str) -> None:
    result = conclude(
        question("69436", modifiers=("50", "RT")), facts(pfs("69436", bilateral=indicator))
    )
    (rule,) = by_rule(result, "bilateral")
    assert words in rule.answer


def test_bilateral_only_when_a_side_modifier_is_named() -> None:
    assert not by_rule(conclude(question("69436"), facts(pfs("69436", bilateral="1"))), "bilateral")


def test_multiple_procedures_reduce_all_but_the_highest() -> None:
    result = conclude(
        question("11402", "12032", "11042", modifiers=("51",)),
        facts(
            pfs("11402", multiple_procedure="2"),
            pfs("12032", multiple_procedure="2"),
            pfs("11042", multiple_procedure="0"),
        ),
    )
    (rule,) = by_rule(result, "multiple_procedures")
    assert "11402 and 12032 on 2026-11-02 fall under the multiple procedure rules" in rule.answer
    assert "11042 is exempt from the reduction: modifier 51 is not used with it" in rule.answer


def test_one_procedure_without_51_asked_says_nothing() -> None:
    result = conclude(question("11402"), facts(pfs("11402", multiple_procedure="2")))
    assert not by_rule(result, "multiple_procedures")


@pytest.mark.parametrize(
    ("modifier", "field", "value", "words"),
    [
        ("80", "assistant", "1", "An assistant at surgery (modifier 80) is not paid for 27447"),
        (
            "AS",
            "assistant",
            "0",
            "may be paid only when the record shows it was medically necessary",
        ),
        ("62", "co_surgeon", "2", "Co-surgery (modifier 62) is permitted for 27447"),
        ("66", "team_surgery", "0", "Team surgery (modifier 66) is not permitted for 27447"),
    ],
)
def test_surgeon_indicators(modifier: str, field: str, value: str, words: str) -> None:
    result = conclude(
        question("27447", modifiers=(modifier,)), facts(pfs("27447", **{field: value}))
    )
    (rule,) = by_rule(result, "surgeons")
    assert words in rule.answer


def test_medicare_takes_a_g_code_for_some_cpt_codes() -> None:
    (rule,) = by_rule(conclude(question("97014"), facts()), "medicare_code")
    assert rule.answer == (
        "For Medicare, unattended electrical stimulation (other than wound care) is reported "
        "with G0283, not 97014."
    )
    commercial = question("97014", setting=Setting(payer="commercial", payer_name="Aetna"))
    assert not by_rule(conclude(commercial, facts()), "medicare_code")
