"""Prometheus metrics of the whole deployment, read from the database and the broker.

The rows are the record of every process's work (poller, workers, sender,
web), so a scrape of any one role answers for all of them, exactly, across
restarts and however many processes run: nothing is lost when a process
dies, and no two processes' counters need adding up. The worker roles add
their own runtime metrics (``workers/metrics.py``).

Families (``consultant_`` prefix):

- ``messages_received_total`` stored inbound messages;
- ``messages_processed_total{route}`` processed, by what processing decided
  (``new_case``, ``follow_up``, ``earlier_message``, ``ignored``, ``failed``);
- ``messages_failed_total`` messages set aside on a failed case;
- ``cases{status}`` cases in each state;
- ``backlog{work}`` rows committed and not yet done (``processing``, ``sending``);
- ``queue_depth{queue}`` tasks waiting in each Celery queue (with a broker);
- ``reply_latency_seconds{kind}`` from the case's opening to each sent
  acknowledgment or expert reply (a histogram);
- ``send_errors_total{outcome}`` sending attempts that did not deliver
  (``retried``), messages given up (``failed``) and bounced afterwards (``bounced``).

and ``database_up`` (0 while the database does not answer).

Only counts: no address, subject or case reference is ever a label.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

import redis
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector, CollectorRegistry
from prometheus_client.utils import floatToGoString
from sqlalchemy import ColumnElement, Float, case, cast, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from consultant.db_errors import describe
from consultant.models import (
    Case,
    CaseStatus,
    InboundMessage,
    OutboundKind,
    OutboundMessage,
    OutboundState,
    Route,
)

if TYPE_CHECKING:
    from config import Settings
    from consultant.db import Database

log = logging.getLogger(__name__)
LATENCY_BUCKETS = (1.0, 5.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 24 * 3600.0)
LATENCY_KINDS = (OutboundKind.ACK, OutboundKind.REPLY)


class DeploymentCollector(Collector):
    """Collects the families above at each scrape (a few aggregate queries)."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db, self.settings = db, settings

    def collect(self) -> Iterator[Metric]:
        """The families; with the database away, only ``consultant_database_up 0``.

        A scrape never fails because of it: the worker's own runtime metrics
        in the same answer still count, and the gauge is what to alert on.
        """
        up = GaugeMetricFamily("consultant_database_up", "1 when the database answered.")
        try:
            with self.db.read_session() as session:
                found = [
                    *_messages(session),
                    *_cases(session),
                    *_backlog(session),
                    *_latency(session),
                    *_send_errors(session),
                ]
        except SQLAlchemyError as error:
            log.warning("deployment metrics unavailable: %s", describe(error))
            up.add_metric([], 0)
            yield up
        else:
            up.add_metric([], 1)
            yield up
            yield from found
        yield from _queue_depth(self.settings)


