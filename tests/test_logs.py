"""Log lines name their case: in-process here, in a real worker in the fault matrix's baseline."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from consultant.logs import bound, formatter, install_context, note
from consultant.models import Case
from consultant.services import Services
from tests.support.cases import answer_and_approve, file_messages
from tests.support.corpus import QUESTIONS, special


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """What the root logger writes in ``CONSULTANT_LOG_FORMAT=json`` while the test runs."""
    install_context()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter("json"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def _ours(stream: io.StringIO) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [line for line in lines if str(line["logger"]).startswith("consultant.")]


def test_each_line_about_a_message_or_a_reply_names_its_case(
    services: Services, json_lines: io.StringIO
) -> None:
    question = (QUESTIONS / "01.eml").read_bytes()
    file_messages(services, question, special("follow_up.eml"))
    with services.db.session() as session:
        reference = session.scalars(select(Case.reference)).one()
    answer_and_approve(services, reference)

    lines = _ours(json_lines)
    processed = [line for line in lines if str(line["message"]).startswith("inbound #")]
    sent = [line for line in lines if str(line["message"]).startswith("outbound #")]
    assert [line["message"] for line in processed] == [
        "inbound #1: new_case",
        "inbound #2: follow_up",
    ]
    # The acknowledgment (sent in-process once the intake's batch committed) and the reply.
    assert [(line["outbound"], line["inbound"]) for line in sent] == [(1, None), (2, None)]
    assert {line["case"] for line in lines} == {reference}
    # Nothing of the message itself: no subject, no address.
    assert "@" not in json_lines.getvalue().replace("consult@", "")


def test_a_note_reaches_the_enclosing_blocks_and_nothing_outside() -> None:
    install_context()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter("text"))
    log = logging.getLogger("consultant.test_logs")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        note(case="CC-000009")  # outside any block: ignored
        with bound(task="t-1"):
            with bound(inbound=7):
                note(case="CC-000001")
            log.info("task done")
        log.info("between tasks")
    finally:
        log.removeHandler(handler)
    first, second = stream.getvalue().splitlines()
    assert first.endswith("consultant.test_logs case=CC-000001: task done")
    assert second.endswith("consultant.test_logs case=-: between tasks")
