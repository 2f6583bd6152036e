"""/metrics: what a Prometheus scrape of the web role reads, and who may read it."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import redis
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from config import Settings
from consultant.models import Case
from consultant.services import Services, build_services
from consultant.web import create_app
from tests.support.cases import answer_and_approve, file_messages, store_only
from tests.support.corpus import QUESTIONS, special
from tests.support.smtp import SmtpServer

TOKEN = "scrape-" + "x" * 32


def _scrape(services: Services, token: str | None = TOKEN) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = create_app(services).test_client().get("/metrics", headers=headers)
    return response.status_code, response.get_data(as_text=True)


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_are_off_until_a_token_is_set_and_need_it(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    off = build_services(make_settings(database_url=database_url))
    on = build_services(make_settings(database_url=database_url, metrics_token=TOKEN))
    try:
        assert _scrape(off)[0] == 404
        assert _scrape(on, token=None)[0] == 401
        assert _scrape(on, token=TOKEN[:-1] + "y")[0] == 401
        status, text = _scrape(on)
        assert status == 200 and "consultant_messages_received_total 0.0" in text
    finally:
        off.db.dispose(), on.db.dispose()


def test_a_scrape_counts_what_happened(
    make_settings: Callable[..., Settings], database_url: str, smtp_server: SmtpServer
) -> None:
    services = build_services(
        make_settings(
            database_url=database_url,
            metrics_token=TOKEN,
            smtp_host=smtp_server.host,
            smtp_port=smtp_server.port,
            smtp_tls="none",
        )
    )
    try:
        smtp_server.fail_next("550 5.1.1 no such user")  # the first acknowledgment
        first, second = (QUESTIONS / "01.eml").read_bytes(), (QUESTIONS / "02.eml").read_bytes()
        file_messages(services, first, second, special("follow_up.eml"))
        with services.db.session() as session:
            reference = session.scalars(select(Case.reference).order_by(Case.id)).first()
        assert reference is not None
        answer_and_approve(services, reference)

        status, text = _scrape(services)
        found = _samples(text)
    finally:
        services.db.dispose()
    assert status == 200
    assert found[("consultant_messages_received_total", ())] == 3
    assert found[("consultant_messages_processed_total", (("route", "new_case"),))] == 2
    assert found[("consultant_messages_processed_total", (("route", "follow_up"),))] == 1
    assert found[("consultant_messages_failed_total", ())] == 0
    assert found[("consultant_cases", (("status", "awaiting_review"),))] == 1
    assert found[("consultant_cases", (("status", "sent"),))] == 1
    assert found[("consultant_backlog", (("work", "processing"),))] == 0
    assert found[("consultant_backlog", (("work", "sending"),))] == 0
    # One acknowledgment refused for good, one sent; the expert's reply sent.
    assert found[("consultant_send_errors_total", (("outcome", "failed"),))] == 1
    assert found[("consultant_reply_latency_seconds_count", (("kind", "ack"),))] == 1
    assert found[("consultant_reply_latency_seconds_count", (("kind", "reply"),))] == 1
    assert (
        found[("consultant_reply_latency_seconds_bucket", (("kind", "reply"), ("le", "60.0")))] == 1
    )
    assert 0 <= found[("consultant_reply_latency_seconds_sum", (("kind", "reply"),))] < 60
    # No address, subject or reference in a label or anywhere in the answer.
    assert "@" not in text and reference not in text


def test_queue_depth_and_backlog_with_a_broker_and_no_worker(
    make_settings: Callable[..., Settings], sqlite_url: str, redis_url: str
) -> None:
    queue = f"cc-metrics-{uuid.uuid4().hex[:8]}"
    services = build_services(
        make_settings(
            database_url=sqlite_url, broker_url=redis_url, task_queue=queue, metrics_token=TOKEN
        )
    )
    try:
        file_messages(services, *(p.read_bytes() for p in sorted(QUESTIONS.glob("0[1-3].eml"))))
        store_only(services, (QUESTIONS / "04.eml").read_bytes())
        found = _samples(_scrape(services)[1])
    finally:
        services.db.dispose()
        redis.Redis.from_url(redis_url).delete(queue, f"{queue}.send")
    # The three messages filed together wait as one task that carries all three ids.
    assert found[("consultant_queue_depth", (("queue", queue),))] == 1
    assert found[("consultant_queue_depth", (("queue", f"{queue}.send"),))] == 0
    assert found[("consultant_backlog", (("work", "processing"),))] == 4
