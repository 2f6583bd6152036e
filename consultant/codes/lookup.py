"""Looking codes up as of a date of service; every answer names the release it came from.

No mail, web or Celery here: drafting calls this, and so does the CLI.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from consultant.codes import modifiers
from consultant.codes.cms_edits import CmsEditLookups
from consultant.codes.icd10cm_notes import CodeNotes, Conflicts, excludes1_conflicts, notes
from consultant.codes.releases import in_force
from consultant.codes.systems import RELEASE_KIND, System, candidates
from consultant.codes.tables import CodeEntry, CodeRelease

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


def _entry_result(
    session: Session, system: System, entry: CodeEntry, release: CodeRelease, on: date
) -> CodeResult:
    result = CodeResult(
        system=str(system),
        code=entry.code,
        found=True,
        valid=False,
        billable=entry.billable,
        status=Status.ACTIVE,
        description=entry.long_description,
        short_description=entry.short_description,
        release=release.describe(),
        effective=(entry.effective or entry.added).isoformat()
        if (entry.effective or entry.added)
        else None,
        terminated=entry.terminated.isoformat() if entry.terminated else None,
        details=dict(entry.details or {}),
    )
    starts = entry.effective or entry.added
    if entry.terminated is not None and entry.terminated < on:
        result.status = Status.TERMINATED
        result.message = f"terminated on {entry.terminated.isoformat()}"
    elif starts is not None and starts > on:
        result.status = Status.NOT_YET_EFFECTIVE
        result.message = f"effective from {starts.isoformat()}"
    elif not entry.billable:
        result.status = Status.HEADER
        result.children = [
            {"code": code, "description": text}
            for code, text in session.execute(
                select(CodeEntry.code, CodeEntry.long_description)
                .where(CodeEntry.release_id == release.id, CodeEntry.parent == entry.code)
                .order_by(CodeEntry.code)
                .limit(MAX_CHILDREN)
            )
        ]
        result.message = "not valid on a claim by itself: it needs more characters"
    else:
        result.valid = True
    return result


def _elsewhere(
    session: Session, system: System, code: str, current: CodeRelease
) -> CodeResult | None:
    """The code in another release of the system: deleted since, or not yet in force."""
    row = session.execute(
        select(CodeEntry, CodeRelease)
        .join(CodeRelease, CodeRelease.id == CodeEntry.release_id)
        .where(CodeEntry.code == code, CodeRelease.kind == current.kind)
        .order_by(CodeRelease.effective_from.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    entry, release = row
    later = release.effective_from > current.effective_from
    return CodeResult(
        system=str(system),
        code=code,
        found=True,
        valid=False,
        billable=entry.billable,
        status=Status.NOT_YET_EFFECTIVE if later else Status.DELETED,
        description=entry.long_description,
        short_description=entry.short_description,
        release=release.describe(),
        message=(
            f"first in the release effective {release.effective_from.isoformat()}"
            if later
            else f"not in the release in force ({current.version}); last in {release.version}"
        ),
    )


class CodeLookup(CmsEditLookups):
    """Answers about codes, notes, modifiers, edits and indicators, as of a date of service.

    The one service drafting needs: code lookups here, the CMS edit files
    (PTP, MUE, add-on, PFS) from ``CmsEditLookups``.
    """

    def code(self, system: System, code: str, on: date | None = None) -> CodeResult:
        """One code of ``system`` as of ``on`` (today by default)."""
        on = on or date.today()
        with self.db.session() as session:
            release = in_force(session, RELEASE_KIND[system], on)
            if release is None:
                return CodeResult(
                    system=str(system),
                    code=code,
                    found=False,
                    valid=False,
                    billable=False,
                    status=Status.NO_DATA,
                    message=NO_DATA_REASON.get(
                        system, f"no {system} release is loaded for {on.isoformat()}"
                    ),
                )
            entry = session.get(CodeEntry, (release.id, code))
            if entry is not None:
                return _entry_result(session, system, entry, release, on)
            other = _elsewhere(session, system, code, release)
            if other is not None:
                return other
            return CodeResult(
                system=str(system),
                code=code,
                found=False,
                valid=False,
                billable=False,
                status=Status.NOT_FOUND,
                release=release.describe(),
                message=f"not a {system} code in {release.version}",
            )

    def icd10cm_notes(self, code: str, on: date | None = None) -> CodeNotes:
        """The instructional notes governing an ICD-10-CM code, its own and its ancestors'."""
        with self.db.session() as session:
            release = in_force(session, RELEASE_KIND[System.ICD10CM], on or date.today())
            return notes(session, release, code)

    def excludes1_conflicts(self, codes: list[str], on: date | None = None) -> Conflicts:
        """The pairs among ICD-10-CM ``codes`` that an Excludes1 note forbids together."""
        with self.db.session() as session:
            release = in_force(session, RELEASE_KIND[System.ICD10CM], on or date.today())
            return excludes1_conflicts(session, release, codes)

    def find(self, text: str, on: date | None = None) -> CodeResult | None:
        """The code ``text`` is, by its shape and then the data; None if no shape fits."""
        readings = candidates(text)
        if not readings:
            return None
        results = [self.code(system, code, on) for system, code in readings]
        return next((r for r in results if r.found), results[0])

    def modifier(self, code: str, on: date | None = None) -> modifiers.ModifierResult:
        """A modifier's meaning (official HCPCS text where loaded) and its NCCI role."""
        with self.db.session() as session:
            return modifiers.modifier(code, session, on or date.today())
