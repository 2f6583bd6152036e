from __future__ import annotations

import pytest

from consultant.mail.threads import (
    MAX_REFERENCES,
    message_ids_in,
    normalise_message_id,
    reference_in_subject,
    references_chain,
    reply_subject,
)

REF = "CC-000001"


@pytest.mark.parametrize(
    "subject",
    [
        "J1100 units",
        "Re: J1100 units",
        "RE: J1100 units",
        "Re: RE: re: J1100 units",
        "Fwd: J1100 units",
        "FW: Re: J1100 units",
        "AW: J1100 units",
        "Re[2]: J1100 units",
        "Re:J1100 units",
        "J1100 units [CC-000001]",
        "Re: J1100 units [CC-000001]",
        "Re: [Case CC-000001] J1100 units",
        "RE: Re: J1100 units [cc-000001] [Case CC-000001]",
        "Re: [CC-000001] Re: J1100 units",
    ],
)
def test_reply_subject_has_one_re_and_one_reference(subject: str) -> None:
    assert reply_subject(subject, REF, "CC") == "Re: J1100 units [CC-000001]"


def test_reply_subject_keeps_words_that_only_start_like_prefixes() -> None:
    assert reply_subject("Regarding 99213", REF, "CC") == "Re: Regarding 99213 [CC-000001]"


def test_reply_subject_collapses_whitespace() -> None:
    assert reply_subject("  99213 \t and  25 ", REF, "CC") == "Re: 99213 and 25 [CC-000001]"


def test_reply_subject_of_empty_subject_names_the_question() -> None:
    assert reply_subject("", REF, "CC") == "Re: your question [CC-000001]"


def test_reply_subject_of_reference_only_names_the_question() -> None:
    assert reply_subject("Re: [Case CC-000001]", REF, "CC") == "Re: your question [CC-000001]"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: NCCI [CC-000012]", "CC-000012"),
        ("Re: NCCI [Case CC-000012]", "CC-000012"),
        ("Re: NCCI [case cc-000012]", "CC-000012"),
        ("Re: NCCI [CC-1234567]", "CC-1234567"),
    ],
)
def test_reference_in_subject_is_found(subject: str, expected: str) -> None:
    assert reference_in_subject(subject, "CC") == expected


@pytest.mark.parametrize(
    "subject",
    ["Re: NCCI CC-000012", "Re: NCCI [CC-12]", "Re: NCCI [XY-000012]", "Re: NCCI", ""],
)
def test_reference_in_subject_is_absent(subject: str) -> None:
    assert reference_in_subject(subject, "CC") is None


def test_reference_in_subject_follows_the_configured_prefix() -> None:
    assert reference_in_subject("Re: NCCI [Case MED-000003]", "MED") == "MED-000003"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<s01.20261005@mail.example>", "<s01.20261005@mail.example>"),
        ("  <s01.20261005@mail.example> (added by relay)", "<s01.20261005@mail.example>"),
        ("s01.20261005@mail.example", "<s01.20261005@mail.example>"),
        ("", None),
        (None, None),
        ("no-at-sign", None),
    ],
)
def test_normalise_message_id(value: str | None, expected: str | None) -> None:
    assert normalise_message_id(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "<s01\x00.20261005@mail.example>",  # NUL: PostgreSQL refuses it in text
        "<s01.20261005@mail.\x01\x1f\x7fexample>",  # C0 controls and DEL
        "<s01.2026\x851005@mail.example>",  # NEL, a C1 control
        "<s01.20261005\x9b@mail.example>",  # CSI, a C1 control
        "<s01.20261005@mail\u2028.example\u2029>",  # line and paragraph separators
        "<s01. 20261005@mail.example>",
        "<s01.20261005\t@mail.example\r\n >",
        "<s01.20261005@mail.\xa0\u3000example>",  # no-break and ideographic spaces
        "<s01.2026\udcff1005@mail.example>",  # a byte that was not UTF-8
        "s01.20261005@mail.\x00example",  # without brackets
    ],
)
def test_normalise_message_id_drops_controls_and_whitespace(value: str) -> None:
    assert normalise_message_id(value) == "<s01.20261005@mail.example>"


@pytest.mark.parametrize("value", ["<\x00>", "<\x00 \u2028\x85>", "\x00\x00", " \t "])
def test_normalise_message_id_of_nothing_but_controls_is_none(value: str) -> None:
    assert normalise_message_id(value) is None


def test_message_ids_in_drops_controls_and_empty_ids() -> None:
    value = "<a\x00@x>\r\n <\x00\x85>\t<b@\u2028y> <a@x>"

    assert message_ids_in(value) == ("<a@x>", "<b@y>")


def test_references_chain_keeps_a_short_chain_in_order() -> None:
    assert references_chain(["<a@x>", "<b@x>", "<c@x>"]) == ["<a@x>", "<b@x>", "<c@x>"]


def test_references_chain_drops_repeats() -> None:
    assert references_chain(["<a@x>", "<b@x>", "<a@x>", "<b@x>"]) == ["<a@x>", "<b@x>"]


def test_references_chain_keeps_the_first_and_the_latest() -> None:
    ids = [f"<{n}@x>" for n in range(30)]

    chain = references_chain(ids)

    assert len(chain) == MAX_REFERENCES
    assert chain[0] == "<0@x>"
    assert chain[1:] == ids[-(MAX_REFERENCES - 1) :]


def test_an_id_too_long_to_be_a_key_is_no_id() -> None:
    """Real ids are short; 600 bytes of one would not fit a database index as a key."""
    long_id = "<" + "語" * 200 + "@x.example>"
    assert normalise_message_id(long_id) is None
    assert message_ids_in(f"<a@x.example> {long_id}") == ("<a@x.example>",)


def test_a_subject_longer_than_a_line_is_cut_at_a_word_in_ours() -> None:
    subject = reply_subject("Question about 99213 " + "very " * 200, "CC-000001", "CC")
    assert subject.endswith("… [CC-000001]")
    assert len(subject) < 170
    assert "  " not in subject
