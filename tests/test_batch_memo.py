"""What a batch remembers lasts exactly as long as the batch: outside one, every read is fresh."""

from __future__ import annotations

from sqlalchemy import select

from consultant.batch_memo import memo, remembered, remembering
from consultant.cases import senders
from consultant.models import SenderRule
from consultant.services import Services


def test_a_value_is_loaded_once_inside_a_batch_and_every_time_outside() -> None:
    loads: list[int] = []

    def load() -> int:
        loads.append(1)
        return len(loads)

    assert (memo("k", load), memo("k", load)) == (1, 2)
    with remembered():
        assert remembering()
        assert (memo("k", load), memo("k", load)) == (3, 3)
        with remembered():  # a batch inside a batch starts afresh
            assert memo("k", load) == 4
        assert memo("k", load) == 3
    assert not remembering() and memo("k", load) == 5


def test_a_sender_rule_added_between_two_batches_counts_in_the_second(
    services: Services,
) -> None:
    with remembered(), services.db.session() as session:
        before = senders.allowed_patterns(session, services.settings)
    with services.db.session() as session:
        session.add(SenderRule(pattern="clinic.example", added_by="admin@caseconsultant.example"))
    with remembered(), services.db.session() as session:
        after = senders.allowed_patterns(session, services.settings)
        assert session.scalar(select(SenderRule.pattern)) == "clinic.example"

    assert "clinic.example" not in before and "clinic.example" in after
