"""A release as lookups see it, read through the driver connection, and how to cite it.

One small value type serves every lookup (codes, notes, the CMS edit files)
and the ORM's ``CodeRelease`` cites itself through it, so a citation looks
the same wherever a fact comes from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from consultant.codes.choice import newest_first
from consultant.codes.readonly import Reader

_RELEASES = (
    "SELECT id, kind, setting, version, source, effective_from, details FROM code_release "
    "WHERE kind = ? AND setting = ?"
)


def as_day(value: date | str | None) -> date | None:
    """A date column as the driver returns it (PostgreSQL: date; SQLite: ISO text)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value[:10])


def as_dict(value: dict[str, Any] | str | None) -> dict[str, Any]:
    """A JSON column as the driver returns it (PostgreSQL: parsed; SQLite: text)."""
    if value is None:
        return {}
    return json.loads(value) if isinstance(value, str) else dict(value)


@dataclass(frozen=True)
class ReleaseRef:
    id: int
    kind: str
    setting: str
    version: str
    source: str
    effective_from: date
    details: dict[str, Any]

    def describe(self) -> dict[str, Any]:
        """The release as a citation: what a fact taken from it should name."""
        return {
            "id": self.id,
            "kind": self.kind,
            "setting": self.setting or None,
            "version": self.version,
            "effective": self.effective_from.isoformat(),
            "source": self.source,
        }


def read_releases(reader: Reader, kind: str, setting: str = "") -> list[ReleaseRef]:
    """Every release of ``kind`` (and ``setting``), in ``choice.newest_first`` order."""
    return newest_first(
        ReleaseRef(id_, kind_, setting_, version, source, as_day(start), as_dict(details))  # type: ignore[arg-type]
        for id_, kind_, setting_, version, source, start, details in reader.rows(
            _RELEASES, (kind, setting)
        )
    )


KIND_LABELS = {
    "icd10cm": "ICD-10-CM",
    "icd10pcs": "ICD-10-PCS",
    "hcpcs": "HCPCS Level II",
    "cpt": "CPT",
    "ncci-ptp": "NCCI PTP edits",
    "mue": "MUE",
    "aoc": "add-on code edits",
    "pfs": "PFS relative value file",
    "mcd-article": "Medicare Coverage Database articles",
    "mcd-lcd": "Medicare Coverage Database LCDs",
    "ncd": "National Coverage Determinations",
    "gpci": "PFS GPCIs",
    "locality": "PFS localities",
    "clfs": "Clinical Laboratory Fee Schedule",
}


def release_name(source: dict[str, Any]) -> str:
    """``NCCI PTP edits (practitioner) v323r0``: a release named as a reader knows it."""
    setting = f" ({source['setting']})" if source.get("setting") else ""
    return f"{KIND_LABELS.get(source['kind'], source['kind'])}{setting} {source['version']}"
