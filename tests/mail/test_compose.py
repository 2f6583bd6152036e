from __future__ import annotations

import email
import re
from dataclasses import replace
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage

from consultant.mail.compose import Outgoing, compose

REPLY = Outgoing(
    sender_name="CaseConsultant",
    sender_address="consult@caseconsultant.example",
    recipients=("apark@cedarortho.example",),
    subject="Re: NCCI: 29880 and 29877 [CC-000001]",
    message_id="<m1@caseconsultant.example>",
    date=datetime(2026, 10, 6, 9, 30, tzinfo=UTC),
    text="Dear Amy Park,\n\n29877 is bundled into 29880.\n",
    html="<p>Dear Amy Park,</p><p>29877 is bundled into 29880.</p>",
    in_reply_to="<s01.20261005@mail.example>",
    references=("<s01.20261005@mail.example>", "<ack1@caseconsultant.example>"),
)


def parsed(out: Outgoing) -> EmailMessage:
    return email.message_from_bytes(compose(out), policy=policy.default)  # type: ignore[return-value]


def content(part: object) -> str:
    """A part's text as a mail client shows it (the wire's CRLF line ends as newlines)."""
    return part.get_content().replace("\r\n", "\n")  # type: ignore[attr-defined]


def test_headers_parse_back_unchanged() -> None:
    msg = parsed(REPLY)

    assert msg["From"] == "CaseConsultant <consult@caseconsultant.example>"
    assert msg["To"] == "apark@cedarortho.example"
    assert msg["Subject"] == "Re: NCCI: 29880 and 29877 [CC-000001]"
    assert msg["Message-ID"] == "<m1@caseconsultant.example>"
    assert msg["In-Reply-To"] == "<s01.20261005@mail.example>"
    assert msg["References"] == "<s01.20261005@mail.example> <ack1@caseconsultant.example>"
    assert msg["Date"].datetime == datetime(2026, 10, 6, 9, 30, tzinfo=UTC)


def test_text_and_html_parts_parse_back_unchanged() -> None:
    msg = parsed(REPLY)

    assert msg.get_content_type() == "multipart/alternative"
    assert content(msg.get_body(("plain",))) == REPLY.text
    assert content(msg.get_body(("html",))).strip() == REPLY.html


def test_text_only_message_has_no_html_part() -> None:
    msg = parsed(replace(REPLY, html=None))

    assert msg.get_content_type() == "text/plain"
    assert content(msg) == REPLY.text


def test_every_line_ends_with_crlf() -> None:
    raw = compose(REPLY)

    assert raw.count(b"\n") == raw.count(b"\r\n")
    assert b"\r" not in raw.replace(b"\r\n", b"")


def test_every_line_fits_rfc_5322_limit() -> None:
    raw = compose(replace(REPLY, text="29880 " * 400 + "\n"))

    assert max(len(line) for line in raw.split(b"\r\n")) <= 998


def test_reply_has_no_auto_submitted() -> None:
    msg = parsed(REPLY)

    assert "Auto-Submitted" not in msg
    assert "X-Auto-Response-Suppress" not in msg


def test_acknowledgment_is_auto_replied() -> None:
    msg = parsed(replace(REPLY, auto_reply=True))

    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["X-Auto-Response-Suppress"] == "All"


def test_every_message_carries_our_loop_marker() -> None:
    assert parsed(REPLY)["X-Loop"] == "consult@caseconsultant.example"


def test_first_message_of_a_thread_has_no_threading_headers() -> None:
    msg = parsed(replace(REPLY, in_reply_to=None, references=()))

    assert "In-Reply-To" not in msg
    assert "References" not in msg


NON_ASCII = replace(
    REPLY,
    sender_name="Consultoría Médica",
    recipients=("José Núñez <jose@elpaso-care.example>",),
    subject="Re: pregunta señora 99204 — diagnóstico [CC-000002]",
    text="Estimada señora,\n\nEl diagnóstico I10 va con 99204.\n",
    html="<p>Estimada señora, el diagnóstico I10 va con 99204.</p>",
)


def test_non_ascii_display_name_round_trips() -> None:
    msg = parsed(NON_ASCII)

    assert msg["From"].addresses[0].display_name == "Consultoría Médica"
    assert msg["From"].addresses[0].addr_spec == "consult@caseconsultant.example"
    assert msg["To"].addresses[0].display_name == "José Núñez"


def test_non_ascii_subject_round_trips() -> None:
    assert parsed(NON_ASCII)["Subject"] == NON_ASCII.subject


def test_non_ascii_body_round_trips() -> None:
    msg = parsed(NON_ASCII)

    assert content(msg.get_body(("plain",))) == NON_ASCII.text
    assert content(msg.get_body(("html",))).strip() == NON_ASCII.html


def test_non_ascii_message_is_seven_bit_on_the_wire() -> None:
    raw = compose(NON_ASCII)

    assert raw.isascii()
    assert not re.search(rb"(?im)^Content-Transfer-Encoding: 8bit", raw)
