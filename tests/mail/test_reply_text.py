"""The new text of a reply: what the coder wrote now, without quoted messages or signature."""

from __future__ import annotations

import mailbox
from contextlib import closing
from pathlib import Path

import pytest

from consultant.mail.parse import ParsedMessage, parse_message
from consultant.mail.reply_text import new_text, question_text
from tests.support.corpus import BENCH_MBOX, QUESTIONS, special

REPLIES = Path(__file__).parent / "data" / "replies"

# The sign-off lines gen_corpus.py puts between a body and its signature.
CORPUS_SIGN_OFFS = {
    "Thanks,",
    "Thank you,",
    "Best regards,",
    "Regards,",
    "Many thanks,",
    "Kind regards,",
}


def reply(name: str) -> ParsedMessage:
    return parse_message((REPLIES / name).read_bytes())


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "outlook_desktop.eml",
            "Yes, the op note documents a separate incision on the same finger. Does that change"
            " the answer for 26160 with 26115, and should we use XS instead of 59?",
        ),
        (
            "outlook_original_message.eml",
            "Follow-up: the payer is Medicare. Does the MUE of 1 for 20610 apply per knee\n"
            "or per day?",
        ),
        (
            "outlook_web.eml",
            "Is 99214-25 OK on the same day as 20610 when the visit was for a different problem?",
        ),
        (
            "gmail_web.eml",
            "Hi,\n\nThanks for the quick answer. One more: can we bill 11042 and 11045 x 2 units\n"
            "if the second wound is on the other leg?",
        ),
        (
            "gmail_mobile.eml",
            "So 27447 with 20610 on the same knee is never payable, even with modifier 59?",
        ),
        (
            "apple_mail_macos.eml",
            "What about modifier XS instead of 59 for Medicare? The two lesions were on different"
            " arms.",
        ),
        ("apple_mail_ios.eml", "Does that apply to 64483 too, or only to the add-on 64484?"),
        (
            "thunderbird.eml",
            "Thanks. And for 45378 with 43239 on the same day, is modifier 59 needed\n"
            "or does the endoscopy family rule apply?",
        ),
    ],
)
def test_reply_from_each_mail_client_keeps_only_the_new_question(name: str, expected: str) -> None:
    assert reply(name).new_text == expected


def test_full_text_with_the_quoted_message_stays_available() -> None:
    parsed = reply("outlook_desktop.eml")

    assert "Sent: Monday, October 5, 2026 9:14 AM" in parsed.text
    assert "NCCI pairs 26115 (column 1) with 26160 (column 2)" in parsed.text
    assert "Sent:" not in parsed.new_text


def test_corpus_follow_up_is_its_question_line_only() -> None:
    parsed = parse_message(special("follow_up.eml"))

    assert parsed.new_text == "Thanks! And what if the chondroplasty was in the same compartment?"


def corpus_expected_new_text(text: str) -> str:
    """What gen_corpus.py wrote above the sign-off: greeting and paragraphs."""
    lines = text.splitlines()
    sign_off = max(index for index, line in enumerate(lines) if line in CORPUS_SIGN_OFFS)
    return "\n".join(lines[:sign_off]).strip()


