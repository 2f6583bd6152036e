"""The probes an operator's load balancer calls: /healthz and /readyz, signed out."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from config import Settings
from consultant.services import build_services
from consultant.web import create_app
from tests.support.required import free_port


def _probe(settings: Settings, path: str) -> tuple[int, dict[str, object], str]:
    services = build_services(settings)
    try:
        response = create_app(services).test_client().get(path)
        return response.status_code, response.get_json(), response.headers["Cache-Control"]
    finally:
        services.db.dispose()


def test_healthz_answers_without_a_database(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    # A liveness probe touches nothing: a slow database must not get the process restarted.
    down = f"postgresql://nobody@127.0.0.1:{free_port()}/none"
    status, body, cache = _probe(make_settings(database_url=down), "/healthz")
    assert (status, body, cache) == (200, {"status": "ok"}, "no-store")


def test_readyz_is_ready_on_a_migrated_database_without_a_broker(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    status, body, _ = _probe(make_settings(database_url=database_url), "/readyz")
    assert status == 200
    assert body == {"status": "ready", "checks": {"database": "ok"}}


def test_readyz_checks_the_broker_when_tasks_go_through_one(
    make_settings: Callable[..., Settings], sqlite_url: str, redis_url: str
) -> None:
    status, body, _ = _probe(
        make_settings(database_url=sqlite_url, broker_url=redis_url), "/readyz"
    )
    assert status == 200
    assert body["checks"] == {"database": "ok", "broker": "ok"}


def test_readyz_says_503_and_which_part_is_missing_and_nothing_more(
    make_settings: Callable[..., Settings], sqlite_url: str
) -> None:
    port = free_port()
    broker = f"redis://:secret-password@127.0.0.1:{port}/0"
    status, body, _ = _probe(make_settings(database_url=sqlite_url, broker_url=broker), "/readyz")
    assert status == 503
    assert body == {"status": "not ready", "checks": {"database": "ok", "broker": "unavailable"}}

    down = f"postgresql://nobody:pw@127.0.0.1:{port}/none"
    status, body, _ = _probe(make_settings(database_url=down), "/readyz")
    assert (status, body["checks"]) == (503, {"database": "unavailable"})
    assert str(port) not in str(body)  # no host, port, user or error text for strangers


def test_readyz_is_not_ready_before_the_schema_is_migrated(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    # A web process started before `consultant db upgrade` would fail on every page.
    empty = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    status, body, _ = _probe(make_settings(database_url=empty), "/readyz")
    assert (status, body["checks"]) == (503, {"database": "schema not migrated"})
