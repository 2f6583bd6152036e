"""The rehearsal a worker runs at start: the whole of processing once, nothing kept."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event, func, select

from config import Settings
from consultant.cases.processing import Outcome
from consultant.cases.rehearsal import rehearse
from consultant.models import (
    Base,
    Case,
)
from consultant.services import build_services
from consultant.warm_up import SAMPLE
from tests.support.cases import file_messages
from tests.support.corpus import QUESTIONS


def test_a_rehearsal_runs_processing_to_the_acknowledgment_and_keeps_nothing(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    services = build_services(make_settings(database_url=database_url))
    statements: list[str] = []
    try:
        with services.db.session() as session:
            before = {
                t.name: session.scalar(select(func.count()).select_from(t))
                for t in Base.metadata.sorted_tables
            }

        def seen(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
            statements.append(statement)

        event.listen(services.db.engine, "before_cursor_execute", seen)
        outcome = rehearse(services, SAMPLE)
        event.remove(services.db.engine, "before_cursor_execute", seen)

        with services.db.session() as session:
            after = {
                t.name: session.scalar(select(func.count()).select_from(t))
                for t in Base.metadata.sorted_tables
            }
        # The first real question gets the first reference: the rehearsal took no number.
        file_messages(services, (QUESTIONS / "01.eml").read_bytes())
        with services.db.session() as session:
            references = list(session.scalars(select(Case.reference)))
    finally:
        services.db.dispose()
    assert outcome == Outcome.NEW_CASE
    written = " ".join(statements)
    for table in ("case", "case_event", "draft", "outbound_message", "thread_ref", "case_search"):
        assert f"INSERT INTO {table} " in written or f'INSERT INTO "{table}" ' in written
    assert after == before
    assert references == ["CC-000001"]
