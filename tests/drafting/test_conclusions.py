"""What went wrong when an expert read the drafts, each made impossible: a conclusion where
the data decides, no prompt or topic that does not fit, each line checked as of its own date.

Real ICD-10-CM (the whole tabular) and HCPCS 2020; the NCCI, MUE, add-on and PFS files are
CONSTRUCTED with made-up values (../shared/data/PROVENANCE.md).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from markupsafe import Markup

from consultant.cases.answering import draft_answer
from consultant.drafting.draft import Draft
from consultant.drafting.render import item, open_expert_markers
from consultant.mail.parse import parse_message
from consultant.services import Services
from tests.drafting.support import question

TODAY = date(2026, 12, 1)


def made(services: Services, body: str) -> Draft:
    return draft_answer(services, parse_message(question(body)), None, TODAY)


def rules(draft: Draft) -> list[str]:
    return [c["rule"] for c in draft.record["conclusions"]]


def conclusion(draft: Draft, rule: str) -> dict[str, Any]:
    return next(c for c in draft.record["conclusions"] if c["rule"] == rule)


def test_excludes1_diagnoses_get_which_to_report(services: Services) -> None:
    draft = made(services, "Smoker: F17.210, Z72.0 and Z87.891 all documented. Which do we report?")
    rule = conclusion(draft, "excludes1")
    assert rule["answer"].startswith("Report only one of F17.210, Z72.0 and Z87.891")
    assert "Section I.A.12.a" in rule["cited"]
    reply = draft.body.text
    assert reply.index("In short:") < reply.index("Why:") < reply.index("What the code data says")
    assert "[expert: confirm which of F17.210, Z72.0 and Z87.891 the record documents]" in reply


def test_indicator_0_never_asks_whether_the_record_supports_a_bypass(services: Services) -> None:
    draft = made(services, "DOS 11/20/2026: 93000 and 93010 the same day, can we add 59 to 93010?")
    reply = draft.body.text
    assert "93010 is not paid with 93000 on the same day, and modifier 59 does not change that" in (
        reply
    )
    assert "bypass modifier is recommended" not in reply
    assert not any("modifier" in m for m in open_expert_markers(reply))


def test_a_bundled_status_says_medicare_does_not_pay_it_separately(services: Services) -> None:
    draft = made(services, "DOS 11/20/2026: is G0289 paid with 29881?")
    reply = draft.body.text
    assert "Medicare does not pay G0289 separately" in reply
    assert "G0289 is not paid with 29881 on the same day" in reply


def test_no_add_on_talk_when_neither_code_is_an_add_on(services: Services) -> None:
    draft = made(services, "Can 20956 be billed with 20902 on the same day? Do I need modifier 59?")
    reply = draft.body.text
    assert "add-on" not in reply.lower()
    assert "20902 is bundled into 20956 on the same day" in reply
    assert rules(draft)[:2] == ["ptp_edit", "bypass_modifier"]


def test_telehealth_gets_its_own_answer_and_no_modifier_25_note(services: Services) -> None:
    draft = made(
        services, "Telehealth visit 99213 for a Medicare patient: do we use GT instead of 95?"
    )
    reply = draft.body.text
    assert "GT is not used on a practitioner's Medicare claim" in reply
    assert "separately identifiable" not in reply


def test_a_visit_is_checked_as_of_its_own_date_against_the_surgery_window(
    services: Services,
) -> None:
    draft = made(
        services,
        "Total knee 27447 on 10/02/2026. The patient was seen on 11/15/2026 for 99213. "
        "Is the visit in the global period?",
    )
    rule = conclusion(draft, "global_period")
    assert "27447 on 2026-10-02 has a 90-day global period, from 2026-10-01" in rule["answer"]
    assert "through 2026-12-31" in rule["answer"]
    assert "The visit on 2026-11-15 (99213) is inside it (day 44)" in rule["answer"]
    days = {f["codes"][0]: f["on"] for f in draft.record["facts"] if f["kind"] == "code"}
    assert days == {"27447": None, "99213": "2026-11-15"}  # None: the question's own date
    assert draft.record["on"] == "2026-10-02"
    assert any("different dates of service" in n["text"] for n in draft.record["panel"])


def test_a_forwarded_denial_is_read_as_part_of_the_question(services: Services) -> None:
    draft = made(
        services,
        "Hi, see the denial below. Is XU the right fix, or 59?\n\n"
        "-----Original Message-----\nFrom: Payer Claims <claims@payer.example>\n"
        "Subject: Claim denial\n\n"
        "Line 2 97530 denied: bundled with 97140 (NCCI). DOS 10/20/2026.\n",
    )
    assert [c["code"] for c in draft.record["analysis"]["codes"]] == ["97530", "97140"]
    choice = conclusion(draft, "bypass_modifier")
    assert choice["answer"].startswith("XU on 97530 fits when it was an unusual service")
    assert "97530 is bundled into 97140 on the same day; with XU and 59 on 97530" in (
        draft.body.text
    )


def test_a_message_that_is_not_a_coding_question_gets_a_reply_suited_to_it(
    services: Services,
) -> None:
    thanks = made(services, "Thank you so much, that was very helpful!")
    assert "Thank you for letting us know." in thanks.body.text
    assert not open_expert_markers(thanks.body.text)
    assert thanks.record["facts"] == [] and thanks.record["conclusions"] == []
    assert thanks.record["panel"][0]["text"].startswith("Not a coding question: a thank-you")
    invoice = made(services, "I got your invoice #4512; can you resend it with our PO 45378?")
    assert "45378" not in [c["code"] for c in invoice.record["analysis"]["codes"]]
    assert open_expert_markers(invoice.body.text) == [
        "[expert: answer the account or invoice question, or say who will]"
    ]
    career = made(services, "Any advice on passing the CPC exam? Looking for a coding job.")
    assert "we cannot advise on careers, training or exams here" in career.body.text
    assert career.record["analysis"]["purpose"] == "career"


def test_every_fact_of_a_line_is_looked_up_as_of_that_lines_date(services: Services) -> None:
    draft = made(
        services,
        "Is 20902 an add-on code? We did 20956 on 10/02/2026 and 20902 on 10/05/2026.",
    )
    days = {(f["kind"], f["codes"][0]): f["on"] for f in draft.record["facts"] if f["codes"]}
    assert days[("not_addon", "20902")] == "2026-10-05"
    assert days[("pfs", "20902")] == "2026-10-05"
    assert days[("not_addon", "20956")] is None  # the question's own date, 2026-10-02


def test_a_fact_line_is_escaped_in_html() -> None:
    """Inside an autoescaped template a filter body arrives marked safe; it is not."""
    assert str(item(Markup("- Article: PSA <4 & <script>x</script>"))) == (
        "Article: PSA &lt;4 &amp; &lt;script&gt;x&lt;/script&gt;"
    )
