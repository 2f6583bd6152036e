"""Drafts for Medicare coverage and payment questions, from the coverage exports and the fee
schedule files, on both databases.

The coverage exports and fee files are CONSTRUCTED (../shared/data/PROVENANCE.md):
these drafts are test fixtures, never shown to anyone as real answers.
"""

from __future__ import annotations

from datetime import date

from consultant.cases.answering import draft_answer
from consultant.cases.senders import add_rule, set_where
from consultant.drafting.draft import Draft
from consultant.mail.parse import parse_message
from consultant.services import Services
from tests.drafting.support import question

TODAY = date(2026, 11, 2)
ARTICLES = "[Medicare Coverage Database articles current_article 2026-09-30, effective 2026-09-30]"
J_X = "Article A90001 v2 (Example Medicare Services J-X Part B)"


def drafted(services: Services, body: str) -> Draft:
    return draft_answer(services, parse_message(question(body)), "CC-000001", TODAY)


def panel(draft: Draft) -> list[str]:
    return [note["text"] for note in draft.record["panel"]]


def rules(draft: Draft) -> list[str]:
    return [c["rule"] for c in draft.record["conclusions"]]


def test_a_diagnosis_the_article_lists_as_not_covered(services: Services) -> None:
    draft = drafted(services, "Will Medicare cover 20610 with M17.9 in Florida? DOS 11/02/2026")
    text = draft.body.text
    assert (
        f"{J_X} lists M17.9 among the diagnoses that do not support 20610: Medicare will deny "
        "it with that diagnosis." in text
    )
    assert "an ABN (form CMS-R-131) signed by the patient before the service" in text
    assert "unspecified osteoarthritis of the knee does not support medical necessity" in text
    assert "M17.9: listed as not covered, group 1." in text and ARTICLES in text
    assert "LCD L90001 (Arthrocentesis and Joint Injections (constructed))" in text
    assert "Sample Government Health" not in text  # Texas's article is not Florida's


def test_the_article_in_force_on_the_date_of_service(services: Services) -> None:
    text = drafted(services, "Is 20610 covered with M17.9 in FL? DOS 05/04/2026").body.text
    assert "M17.9 supports 20610 under Article A90001 v1" in text
    assert "not support" not in text


def test_without_a_jurisdiction_every_article_and_a_question_for_the_expert(
    services: Services,
) -> None:
    draft = drafted(services, "Is 20610 covered by Medicare with M17.9? DOS 11/02/2026")
    text = draft.body.text
    assert f"{J_X}, for FL and PR, lists M17.9 among the diagnoses that do not support" in text
    assert (
        "Article A90002 v1 (Sample Government Health J-Y Part B), for OK and TX, does not list "
        "M17.9 for 20610, neither among the diagnoses that support it nor among those that "
        "do not." in text
    )
    assert "[expert: confirm where the patient was seen: the articles differ by Medicare" in text
    assert any(note.startswith("Where the patient was seen is not known") for note in panel(draft))


def test_the_senders_state_chooses_the_article(services: Services) -> None:
    with services.db.session() as session:
        rule = add_rule(session, "clinic.example", "", "admin@caseconsultant.example")
        session.flush()
        set_where(session, rule.id, "Texas", "", "", "admin@caseconsultant.example")
    try:
        draft = drafted(services, "Is 20610 covered by Medicare with M17.9? DOS 11/02/2026")
    finally:
        with services.db.session() as session:
            session.delete(session.get(type(rule), rule.id))
    text = draft.body.text
    assert "Article A90002 v1 (Sample Government Health J-Y Part B) does not list M17.9" in text
    assert "J-X" not in text and "not covered" not in text
    assert not any(note.startswith("Where the patient") for note in panel(draft))


def test_a_covered_diagnosis_that_needs_another_with_it(services: Services) -> None:
    draft = drafted(
        services, "Is screening colonoscopy G0105 covered with Z80.0 in Florida? DOS 11/02/2026"
    )
    assert (
        "Z80.0 supports G0105 under Article A90004 v1 (Example Medicare Services J-X Part B) "
        "only when Z12.11 is also reported (group 2)." in draft.body.text
    )
    assert "[expert: confirm the record supports Z12.11 as well as Z80.0]" in draft.body.text
    assert any(note.startswith("NCD 210.3-X (Colorectal Cancer") for note in panel(draft))