def test_corpus_replies_lose_the_quoted_message_and_signature_but_not_the_question() -> None:
    with closing(mailbox.mbox(BENCH_MBOX, create=False)) as box:
        parsed = [parse_message(box.get_bytes(key)) for key in box.iterkeys()]
    replies = [message for message in parsed if message.subject.startswith("Re:")]

    assert len(replies) == 88
    assert all(" wrote:\n> " in message.text for message in replies)
    assert {m.message_id: m.new_text for m in replies} == {
        m.message_id: corpus_expected_new_text(m.text) for m in replies
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "Hallo,\n\ngilt das auch für 20610 mit Modifikator RT und LT am selben Tag?\n\n"
            "Viele Grüße\nJürgen Müller\n\n"
            "Am Mo., 5. Okt. 2026 um 09:14 Uhr schrieb CaseConsultant <\n"
            "consult@caseconsultant.example>:\n\n"
            "> Hallo Herr Müller,\n> 20610 hat einen MUE-Wert von 2.\n",
            "Hallo,\n\ngilt das auch für 20610 mit Modifikator RT und LT am selben Tag?",
            id="german-gmail-schrieb",
        ),
        pytest.param(
            "Bonjour,\n\nEt pour 20610 avec le modificateur LT, faut-il deux lignes ?\n\n"
            "Cordialement,\nFrançois Lefèvre\n\n"
            "> Le 5 oct. 2026 à 09:14, CaseConsultant <consult@caseconsultant.example> a écrit :\n"
            "> \n> Bonjour,\n> 20610 a une valeur MUE de 2.\n",
            "Bonjour,\n\nEt pour 20610 avec le modificateur LT, faut-il deux lignes ?",
            id="french-apple-mail-a-ecrit",
        ),
        pytest.param(
            "Et pour 20611 ?\n\n"
            "Le lun. 5 oct. 2026 à 09:14, CaseConsultant <consult@caseconsultant.example> a\n"
            "écrit :\n\n> 20610 a une valeur MUE de 2.\n",
            "Et pour 20611 ?",
            id="french-gmail-a-ecrit-wrapped",
        ),
        pytest.param(
            "Et pour 20611 ?\n\n"
            "Le lun. 5 oct. 2026 à 09:14, CaseConsultant <consult@caseconsultant.example>"
            " a écrit\u00a0:\n> 20610 a une valeur MUE de 2.\n",
            "Et pour 20611 ?",
            id="french-a-ecrit-no-break-space",
        ),
        pytest.param(
            "Hola,\n\n¿Y para 20610 con el modificador RT se factura una sola unidad?\n\n"
            "Saludos,\nJosé Muñoz\n\n"
            "El lun, 5 oct 2026 a las 9:14, CaseConsultant (<consult@caseconsultant.example>)"
            " escribió:\n\n> Hola José,\n> 20610 tiene un MUE de 2.\n",
            "Hola,\n\n¿Y para 20610 con el modificador RT se factura una sola unidad?",
            id="spanish-gmail-escribio",
        ),
        pytest.param(
            "¿Y con 20611?\n\n"
            "> El 5 oct 2026, a las 9:14, CaseConsultant <consult@caseconsultant.example>"
            " escribió:\n> \n> 20610 tiene un MUE de 2.\n",
            "¿Y con 20611?",
            id="spanish-apple-mail-escribio",
        ),
        pytest.param(
            "¿Aplica a 20611?\n\n"
            "De: CaseConsultant <consult@caseconsultant.example>\n"
            "Enviado: lunes, 5 de octubre de 2026 9:14\nPara: José Muñoz <jmunoz@x.example>\n"
            "Asunto: RE: 20610\n\nHola José,\n20610 tiene un MUE de 2.\n",
            "¿Aplica a 20611?",
            id="spanish-outlook-de-enviado",
        ),
    ],
)
def test_quoted_reply_headers_in_other_languages_are_cut(text: str, expected: str) -> None:
    assert new_text(text) == expected


def test_inline_reply_keeps_the_answers_between_the_quoted_lines() -> None:
    text = (
        "Hi,\n\n"
        "On Mon, Oct 5, 2026 at 9:14 AM CaseConsultant <consult@caseconsultant.example> wrote:\n\n"
        "> Was the second injection into the same knee?\n\n"
        "No, the left knee; the first was the right.\n\n"
        "> Was a separate E/M service documented?\n\n"
        "Yes, a diabetes follow-up. So is it 99213-25, 20610-RT and 20610-LT?\n\n"
        "> CaseConsultant\n\n"
        "Thanks,\nMark Scott\n"
    )

    assert new_text(text) == (
        "Hi,\n\nNo, the left knee; the first was the right.\n\n"
        "Yes, a diabetes follow-up. So is it 99213-25, 20610-RT and 20610-LT?"
    )


