from __future__ import annotations

from pathlib import Path

import pytest

from consultant.mail.automated import machine_reason
from consultant.mail.parse import parse_message
from tests.support.corpus import SPECIAL, question_files, special_expected

OURS = {"consult@caseconsultant.example"}
IGNORED = {
    name: spec["reason"] for name, spec in special_expected().items() if spec["route"] == "ignore"
}
PERSONS = [name for name, spec in special_expected().items() if spec["route"] != "ignore"]


def reason_for(raw: bytes) -> str | None:
    return machine_reason(parse_message(raw), OURS)


def message(*headers: str) -> bytes:
    base = ("From: Amy Park <apark@cedarortho.example>", "Subject: 99213 with 25")
    return ("\r\n".join([*base, *headers]) + "\r\n\r\nIs 99213-25 ok?\r\n").encode()


def test_corpus_has_every_kind_of_machine_mail() -> None:
    assert set(IGNORED.values()) == {"auto-reply", "bounce", "bulk", "loop"}


@pytest.mark.parametrize("name", sorted(IGNORED))
def test_machine_mail_in_corpus_gives_expected_reason(name: str) -> None:
    assert reason_for((SPECIAL / name).read_bytes()) == IGNORED[name]


@pytest.mark.parametrize("path", question_files(), ids=lambda p: p.name)
def test_corpus_question_is_from_a_person(path: Path) -> None:
    assert reason_for(path.read_bytes()) is None


@pytest.mark.parametrize("name", sorted(PERSONS))
def test_special_mail_that_opens_or_joins_a_case_is_from_a_person(name: str) -> None:
    assert reason_for((SPECIAL / name).read_bytes()) is None


def test_auto_submitted_no_is_a_person() -> None:
    assert reason_for(message("Auto-Submitted: no")) is None


def test_auto_submitted_with_parameters_is_auto_reply() -> None:
    assert reason_for(message("Auto-Submitted: auto-generated; owner-email=x@y.example")) == (
        "auto-reply"
    )


def test_x_autoreply_is_auto_reply() -> None:
    assert reason_for(message("X-Autoreply: yes")) == "auto-reply"


def test_null_return_path_is_bounce() -> None:
    assert reason_for(message("Return-Path: <>")) == "bounce"


def test_ordinary_return_path_is_a_person() -> None:
    assert reason_for(message("Return-Path: <apark@cedarortho.example>")) is None


def test_postmaster_sender_is_bounce() -> None:
    raw = message().replace(b"apark@cedarortho.example", b"Postmaster@cedarortho.example")

    assert reason_for(raw) == "bounce"


@pytest.mark.parametrize("precedence", ["bulk", "junk", "list", "Bulk"])
def test_bulk_precedence_is_bulk(precedence: str) -> None:
    assert reason_for(message(f"Precedence: {precedence}")) == "bulk"


def test_list_id_is_bulk() -> None:
    assert reason_for(message("List-Id: Coders <coders.lists.example>")) == "bulk"


def test_x_loop_with_our_address_is_loop() -> None:
    assert reason_for(message("X-Loop: Consult@CaseConsultant.example")) == "loop"


def test_x_loop_with_another_address_is_a_person() -> None:
    assert reason_for(message("X-Loop: helpdesk@cedarortho.example")) is None


def test_loop_wins_over_auto_reply() -> None:
    raw = message("Auto-Submitted: auto-replied", "X-Loop: consult@caseconsultant.example")

    assert reason_for(raw) == "loop"
