"""The sweep restarts committed work whose task was lost, and nothing runs twice."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select

from config import Settings
from consultant.cases.sweep import sweep
from consultant.jobs import run_job
from consultant.models import Case, InboundMessage, OutboundMessage
from consultant.services import Services, build_services
from tests.support.cases import file_messages
from tests.support.corpus import question_files


class LosingDispatcher:
    """A broker that loses every task until told to deliver them."""

    def __init__(self) -> None:
        self.deliver = False
        self.lost: list[tuple[str, int | list[int]]] = []

    def bind(self, services: Services) -> None:
        self.services = services

    def __call__(self, task: str, row_id: int | list[int]) -> None:
        if self.deliver:
            run_job(self.services, task, row_id)
        else:
            self.lost.append((task, row_id))


def _count(services: Services, column: object) -> int:
    with services.db.session() as session:
        return session.scalar(select(func.count(column)))


def test_lost_tasks_are_restarted_by_the_sweep(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    dispatcher = LosingDispatcher()
    settings = make_settings(database_url=database_url, stale_after_seconds=0.001)
    services = build_services(settings, dispatch=dispatcher)
    file_messages(services, *(path.read_bytes() for path in question_files()))
    assert dispatcher.lost == [("process_messages", list(range(1, 13)))]
    assert _count(services, Case.id) == 0

    dispatcher.deliver = True
    report = sweep(services)
    assert report.messages == 12
    assert _count(services, Case.id) == 12
    with services.db.session() as session:
        states = set(session.scalars(select(OutboundMessage.state)))
        unprocessed = session.scalar(
            select(func.count(InboundMessage.id)).where(InboundMessage.processed_at.is_(None))
        )
    assert states == {"sent"} and unprocessed == 0

    again = sweep(services)
    assert (again.messages, again.sends) == (0, 0)
    assert _count(services, Case.id) == 12
    assert _count(services, OutboundMessage.id) == 12
    services.db.dispose()


def test_fresh_work_is_left_to_its_own_task(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    dispatcher = LosingDispatcher()
    settings = make_settings(database_url=database_url, stale_after_seconds=3600)
    services = build_services(settings, dispatch=dispatcher)
    file_messages(services, *(path.read_bytes() for path in question_files()[:2]))
    assert sweep(services).messages == 0
    services.db.dispose()
