"""What one code search reads: the releases in force, and of each its codes or modifiers.

Kept apart from the search itself so the SQLite and PostgreSQL halves of the
word search (``search_sqlite``, ``search_postgres``) share one description
of it and one rule for when the index holds rows to leave out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from consultant.codes.refs import ReleaseRef
from consultant.codes.systems import System

CODES = "code"
MODIFIERS = "modifier"


@dataclass(frozen=True)
class Scope:
    on: date
    billable: bool  # only what is valid on a claim on ``on``
    releases: dict[System, ReleaseRef]  # in force on ``on``, of the code sets asked for
    kinds: dict[int, tuple[str, ...]]  # by release id: CODES, MODIFIERS or both
    narrowed: bool  # the index holds rows outside the scope: other releases or kinds

    def system_of(self, release_id: int) -> System:
        return next(s for s, r in self.releases.items() if r.id == release_id)

    def release(self, release_id: int) -> ReleaseRef:
        return self.releases[self.system_of(release_id)]


def kinds_held(system: System) -> tuple[str, ...]:
    """What the index holds of a release of ``system``: HCPCS files list modifiers too."""
    return (CODES, MODIFIERS) if system == System.HCPCS else (CODES,)
