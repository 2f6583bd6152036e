from __future__ import annotations

import pytest

from config import Settings
from consultant.mail.addresses import reply_address
from consultant.mail.parse import MessageParseError, ParseLimits, parse_message
from tests.support.corpus import QUESTIONS, special


def question(name: str) -> bytes:
    return (QUESTIONS / name).read_bytes()


def message(*headers: str, body: str = "Is 99213 billable with 25?\r\n") -> bytes:
    return ("\r\n".join(headers) + "\r\n\r\n" + body).encode()


TRUNCATED_BEFORE_TEXT = message(
    "From: coder@clinic.example",
    "Subject: op note",
    "Message-ID: <cut1@clinic.example>",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="XX"',
    body=(
        "--XX\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0x"
    ),
)


def test_quoted_printable_soft_line_breaks_are_joined() -> None:
    parsed = parse_message(question("01.eml"))

    assert "meniscectomy 29880 plus chondroplasty in a\nseparate compartment 29877" in parsed.text
    assert "modifier 59 or XS bypass\nthe edit?" in parsed.text
    assert "=\n" not in parsed.text


def test_corpus_question_headers_are_decoded() -> None:
    parsed = parse_message(question("01.eml"))

    assert parsed.subject == "NCCI: 29880 and 29877"
    assert (parsed.from_name, parsed.from_address) == ("Amy Park", "apark@cedarortho.example")
    assert parsed.message_id == "<s01.20261005@mail.example>"
    assert parsed.date is not None and parsed.date.isoformat() == "2026-10-05T13:23:00+00:00"


def test_unknown_charset_body_decodes_to_spanish_text() -> None:
    parsed = parse_message(special("bad_charset.eml"))

    assert "señora de 70 años" in parsed.text
    assert "diagnóstico I10" in parsed.text
    assert "99204" in parsed.text
    assert "\ufffd" not in parsed.text


def test_unknown_charset_subject_is_still_read() -> None:
    parsed = parse_message(special("bad_charset.eml"))

    assert parsed.subject == "pregunta 99204"


def test_body_declared_utf8_but_written_in_cp1252_keeps_accents() -> None:
    raw = (
        b"From: clinic@elpaso-care.example\r\nSubject: consulta\r\n"
        b'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'
        b"Se\xf1ora, diagn\xf3stico I10, 99204.\r\n"
    )

    assert parse_message(raw).text == "Señora, diagnóstico I10, 99204.\n"


def test_raw_latin1_display_name_is_decoded() -> None:
    raw = b"From: Jos\xe9 N\xfa\xf1ez <jose@clinic.example>\r\nSubject: 99213\r\n\r\nIs it ok?\r\n"

    parsed = parse_message(raw)

    assert parsed.from_name == "José Núñez"
    assert parsed.from_address == "jose@clinic.example"


def test_html_only_mail_becomes_text_without_script() -> None:
    parsed = parse_message(special("html_only_with_attachment.eml"))

    assert parsed.text_from_html
    assert "Lap chole with cholangiogram: 47563 or 47562? Op note attached." in parsed.text
    assert "alert" not in parsed.text
    assert "<" not in parsed.text


def test_html_only_mail_lists_its_attachment() -> None:
    parsed = parse_message(special("html_only_with_attachment.eml"))

    assert [a.filename for a in parsed.attachments] == ["op note 2026-10-01.pdf"]
    assert parsed.attachments[0].content_type == "application/pdf"
    assert parsed.attachments[0].size > 0


def test_reply_to_is_read_beside_the_sender() -> None:
    raw = message(
        "From: Amy Park <apark@cedarortho.example>",
        "Reply-To: Billing Desk <Billing@CedarOrtho.example>",
        "Subject: 99213",
    )

    parsed = parse_message(raw)

    assert parsed.reply_to == ("billing@cedarortho.example",)
    assert parsed.from_address == "apark@cedarortho.example"
    # The same domain as the sender: answers go there (consultant.mail.addresses).
    assert reply_address(parsed.from_address, parsed.reply_to) == "billing@cedarortho.example"


def test_sender_is_reply_address_without_reply_to() -> None:
    parsed = parse_message(message("From: Amy Park <apark@cedarortho.example>", "Subject: 99213"))

    assert reply_address(parsed.from_address, parsed.reply_to) == "apark@cedarortho.example"


def test_in_reply_to_and_references_are_read() -> None:
    parsed = parse_message(special("follow_up.eml"))

    assert parsed.in_reply_to == ("<reply-1@caseconsultant.example>",)
    assert parsed.references == ("<s01.20261005@mail.example>", "<reply-1@caseconsultant.example>")


def test_thread_ids_put_the_latest_message_first() -> None:
    raw = message(
        "From: apark@cedarortho.example",
        "Subject: Re: 99213",
        "In-Reply-To: <c@x.example>",
        "References: <a@x.example>\r\n <b@x.example> <c@x.example>",
    )

    assert parse_message(raw).thread_ids == ("<c@x.example>", "<b@x.example>", "<a@x.example>")


def test_empty_message_is_a_parse_error() -> None:
    with pytest.raises(MessageParseError, match="empty message"):
        parse_message(b"")


def test_blank_lines_only_is_a_parse_error() -> None:
    with pytest.raises(MessageParseError, match="empty message"):
        parse_message(b"\r\n\r\n")


def test_message_without_from_parses_with_no_sender_and_a_defect() -> None:
    raw = message("To: consult@caseconsultant.example", "Subject: 99213")

    parsed = parse_message(raw)

    assert parsed.from_address == ""
    assert "no readable sender address" in parsed.defects
    assert "99213" in parsed.text


def test_truncated_multipart_without_text_part_is_a_parse_error() -> None:
    with pytest.raises(MessageParseError, match="truncated or malformed multipart") as error:
        parse_message(TRUNCATED_BEFORE_TEXT)

    assert "CloseBoundaryNotFoundDefect" in str(error.value)


def test_multipart_cut_off_after_its_headers_is_a_parse_error() -> None:
    raw = message(
        "From: coder@clinic.example",
        "Subject: op note",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="XX"',
        body="",
    )

    with pytest.raises(MessageParseError, match="truncated or malformed multipart"):
        parse_message(raw)


def test_truncated_multipart_with_text_part_parses_with_defects() -> None:
    raw = message(
        "From: coder@clinic.example",
        "Subject: op note",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="XX"',
        body=(
            "--XX\r\nContent-Type: text/plain\r\n\r\nIs 47563 right?\r\n"
            "--XX\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBE"
        ),
    )

    parsed = parse_message(raw)

    assert parsed.text.strip() == "Is 47563 right?"
    assert "CloseBoundaryNotFoundDefect" in parsed.defects


def test_message_without_message_id_has_none() -> None:
    parsed = parse_message(message("From: coder@clinic.example", "Subject: 99213"))

    assert parsed.message_id is None


def test_message_id_without_brackets_is_normalised() -> None:
    raw = message("From: coder@clinic.example", "Subject: 99213", "Message-ID: abc@clinic.example")

    assert parse_message(raw).message_id == "<abc@clinic.example>"


def test_limits_are_read_from_settings() -> None:
    limits = ParseLimits.from_settings(Settings(max_text_chars=2000, max_header_chars=1000))
    raw = message("From: coder@clinic.example", "Subject: 99213 " + "x" * 1500, body="y" * 3000)

    parsed = parse_message(raw, limits)

    assert (len(parsed.subject), len(parsed.text)) == (1000, 2000)
    assert parsed.limits == (
        "Subject of 1,506 characters cut to 1,000",
        "text cut at 2,000 characters",
    )