def test_the_modifiers_a_dme_article_lists(services: Services) -> None:
    draft = drafted(
        services, "Do we need KX on the CPAP E0601 for G47.33 in Florida? DOS 11/02/2026"
    )
    assert (
        "Article A90003 v1 (Example DME MAC Jurisdiction Z) lists modifiers KH, KI, KJ, KX and "
        "RR for E0601; you named KX, not KH, KI, KJ and RR" in draft.body.text
    )
    assert "coverage_modifiers" in rules(draft) and "coverage_diagnosis" in rules(draft)


def test_what_medicare_pays_in_a_locality(services: Services) -> None:
    draft = drafted(services, "What does Medicare pay for 71046-26 in Miami? DOS 01/15/2027")
    text = draft.body.text
    assert (
        "Medicare's allowed amount for 71046-26 in MIAMI (FL), locality 04 of MAC 99101 on "
        "2027-01-15: $12.24 in an office (non-facility); $12.24 in a facility." in text
    )
    assert "(0.22 x 1.000 + 0.09 x 1.066 + 0.02 x 2.310) x 33.8012 = 12.24" in text
    assert "[PFS relative value file 2027-Jan-nonQPP, effective 2027-01-01]" in text
    assert "limiting charge $13.37" in text
    assert "fee_amount" in rules(draft)


def test_without_a_locality_the_national_amount_said_so(services: Services) -> None:
    draft = drafted(services, "What's the allowed amount for 99213? DOS 01/15/2027")
    assert "Medicare's allowed amount for 99213 nationally (no locality adjustment)" in (
        draft.body.text
    )
    assert "$88.22 in an office (non-facility); $65.91 in a facility" in draft.body.text
    assert any(note.startswith("No payment locality") for note in panel(draft))


def test_no_amount_from_a_release_without_rvus(services: Services) -> None:
    draft = drafted(services, "What does Medicare pay for 20610? DOS 11/02/2026")
    assert "$" not in draft.body.text
    assert "[expert: give what Medicare pays for 20610" in draft.body.text
    assert (
        "No amount for 20610: the PFS 2026-Oct-nonQPP as loaded gives no practice expense or "
        "malpractice RVUs" in panel(draft)
    )


def test_a_lab_code_gets_the_lab_fee_schedule_rate(services: Services) -> None:
    text = drafted(services, "How much does Medicare pay for 36415? DOS 11/02/2026").body.text
    assert "The Clinical Laboratory Fee Schedule pays up to $3.00 for 36415 on 2026-11-02" in text


def test_several_procedures_are_adjusted_together(services: Services) -> None:
    text = drafted(
        services, "What will Medicare pay for 20610-50 and 20611 in Miami? DOS 01/15/2027"
    ).body.text
    # The constructed PTP file pays only 20610 beside 20611 (indicator 0).
    assert (
        "20610-50 (both sides: 150% of $68.74 = $103.11): $103.11. 20611 is left out: an NCCI "
        "edit pays only the other code." in text
    )


def test_a_city_that_is_no_locality_gets_the_national_amount(services: Services) -> None:
    draft = drafted(services, "What does Medicare pay for 20610 in Hialeah, FL? DOS 01/15/2027")
    assert "20610 nationally (no locality adjustment)" in draft.body.text
    assert "REST OF FLORIDA" not in draft.body.text
    assert any(note.startswith("A place named in the question is not") for note in panel(draft))
    assert "Hialeah" not in str(draft.record["analysis"])  # places are never stored


def test_no_not_covered_from_an_export_a_quarter_old(services: Services) -> None:
    draft = drafted(services, "Will Medicare cover 20610 with M17.9 in Florida? DOS 02/01/2027")
    assert "do not support" not in draft.body.text and "ABN" not in draft.body.text
    assert "not the one for 2027-02-01: not said" in str(draft.record["undecided"])


def test_no_article_lists_it_is_not_said_before_the_export(services: Services) -> None:
    draft = drafted(services, "Will Medicare cover 20610 with M17.9 in Florida? DOS 06/02/2025")
    assert "No coverage article" not in draft.body.text
    assert any(note.startswith("Article versions that list 20610") for note in panel(draft))


def test_codes_offered_as_alternatives_are_not_adjusted_together(services: Services) -> None:
    draft = drafted(
        services, "Should we bill 20610 or 20611? What does Medicare pay in Miami? DOS 01/15/2027"
    )
    assert "fee_adjusted" not in rules(draft) and "fee_amount" in rules(draft)


def test_the_html_reply_says_the_same(services: Services) -> None:
    html = drafted(services, "Will Medicare cover 20610 with M17.9 in Florida? DOS 11/02/2026")
    assert "lists M17.9 among the diagnoses that do not support 20610" in html.body.html
    assert "<script" not in html.body.html
