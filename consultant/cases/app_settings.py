"""Settings admins change on the web (table ``app_setting``), each over its environment default.

A row holds a JSON value and who set it; no row means the default applies.
Writing is an upsert that two admins saving at once cannot turn into an error.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consultant.models import AppSetting, utcnow

SLA_HOURS = "sla_hours"
UNKNOWN_SENDERS = "unknown_senders"
SNIPPETS_SEEDED = "snippets_seeded"


def read_setting(session: Session, key: str) -> Any | None:
    """The stored value of ``key``, or None when no admin has set it."""
    row = session.get(AppSetting, key)
    return row.value if row is not None else None


def write_setting(session: Session, key: str, value: Any, actor: str) -> None:
    """Store ``value`` for ``key`` in the caller's transaction, recording who set it."""
    row = session.get(AppSetting, key)
    if row is None:
        try:
            with session.begin_nested():
                session.add(AppSetting(key=key, value=value, updated_by=actor))
            return
        except IntegrityError:  # another admin inserted it a moment ago: update theirs
            row = session.get_one(AppSetting, key, populate_existing=True)
    row.value, row.updated_by, row.updated_at = value, actor, utcnow()
