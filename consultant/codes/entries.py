"""Looking a code up as of a date: status, description, the release it came from.

Read through a driver connection (see ``readonly``), so that `consultant
codes show` starts and answers without loading SQLAlchemy at all.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from consultant.codes.choice import choose, newest_first
from consultant.codes.readonly import Reader
from consultant.codes.refs import ReleaseRef, as_day, as_dict, read_releases
from consultant.codes.systems import RELEASE_KIND, System, candidates

MAX_CHILDREN = 60


class Status:
    """What a code is on the date asked."""

    ACTIVE = "active"
    HEADER = "header"  # valid only with more characters: the children are named
    NOT_YET_EFFECTIVE = "not_yet_effective"
    TERMINATED = "terminated"
    DELETED = "deleted"  # in an earlier release, no longer in the one in force
    NOT_FOUND = "not_found"
    NO_DATA = "no_data"  # no release of this system is loaded for that date


NO_DATA_REASON = {
    System.CPT: (
        "no CPT data is loaded: CPT descriptors are licensed by the AMA; the operator "
        "imports their own file with `consultant codes import cpt FILE`"
    ),
}


@dataclass
class CodeResult:
    """One code as of one date."""

    system: str
    code: str
    found: bool
    valid: bool
    billable: bool
    status: str
    description: str | None = None
    short_description: str | None = None
    release: dict[str, Any] | None = None
    children: list[dict[str, str]] = field(default_factory=list)
    effective: str | None = None
    terminated: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    message: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_ENTRY = (
    "SELECT billable, short_description, long_description, added, effective, terminated, "
    "details FROM code_entry WHERE release_id = ? AND code = ?"
)
# No ORDER BY: with one, SQLite walks the whole release in code order instead of using
# the (release_id, parent) index; a code has at most a few hundred children to sort here.
_CHILDREN = "SELECT code, long_description FROM code_entry WHERE release_id = ? AND parent = ?"
_ELSEWHERE = (
    "SELECT release_id, billable, short_description, long_description FROM code_entry "
    "WHERE code = ? AND release_id IN ({marks})"
)


class CodeReader:
    """Code lookups over a read-only driver connection."""

    def __init__(self, url: str) -> None:
        self.reader = Reader(url)

    def code(self, system: System, code: str, on: date | None = None) -> CodeResult:
        """One code of ``system`` as of ``on`` (today by default)."""
        on = on or date.today()
        releases = read_releases(self.reader, RELEASE_KIND[system])
        release = choose(releases, on)
        base = {
            "system": str(system),
            "code": code,
            "found": False,
            "valid": False,
            "billable": False,
        }
        if release is None:
            reason = NO_DATA_REASON.get(system, f"no {system} release is loaded")
            return CodeResult(**base, status=Status.NO_DATA, message=reason)
        rows = self.reader.rows(_ENTRY, (release.id, code))
        if rows:
            return self._entry(system, code, rows[0], release, on)
        return self._elsewhere(system, code, releases, release) or CodeResult(
            **base,
            status=Status.NOT_FOUND,
            release=release.describe(),
            message=f"not a {system} code in {release.version}",
        )

    def find(self, text: str, on: date | None = None) -> CodeResult | None:
        """The code ``text`` is, by its shape and then the data; None if no shape fits."""
        readings = candidates(text)
        if not readings:
            return None
        results = [self.code(system, code, on) for system, code in readings]
        return next((r for r in results if r.found), results[0])

    def _entry(
        self, system: System, code: str, row: tuple[Any, ...], release: ReleaseRef, on: date
    ) -> CodeResult:
        billable, short, long, added, effective, terminated, details = row
        starts = as_day(effective) or as_day(added)
        ends = as_day(terminated)
        result = CodeResult(
            system=str(system),
            code=code,
            found=True,
            valid=False,
            billable=bool(billable),
            status=Status.ACTIVE,
            description=long,
            short_description=short,
            release=release.describe(),
            effective=starts.isoformat() if starts else None,
            terminated=ends.isoformat() if ends else None,
            details=as_dict(details),
        )
        if ends is not None and ends < on:
            result.status, result.message = Status.TERMINATED, f"terminated on {ends.isoformat()}"
        elif starts is not None and starts > on:
            result.status = Status.NOT_YET_EFFECTIVE
            result.message = f"effective from {starts.isoformat()}"
        elif not billable:
            result.status = Status.HEADER
            children = sorted(self.reader.rows(_CHILDREN, (release.id, code)))[:MAX_CHILDREN]
            result.children = [{"code": child, "description": text} for child, text in children]
            result.message = "not valid on a claim by itself: it needs more characters"
        else:
            result.valid = True
        return result

    def _elsewhere(
        self, system: System, code: str, releases: list[ReleaseRef], current: ReleaseRef
    ) -> CodeResult | None:
        """The code in another release of the system: deleted since, or not yet in force."""
        others = [r for r in releases if r.id != current.id]
        if not others:
            return None
        marks = ", ".join("?" for _ in others)
        rows = self.reader.rows(_ELSEWHERE.format(marks=marks), (code, *(r.id for r in others)))
        by_id = {r.id: r for r in others}
        found = newest_first(by_id[row[0]] for row in rows)
        if not found:
            return None
        release = found[0]
        _, billable, short, long = next(row for row in rows if row[0] == release.id)
        later = release.effective_from > current.effective_from
        return CodeResult(
            system=str(system),
            code=code,
            found=True,
            valid=False,
            billable=bool(billable),
            status=Status.NOT_YET_EFFECTIVE if later else Status.DELETED,
            description=long,
            short_description=short,
            release=release.describe(),
            message=(
                f"first in the release effective {release.effective_from.isoformat()}"
                if later
                else f"not in the release in force ({current.version}); last in {release.version}"
            ),
        )