def test_quoted_lines_without_a_header_are_dropped() -> None:
    text = "> Did the payer deny 97140?\nYes, with CO-97. Is 59 enough or do we need XU?\n"

    assert new_text(text) == "Yes, with CO-97. Is 59 enough or do we need XU?"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "Can 99213-25 go with 20610 in the office?\n\n-- \nAmy Park\nCedar Ortho\n",
            "Can 99213-25 go with 20610 in the office?",
            id="dash-dash-space-delimiter",
        ),
        pytest.param(
            "Hello,\n\nThe claim for 97110 x 4 units was cut to 2. Is that the MUE?\n\n"
            "Regards,\nLinda Moore\nBilling Specialist\nMeadowclinic\nPhone: (874) 555-3722\n",
            "Hello,\n\nThe claim for 97110 x 4 units was cut to 2. Is that the MUE?",
            id="regards-name-title-clinic-phone",
        ),
        pytest.param(
            "Please confirm whether 20956 needs modifier 59 when billed with 20902.\n\n"
            "Best regards,\nDr. Ann Lee, MD\nMedical Director, Cedar Orthopedics\n"
            "1200 N Main Street, Suite 300\nSpringfield, IL 62704\n"
            "Phone: (217) 555-0142 | Fax: (217) 555-0143\nNPI: 1234567890\n",
            "Please confirm whether 20956 needs modifier 59 when billed with 20902.",
            id="phone-fax-npi-street-address-zip",
        ),
        pytest.param(
            "Which modifier goes on 64483 when both sides are injected?\n\n"
            "Sincerely, Paul Adams\nRiver Cardiology\n",
            "Which modifier goes on 64483 when both sides are injected?",
            id="sign-off-and-name-on-one-line",
        ),
    ],
)
def test_signature_is_removed(text: str, expected: str) -> None:
    assert new_text(text) == expected


def test_corpus_question_signatures_are_removed() -> None:
    first = parse_message((QUESTIONS / "01.eml").read_bytes())
    sixth = parse_message((QUESTIONS / "06.eml").read_bytes())

    assert first.new_text == (
        "Hi team,\n"
        "Arthroscopic knee, medial and lateral meniscectomy 29880 plus chondroplasty in a\n"
        "separate compartment 29877. Is 29877 bundled, and would modifier 59 or XS bypass\n"
        "the edit? Dx M23.221 and M94.261."
    )
    assert sixth.new_text == (
        "Patient is on day 30 of the global period for 52601 and returns to the OR for\n"
        "bleeding control, 52214. Modifier 78 or 79? Dx N99.820."
    )


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            "Two questions:\n- Can 20956 be billed with 20902?\n- Do I need modifier 59?",
            id="questions-as-a-dash-list",
        ),
        pytest.param(
            "I looked at the edit table.\n"
            "Thanks, but the payer says 59 is not enough. Should we use XU?",
            id="thanks-comma-starting-a-sentence",
        ),
        pytest.param(
            "We billed 20610-RT.\n\nThanks,\nAmy\n\nP.S. Is 20611 any different?",
            id="question-after-the-sign-off",
        ),
        pytest.param(
            "Thank you,\nthe edit is clear now. We will bill 20611 next time.",
            id="sign-off-line-that-opens-the-message",
        ),
    ],
)
def test_text_that_only_looks_like_a_signature_is_kept(text: str) -> None:
    assert new_text(text) == text


def test_sign_off_after_a_kept_question_list_is_removed() -> None:
    text = (
        "Two questions:\n- Can 20956 be billed with 20902?\n- Do I need modifier 59?\n\n"
        "Thanks,\nAmy\n"
    )

    assert new_text(text) == (
        "Two questions:\n- Can 20956 be billed with 20902?\n- Do I need modifier 59?"
    )


