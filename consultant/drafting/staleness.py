"""Whether a fact's release is the one for the date of service, by each kind's cadence.

Each kind of release is replaced on a known rhythm: HCPCS, NCCI PTP, MUE,
add-on edits and the PFS file every quarter, ICD-10-CM every October with an
April update, ICD-10-PCS every October, CPT every January. A release older
than its cadence allows for the date of service (or, for a code set, one that
starts after that date) is stale: what it lists may still be said, naming the
release, but nothing it lacks may be called not found, deleted or absent.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from consultant.codes.choice import CADENCE_MONTHS, months_later

CADENCE_WORDS = {3: "quarterly", 6: "twice a year", 12: "yearly"}
# Code sets say what a code is on a date; the CMS edit files keep each edit's own dates. A
# coverage export is a snapshot: for a date before it, the documents then in force may be
# missing from it (a "current" download holds no version retired before it was made).
CODE_SETS = frozenset({"hcpcs", "icd10cm", "icd10pcs", "cpt"})
SNAPSHOTS = frozenset({"mcd-article", "mcd-lcd", "ncd"})


def is_stale(source: dict[str, Any] | None, on: date) -> bool:
    """True when ``source`` (a cited release) is not the release for ``on``."""
    if not source or source.get("kind") not in CADENCE_MONTHS:
        return False
    effective = date.fromisoformat(str(source["effective"]))
    if source["kind"] in CODE_SETS | SNAPSHOTS and on < effective:
        return True
    return on >= months_later(effective, CADENCE_MONTHS[source["kind"]])


def cadence(kind: str) -> str:
    return CADENCE_WORDS[CADENCE_MONTHS[kind]]
