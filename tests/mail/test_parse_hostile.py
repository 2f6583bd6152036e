"""Hostile mail the parser once failed on: each now parses, with its fallback or limit recorded."""

from __future__ import annotations

import base64
import time
import tracemalloc

from consultant.mail.parse import DEFAULT_LIMITS, ParsedMessage, ParseLimits, parse_message
from tests.support.hostile_mail import assert_sound

QUESTION = "Is 99213 billable with modifier 25?"


def message(*headers: str, body: str = f"{QUESTION}\r\n") -> bytes:
    return ("\r\n".join(headers) + "\r\n\r\n" + body).encode("utf-8")


def html_message(html: str) -> bytes:
    return message("From: dana@ex.com", "Subject: html", "Content-Type: text/html", body=html)


def parsed_with_peak(raw: bytes) -> tuple[ParsedMessage, float]:
    """``raw`` parsed, and the most memory (MB) Python held meanwhile."""
    tracemalloc.start()
    try:
        parsed = parse_message(raw)
        return parsed, tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def nested(depth: int, leaf: str) -> str:
    """A part holding ``leaf`` inside ``depth`` multiparts, each with its own boundary."""
    part = leaf
    for level in range(depth, 0, -1):
        part = (
            f'Content-Type: multipart/mixed; boundary="n{level}"\r\n\r\n'
            f"--n{level}\r\n{part}\r\n--n{level}--\r\n"
        )
    return part


def test_from_with_an_unclosed_angle_bracket_has_no_address_and_says_so() -> None:
    parsed = parse_message(message("From: Dana <", "Subject: 99213"))

    assert parsed.from_address == ""
    assert parsed.from_name == "Dana"
    assert "From header unreadable: no address in its raw text" in parsed.defects
    assert "no readable sender address" in parsed.defects
    assert "99213" in parsed.text


def test_unreadable_from_falls_back_to_the_sender_header() -> None:
    raw = message("From: Dana <", "Sender: Billing <billing@ex.com>", "Subject: 99213")

    parsed = parse_message(raw)

    assert (parsed.from_name, parsed.from_address) == ("Billing", "billing@ex.com")
    assert "no usable From address: address taken from the Sender header" in parsed.defects


def test_unreadable_from_falls_back_to_the_return_path() -> None:
    parsed = parse_message(message("Return-Path: <dana@ex.com>", "From: <", "Subject: 99213"))

    assert parsed.from_address == "dana@ex.com"
    assert "no usable From address: address taken from the Return-Path header" in parsed.defects


def test_crlf_in_an_encoded_display_name_keeps_the_real_address_and_one_line_name() -> None:
    raw = message("From: =?utf-8?q?Dana=0D=0ABcc=3A_evil=40x.com?= <dana@ex.com>", "Subject: 99213")

    parsed = parse_message(raw)

    assert parsed.from_address == "dana@ex.com"
    assert "\r" not in parsed.from_name and "\n" not in parsed.from_name
    assert parsed.from_name.startswith("Dana")
    assert "From header unreadable: address taken from its raw text" in parsed.defects


def test_address_with_a_vertical_tab_is_refused_not_mended() -> None:
    parsed = parse_message(message("From: Dana <da\x0bna@ex.com>", "Subject: 99213"))

    assert parsed.from_address == ""
    assert parsed.from_name == "Dana"
    assert "From address refused: not a plain address we may write to" in parsed.defects
    assert "no readable sender address" in parsed.defects


def test_address_with_a_next_line_character_is_refused_not_mended() -> None:
    parsed = parse_message(message("From: Dana <da\u0085na@ex.com>", "Subject: 99213"))

    assert parsed.from_address == ""
    assert "no readable sender address" in parsed.defects
    assert_sound(parsed, DEFAULT_LIMITS)


def test_reply_to_with_a_control_character_is_dropped() -> None:
    raw = message("From: dana@ex.com", "Reply-To: <bil\x0bling@ex.com>", "Subject: 99213")

    parsed = parse_message(raw)

    assert parsed.reply_to == ()
    assert "Reply-To address refused: not a plain address we may write to" in parsed.defects


def test_message_id_folded_onto_a_continuation_line() -> None:
    raw = message("From: dana@ex.com", "Message-ID:\r\n <abc@ex.com>", "Subject: 99213")

    assert parse_message(raw).message_id == "<abc@ex.com>"


def test_message_id_folded_in_its_middle() -> None:
    raw = message("From: dana@ex.com", "Message-ID: <abc@\r\n ex.com>", "Subject: 99213")

    assert parse_message(raw).message_id == "<abc@ex.com>"


