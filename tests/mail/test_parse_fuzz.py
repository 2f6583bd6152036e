"""Bounded fuzz of the parser: hostile header lines, broken MIME trees and random bytes.

Whatever the bytes, ``parse_message`` returns a ParsedMessage whose strings a
header and PostgreSQL can take, or raises MessageParseError with a message, in
bounded time; the loop rules and the extractor then run on the result.
``bench/fuzz_parser.py`` runs the same generator (``mail``, from
``tests/support/hostile_mail.py``) much longer.
"""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consultant.mail.parse import DEFAULT_LIMITS, ParseLimits, parse_message
from tests.support.hostile_mail import (
    QUESTION,
    assert_sound,
    envelope_line,
    exercise,
    header_block,
    limits,
    mail,
)

MAX_SECONDS = 2.0  # a bound per example, not a benchmark

FUZZ = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@FUZZ
@given(raw=mail, limits=limits)
def test_any_mail_parses_soundly_or_is_refused_with_a_reason(
    raw: bytes, limits: ParseLimits
) -> None:
    assert exercise(raw, limits).seconds < MAX_SECONDS


@settings(FUZZ, max_examples=100)
@given(headers=st.lists(envelope_line, min_size=1, max_size=12))
def test_hostile_envelope_headers_never_hide_the_question(headers: list[str]) -> None:
    raw = header_block(headers) + b"\r\n" + QUESTION.encode()

    started = time.perf_counter()
    parsed = parse_message(raw)

    assert time.perf_counter() - started < MAX_SECONDS
    assert_sound(parsed, DEFAULT_LIMITS)
    assert "99213" in parsed.text
