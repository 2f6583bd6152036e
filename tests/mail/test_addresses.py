"""Which addresses we write to, and whose Reply-To we honour."""

from __future__ import annotations

import pytest

from consultant.mail.addresses import clean_address, reply_address


@pytest.mark.parametrize(
    "value",
    [
        "dana@clinic.example",
        "Dana.Reyes+billing@Clinic.Example",
        "o'brien@clinic.example",
        "zoë@clinic.example",
    ],
)
def test_plain_addresses_are_accepted_lower_cased(value: str) -> None:
    assert clean_address(value) == value.lower()


@pytest.mark.parametrize(
    "value",
    [
        "",
        "da\x0bna@clinic.example",
        "da\x85na@clinic.example",
        "dana@clinic.example\r\nBcc: x@evil.example",
        "dana@clinic\u2028.example",
        "dana @clinic.example",
        '"dana"@clinic.example',
        "dana@@clinic.example",
        "dana@localhost",
        "dana@10.0.0.1",
        "dana@-clinic.example",
        "a" * 65 + "@clinic.example",
        "dana@" + "a" * 250 + ".example",
        "@clinic.example",
        "dana@",
    ],
)
def test_addresses_we_must_not_write_to_are_refused(value: str) -> None:
    assert clean_address(value) is None


def test_a_reply_to_elsewhere_is_ignored_unless_allowed() -> None:
    sender = "dana@clinic.example"
    assert reply_address(sender, ["pills@spam.example"]) == sender
    assert reply_address(sender, ["office@clinic.example"]) == "office@clinic.example"
    assert reply_address(sender, ["team@billing.example"], {"billing.example"}) == (
        "team@billing.example"
    )
    assert reply_address(sender, ["Team@Billing.example"], {"team@billing.example"}) == (
        "team@billing.example"
    )
    assert reply_address(sender, ["bad\x0b@clinic.example"]) == sender


def test_no_valid_sender_means_nobody_to_write_to() -> None:
    assert reply_address("da\x0bna@clinic.example", ["office@clinic.example"]) is None
    assert reply_address(None, []) is None