def test_references_folded_inside_an_id_are_read_whole() -> None:
    raw = message(
        "From: dana@ex.com", "Subject: Re: 99213", "References: <a@ex.com> <b@\r\n\tex.com>"
    )

    assert parse_message(raw).references == ("<a@ex.com>", "<b@ex.com>")


def test_mime_nested_a_thousand_deep_parses_fast_with_the_depth_note() -> None:
    body = (
        "--top\r\nContent-Type: text/plain\r\n\r\n" + QUESTION + "\r\n"
        "--top\r\n" + nested(1000, "Content-Type: text/plain\r\n\r\ndeep") + "\r\n--top--\r\n"
    )
    raw = message(
        "From: dana@ex.com",
        "Subject: deep",
        'Content-Type: multipart/mixed; boundary="top"',
        body=body,
    )

    started = time.perf_counter()
    parsed = parse_message(raw)

    assert time.perf_counter() - started < 1.0
    assert parsed.text.strip() == QUESTION
    assert parsed.limits == ("MIME nesting deeper than 20 levels: deeper parts were not read",)


def test_nul_bytes_are_gone_from_subject_name_headers_and_text() -> None:
    raw = (
        b"From: Da\x00na <dana@ex.com>\r\nSubject: 99213\x00 and 25\r\n"
        b"X-Loop: a\x00b\r\nMessage-ID: <\x00nul@ex.com>\r\n\r\n"
        b"Can I bill\x00 99213-25 with 11102?\r\n\x00"
    )

    parsed = parse_message(raw)

    assert parsed.subject == "99213 and 25"
    assert parsed.from_name == "Da na"
    assert parsed.headers["x-loop"] == "a b"
    assert parsed.text == "Can I bill 99213-25 with 11102?\n"
    assert_sound(parsed, DEFAULT_LIMITS)


