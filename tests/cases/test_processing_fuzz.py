"""Bounded fuzz of the whole processing path: hostile bytes in, a case or a reason out.

Each example is stored through the intake and processed in-process (parser,
machine-mail rules, router, extractor, drafting) on one SQLite database, the
examples accumulating as real mail does. Whatever the bytes, the message ends
processed: on a case awaiting review, or ignored or failed with its reason,
within a time bound, and nothing written holds a NUL. ``bench/fuzz_pipeline.py``
runs the same for much longer.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from config import Settings
from consultant.db import upgrade
from consultant.services import Services, build_services
from tests.conftest import CONSULT_ADDRESS
from tests.support.cases import file_messages
from tests.support.hostile_mail import mail
from tests.support.pipeline import MAX_SECONDS, outcome_of

EXAMPLES = 150


@pytest.fixture(scope="module")
def fuzz_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """One database for every example: later mail meets the cases earlier mail made."""
    var = tmp_path_factory.mktemp("fuzz") / "var"
    url = f"sqlite:///{Path(var) / 'consultant.db'}"
    upgrade(url)
    built = build_services(Settings(var_dir=var, database_url=url, consult_address=CONSULT_ADDRESS))
    yield built
    built.db.dispose()


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(raw=mail)
def test_every_message_ends_on_a_case_or_set_aside_with_a_reason(
    fuzz_services: Services, raw: bytes
) -> None:
    started = time.perf_counter()
    ids = file_messages(fuzz_services, raw)
    elapsed = time.perf_counter() - started

    assert elapsed < MAX_SECONDS, f"processing took {elapsed:.2f} s"
    for inbound_id in ids:  # none when the same message was delivered before
        outcome_of(fuzz_services, inbound_id)  # asserts what every outcome must hold
