"""Which release is stale for a date of service, by each kind's update cadence."""

from __future__ import annotations

from datetime import date

import pytest

from consultant.drafting.staleness import is_stale


def release(kind: str, effective: str) -> dict[str, str]:
    return {"kind": kind, "effective": effective, "version": "v", "id": "1"}


@pytest.mark.parametrize(
    ("kind", "effective", "on", "stale"),
    [
        ("ncci-ptp", "2026-10-01", date(2026, 12, 31), False),  # its own quarter
        ("ncci-ptp", "2026-10-01", date(2027, 1, 1), True),  # the next quarter's file is due
        ("hcpcs", "2020-01-01", date(2026, 12, 1), True),
        ("icd10cm", "2026-04-01", date(2026, 9, 30), False),  # the April update, until October
        ("icd10cm", "2026-04-01", date(2026, 10, 1), True),
        ("icd10cm", "2025-10-01", date(2026, 3, 31), False),
        ("cpt", "2026-01-01", date(2026, 12, 31), False),
        ("cpt", "2026-01-01", date(2027, 1, 1), True),
        ("hcpcs", "2026-10-01", date(2026, 9, 30), True),  # a code set newer than the date
        ("ncci-ptp", "2026-10-01", date(2026, 9, 30), False),  # edits keep their own dates
    ],
)
def test_a_release_is_stale_past_its_cadence(
    kind: str, effective: str, on: date, stale: bool
) -> None:
    assert is_stale(release(kind, effective), on) is stale


def test_no_release_or_an_unknown_kind_is_never_called_stale() -> None:
    assert is_stale(None, date(2026, 12, 1)) is False
    assert is_stale(release("our-summary", "2001-01-01"), date(2026, 12, 1)) is False