def test_ten_megabytes_of_html_convert_only_the_first_megabyte() -> None:
    paragraph = "<p>Office visit with modifier 25, then an injection.</p>\n"
    html = f"<p>{QUESTION}</p>" + paragraph * (10 * 2**20 // len(paragraph)) + "<p>TAIL</p>"
    raw = message("From: dana@ex.com", "Subject: html", "Content-Type: text/html", body=html)

    parsed = parse_message(raw)

    assert parsed.text_from_html
    assert parsed.text.startswith(QUESTION)
    assert "TAIL" not in parsed.text
    assert len(parsed.text) == 50_000
    assert parsed.limits == (
        f"HTML body of {len(html):,} bytes: only the first 1,000,000 bytes were converted to text",
        "text cut at 50,000 characters",
    )


def test_thirty_megabyte_attachment_size_is_estimated_not_decoded() -> None:
    encoded = base64.encodebytes(b"%PDF" * (30 * 2**20 // 4)).decode()
    body = (
        f"--XX\r\nContent-Type: text/plain\r\n\r\n{QUESTION}\r\n"
        "--XX\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
        f'Content-Disposition: attachment; filename="scan.pdf"\r\n\r\n{encoded}--XX--\r\n'
    )
    raw = message(
        "From: dana@ex.com",
        "Subject: scan",
        'Content-Type: multipart/mixed; boundary="XX"',
        body=body,
    )

    parsed = parse_message(raw)

    [attachment] = parsed.attachments
    assert (attachment.filename, attachment.size) == ("scan.pdf", 31_457_280)
    assert parsed.limits == (
        'attachment "scan.pdf" of about 31,457,280 bytes (estimated from its encoded length, '
        "over 25,000,000 bytes): not decoded",
    )
    assert "99213" in parsed.text


def test_megabyte_subject_is_cut() -> None:
    parsed = parse_message(message("From: dana@ex.com", "Subject: " + "9" * 2**20))

    assert len(parsed.subject) == 8_000
    assert parsed.limits == ("Subject of 1,048,576 characters cut to 8,000",)


def test_plain_text_is_cut_at_the_limit() -> None:
    body = QUESTION + "\r\n" + "x" * 60_000

    parsed = parse_message(message("From: dana@ex.com", "Subject: long", body=body))

    assert len(parsed.text) == 50_000
    assert parsed.text.startswith(QUESTION)
    assert parsed.limits == ("text cut at 50,000 characters",)


def test_parts_beyond_the_cap_are_not_read() -> None:
    parts = "".join(f"--XX\r\nContent-Type: image/png\r\n\r\npng {n}\r\n" for n in range(20))
    body = f"--XX\r\nContent-Type: text/plain\r\n\r\n{QUESTION}\r\n{parts}--XX--\r\n"
    raw = message(
        "From: dana@ex.com",
        "Subject: 99213",
        'Content-Type: multipart/mixed; boundary="XX"',
        body=body,
    )

    parsed = parse_message(raw, ParseLimits(max_mime_parts=5))

    assert len(parsed.attachments) == 3  # the root, the text part and three images make five
    assert parsed.limits == ("more than 5 MIME parts: parts after the first 5 were not read",)


def test_a_million_empty_parts_are_not_all_made() -> None:
    body = f"--XX\r\n\r\n{QUESTION}\r\n" + "--XX\r\n\r\n" * 1_000_000 + "--XX--\r\n"
    raw = message(
        "From: dana@ex.com",
        "Subject: 99213",
        'Content-Type: multipart/mixed; boundary="XX"',
        body=body,
    )

    started = time.perf_counter()
    parsed = parse_message(raw)

    assert time.perf_counter() - started < 1.0
    assert parsed.text.strip() == QUESTION
    assert parsed.limits == ("more than 500 MIME parts: parts after the first 500 were not read",)


def test_boundary_in_a_charset_the_stdlib_cannot_decode_is_taken_raw() -> None:
    body = f"--XX\r\nContent-Type: text/plain\r\n\r\n{QUESTION}\r\n--XX--\r\n"
    raw = message(
        "From: dana@ex.com",
        "Subject: 99213",
        "Content-Type: multipart/mixed; boundary*=idna''XX",
        body=body,
    )

    parsed = parse_message(raw)

    assert parsed.text.strip() == QUESTION
    assert "multipart boundary unreadable: its raw text was used" in parsed.defects


def test_charset_that_is_no_charset_is_ignored() -> None:
    body = "-" + "99a" * 100_000  # seconds of work for the punycode codec
    raw = message(
        "From: dana@ex.com",
        "Subject: 99213",
        "Content-Type: text/html; charset=punycode",
        body=body,
    )

    started = time.perf_counter()
    parsed = parse_message(raw)

    assert time.perf_counter() - started < 1.0
    assert parsed.text.startswith("-99a99a")


def test_html_nested_deeper_than_lxml_reads_is_stripped_of_tags() -> None:
    html = "<div>" * 300 + QUESTION
    raw = message("From: dana@ex.com", "Subject: html", "Content-Type: text/html", body=html)

    parsed = parse_message(raw)

    assert parsed.text.strip() == QUESTION
    assert "HTML converter found no text: tags stripped instead" in parsed.defects


def test_invalid_content_type_reads_as_plain_text() -> None:
    parsed = parse_message(message("From: dana@ex.com", "Content-Type: /"))

    assert parsed.text.strip() == QUESTION


def test_inline_padding_cannot_inflate_the_text() -> None:
    html = f"<p>{QUESTION}</p>" + '<p style="padding-left:99999em">9</p>' * 2000

    parsed, peak = parsed_with_peak(html_message(html))

    assert parsed.text.startswith(QUESTION)
    assert max(len(line) for line in parsed.text.splitlines()) < 100
    assert peak < 50  # was 760 MB


def test_table_too_large_to_pad_is_read_one_cell_per_line() -> None:
    rows = "<tr><td>25</td><td>1 unit</td></tr>" * 2000
    html = f"<table><tr><td>{QUESTION}</td><td>{'x' * 100_000}</td></tr>{rows}</table>"

    parsed, peak = parsed_with_peak(html_message(html))

    assert QUESTION in parsed.text.splitlines()
    assert parsed.limits[0] == (
        "HTML tables of more than 1,000,000 characters laid out or 10,000 cells: "
        "read one cell per line"
    )
    assert peak < 50  # was 580 MB


def test_lists_nested_deeper_than_eight_levels_are_not_indented_further() -> None:
    html = "<ul><li>" * 100 + QUESTION + "</li></ul>" * 100

    parsed = parse_message(html_message(html))

    [line] = [line for line in parsed.text.splitlines() if "99213" in line]
    assert line.strip().endswith(QUESTION)
    assert len(line) - len(line.lstrip()) <= 8 * 4
    assert parsed.limits == ("HTML lists nested deeper than 8 levels: not indented",)


def test_many_tables_just_under_the_budget_are_not_all_laid_out() -> None:
    # Each table alone lays out to some 900,000 characters: under the budget.
    table = "<table><tr><td>25</td><td>" + "x" * 6000 + "</td></tr>"
    html = f"<p>{QUESTION}</p>" + (table + "<tr><td>1</td><td>2</td></tr>" * 150 + "</table>") * 25

    parsed, peak = parsed_with_peak(html_message(html))

    assert parsed.text.startswith(QUESTION)
    assert peak < 20  # was 65 MB
