"""Readiness checks for the operator's load balancer and orchestrator.

``ready`` answers "may this process take work now?": the database answers and
its schema is this version's (a web process started before ``consultant
db upgrade`` would fail on every page), and the broker answers where one is
configured (without it an approval would be committed but its send would wait
for the sweep). Each check says only ``ok`` or what is wrong in a few words:
the page is open to anyone who can reach it, so it names no host, user or
error text; the log has the details.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache

from sqlalchemy import text

from consultant.db import Database, alembic_config

log = logging.getLogger(__name__)
CHECK_TIMEOUT_SECONDS = 2.0
OK = "ok"


@dataclass(frozen=True)
class Readiness:
    checks: dict[str, str]

    @property
    def ready(self) -> bool:
        return all(state == OK for state in self.checks.values())


@cache
def _head(url: str) -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(url)).get_current_head() or ""


def database_state(db: Database) -> str:
    """``ok``, ``unavailable`` or ``schema not migrated``."""
    from alembic.runtime.migration import MigrationContext

    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = MigrationContext.configure(connection).get_current_revision()
    except Exception as error:  # any failure to answer is "not ready"
        log.warning("readiness: the database did not answer: %s", error)
        return "unavailable"
    if current != _head(db.url):
        log.warning("readiness: schema at %s, this version needs %s", current, _head(db.url))
        return "schema not migrated"
    return OK


def broker_state(broker_url: str) -> str:
    """``ok`` or ``unavailable``: one connection to the broker, within a short timeout."""
    from kombu import Connection

    try:
        with Connection(broker_url, connect_timeout=CHECK_TIMEOUT_SECONDS) as connection:
            connection.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT_SECONDS)
    except Exception as error:
        log.warning("readiness: the broker did not answer: %s", error)
        return "unavailable"
    return OK


def readiness(db: Database, broker_url: str | None) -> Readiness:
    """Every check this process depends on; the broker only when tasks go through one."""
    checks = {"database": database_state(db)}
    if broker_url:
        checks["broker"] = broker_state(broker_url)
    return Readiness(checks)
