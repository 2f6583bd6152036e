"""The service level: how many hours a question may wait for an expert's reply."""

from __future__ import annotations

import math

from sqlalchemy.orm import Session

from config import Settings
from consultant.cases.app_settings import SLA_HOURS, read_setting, write_setting

MAX_SLA_HOURS = 24 * 366


class SlaError(ValueError):
    """Raised when an SLA value is not a number of hours an admin could mean."""


def sla_hours(session: Session, settings: Settings) -> float:
    """The SLA an admin set on the web, else CONSULTANT_SLA_HOURS."""
    value = read_setting(session, SLA_HOURS)
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return settings.sla_hours


def set_sla_hours(session: Session, hours: float, actor: str) -> None:
    """Store the SLA; refuses zero, negative, absurd or non-finite hours."""
    if not math.isfinite(hours) or not 0 < hours <= MAX_SLA_HOURS:
        raise SlaError(f"the SLA must be more than 0 and at most {MAX_SLA_HOURS} hours")
    write_setting(session, SLA_HOURS, hours, actor)