@pytest.mark.parametrize(
    "separator",
    [
        pytest.param("---------- Forwarded message ---------", id="gmail"),
        pytest.param("Begin forwarded message:", id="apple-mail"),
        pytest.param("-------- Forwarded Message --------", id="thunderbird"),
    ],
)
def test_forwarded_message_below_new_text_is_cut(separator: str) -> None:
    text = (
        f"Can you check this denial for 20956 with 20902?\n\n{separator}\n\n"
        "From: Dr. Ann Lee <alee@cedarortho.example>\nDate: Mon, Oct 5, 2026 at 9:14 AM\n"
        "Subject: Denial\nTo: Amy Park <apark@cedarortho.example>\n\nDenied: CO-97.\n"
    )

    assert new_text(text) == "Can you check this denial for 20956 with 20902?"


def test_forwarded_message_without_new_text_is_kept_whole() -> None:
    text = (
        "---------- Forwarded message ---------\n"
        "From: Dr. Ann Lee <alee@cedarortho.example>\nDate: Mon, Oct 5, 2026 at 9:14 AM\n"
        "Subject: 20956\nTo: Amy Park <apark@cedarortho.example>\n\n"
        "Can 20956 be billed with 20902 on the same day?"
    )

    assert new_text(text) == text


def test_message_that_is_only_a_quote_keeps_its_text() -> None:
    text = (
        "On Mon, Oct 5, 2026 at 9:14 AM Amy Park <apark@cedarortho.example> wrote:\n"
        "> Can 20956 be billed with 20902 on the same day?"
    )

    assert new_text(text) == text


def test_message_without_quote_or_signature_is_unchanged() -> None:
    text = "We only read the tracing. Is it 93010 or 93000-26? Dx I48.91."

    assert new_text(text) == text


# The question with what it points to (issue 9) --------------------------------------------

DENIAL = """Hi, see the denial below. Is XU the right fix, or 59?

Thanks
Dana

-----Original Message-----
From: Payer Claims <claims@payer.example>
Sent: Monday, November 2, 2026 9:00 AM
To: Dana
Subject: Claim denial

Line 2 97530 denied CO-97: bundled with 97140 (NCCI). DOS 10/20/2026.
"""


def test_a_denial_the_question_points_to_is_part_of_it() -> None:
    asked = question_text(DENIAL, "consult@caseconsultant.example")
    assert asked.startswith("Hi, see the denial below. Is XU the right fix, or 59?\n\n")
    assert asked.endswith("Line 2 97530 denied CO-97: bundled with 97140 (NCCI). DOS 10/20/2026.")
    assert new_text(DENIAL) == "Hi, see the denial below. Is XU the right fix, or 59?"


def test_a_forwarded_message_is_part_of_the_question_without_being_pointed_to() -> None:
    text = (
        "What do you make of this?\n\n---------- Forwarded message ---------\n"
        "From: Dr. Lee <lee@clinic.example>\nSubject: op note\n\n"
        "We did 20956 and 20902 through separate incisions.\n"
    )
    assert question_text(text).endswith("We did 20956 and 20902 through separate incisions.")


@pytest.mark.parametrize(
    "text",
    [
        # Our own answer quoted below a thank-you that points to it.
        "Thanks, see below.\n\nOn Mon, Nov 2, 2026 at 9:00 AM CaseConsultant "
        "<consult@caseconsultant.example> wrote:\n> 29877 is bundled into 29880.\n",
        # Our thread by its reference, whoever's address is on the header.
        "Per the thread below, one more question: 99213?\n\n-----Original Message-----\n"
        "From: Amy <amy@clinic.example>\nSubject: RE: [CC-000001] NCCI\n\n29880 and 29877\n",
        # A quoted message the new text does not point to.
        "And for 99214?\n\nOn Mon, Nov 2, 2026 at 9:00 AM Amy <amy@clinic.example> wrote:\n"
        "> 29880 and 29877\n",
    ],
)
def test_quoted_history_is_not_part_of_the_question(text: str) -> None:
    assert question_text(text, "consult@caseconsultant.example") == new_text(text)