def registry_for(db: Database, settings: Settings) -> CollectorRegistry:
    """A registry holding only the deployment's families (no process metrics of the web)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DeploymentCollector(db, settings))
    return registry


def _messages(session: Session) -> Iterator[Metric]:
    received = CounterMetricFamily(
        "consultant_messages_received", "Inbound messages stored (poller, web asks)."
    )
    received.add_metric([], session.scalar(select(func.count(InboundMessage.id))) or 0)
    yield received
    processed = CounterMetricFamily(
        "consultant_messages_processed", "Inbound messages processed, by route.", labels=["route"]
    )
    counts: dict[str | None, int] = {
        route: n
        for route, n in session.execute(
            select(InboundMessage.route, func.count(InboundMessage.id))
            .where(InboundMessage.processed_at.is_not(None))
            .group_by(InboundMessage.route)
        )
    }
    for route in Route:
        processed.add_metric([route.value], counts.get(route.value, 0))
    yield processed
    failed = CounterMetricFamily(
        "consultant_messages_failed", "Inbound messages set aside on a failed case."
    )
    failed.add_metric([], counts.get(Route.FAILED.value, 0))
    yield failed


def _cases(session: Session) -> Iterator[Metric]:
    family = GaugeMetricFamily("consultant_cases", "Cases in each state.", labels=["status"])
    counts: dict[str, int] = {
        status: n
        for status, n in session.execute(
            select(Case.status, func.count(Case.id)).group_by(Case.status)
        )
    }
    for status in CaseStatus:
        family.add_metric([status.value], counts.get(status.value, 0))
    yield family


def _backlog(session: Session) -> Iterator[Metric]:
    family = GaugeMetricFamily(
        "consultant_backlog", "Work committed and not yet done.", labels=["work"]
    )
    unprocessed = select(func.count(InboundMessage.id)).where(InboundMessage.processed_at.is_(None))
    unsent = select(func.count(OutboundMessage.id)).where(
        OutboundMessage.state.in_((OutboundState.QUEUED, OutboundState.SENDING))
    )
    family.add_metric(["processing"], session.scalar(unprocessed) or 0)
    family.add_metric(["sending"], session.scalar(unsent) or 0)
    yield family


def _seconds_between(session: Session, start: ColumnElement, end: ColumnElement) -> ColumnElement:
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def _latency(session: Session) -> Iterator[Metric]:
    family = HistogramMetricFamily(
        "consultant_reply_latency_seconds",
        "From a case's opening to each acknowledgment or expert reply sent on it.",
        labels=["kind"],
    )
    seconds = cast(_seconds_between(session, Case.created_at, OutboundMessage.sent_at), Float)
    columns = [func.sum(case((seconds <= bound, 1), else_=0)) for bound in LATENCY_BUCKETS]
    rows = {
        kind: (count, total, *buckets)
        for kind, count, total, *buckets in session.execute(
            select(
                OutboundMessage.kind,
                func.count(OutboundMessage.id),
                func.coalesce(func.sum(seconds), 0.0),
                *columns,
            )
            .join(Case, Case.id == OutboundMessage.case_id)
            .where(OutboundMessage.sent_at.is_not(None), OutboundMessage.kind.in_(LATENCY_KINDS))
            .group_by(OutboundMessage.kind)
        )
    }
    for kind in LATENCY_KINDS:
        count, total, *buckets = rows.get(kind.value, (0, 0.0, *[0] * len(LATENCY_BUCKETS)))
        family.add_metric(
            [kind.value],
            [
                (floatToGoString(b), int(n or 0))
                for b, n in zip(LATENCY_BUCKETS, buckets, strict=True)
            ]
            + [("+Inf", int(count))],
            sum_value=float(total or 0.0),
        )
    yield family


def _send_errors(session: Session) -> Iterator[Metric]:
    family = CounterMetricFamily(
        "consultant_send_errors",
        "Sending that did not deliver: attempts retried, messages failed, bounced.",
        labels=["outcome"],
    )
    retried, failed, bounced = session.execute(
        select(
            func.coalesce(
                func.sum(case((OutboundMessage.attempts > 1, OutboundMessage.attempts - 1))), 0
            ),
            func.sum(case((OutboundMessage.state == OutboundState.FAILED, 1), else_=0)),
            func.sum(case((OutboundMessage.state == OutboundState.BOUNCED, 1), else_=0)),
        )
    ).one()
    family.add_metric(["retried"], int(retried or 0))
    family.add_metric(["failed"], int(failed or 0))
    family.add_metric(["bounced"], int(bounced or 0))
    yield family


def _queue_depth(settings: Settings) -> Iterator[Metric]:
    if not settings.broker_url:
        return
    family = GaugeMetricFamily(
        "consultant_queue_depth", "Tasks waiting in each Celery queue.", labels=["queue"]
    )
    try:
        client = redis.Redis.from_url(settings.broker_url, socket_timeout=2)
        for queue in (settings.task_queue, settings.send_queue):
            family.add_metric([queue], int(client.llen(queue)))  # type: ignore[arg-type]
    except Exception as error:  # the broker away: the other families still answer
        log.warning("queue depth unavailable: %s", error)
        return
    yield family
