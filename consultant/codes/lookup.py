"""Looking codes up as of a date of service; every answer names the release it came from.

No mail, web or Celery here: drafting calls this, and so does the CLI.
"""

from __future__ import annotations

from datetime import date

from consultant.codes import modifiers
from consultant.codes.cms_edits import CmsEditLookups
from consultant.codes.coverage import CoverageLookups
from consultant.codes.entries import CodeReader, CodeResult, Status
from consultant.codes.fees import FeeLookups
from consultant.codes.icd10cm_notes import CodeNotes, Conflicts, excludes1_conflicts, notes
from consultant.codes.systems import RELEASE_KIND, System
from consultant.db import Database

__all__ = ["CodeLookup", "CodeResult", "Status"]
CACHE_SIZE = 5000


class CodeLookup(CmsEditLookups):
    """Answers about codes, notes, modifiers, edits and indicators, as of a date of service.

    The one service drafting needs: codes from ``entries``, notes and
    modifiers here, the CMS edit files (PTP, MUE, add-on, PFS) from
    ``CmsEditLookups``, Medicare coverage from ``coverage`` and what
    Medicare pays from ``fees``.
    """

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.coverage = CoverageLookups(self)
        self.fees = FeeLookups(self)
        self._codes = CodeReader(db.url)
        self._modifiers: dict[tuple[str, int | None], modifiers.ModifierResult] = {}
        self._notes: dict[tuple[str, int | None], CodeNotes] = {}

    def code(self, system: System, code: str, on: date | None = None) -> CodeResult:
        """One code of ``system`` as of ``on`` (today by default)."""
        return self._codes.code(system, code, on)

    def find(self, text: str, on: date | None = None) -> CodeResult | None:
        """The code ``text`` is, by its shape and then the data; None if no shape fits."""
        return self._codes.find(text, on)

    def icd10cm_notes(self, code: str, on: date | None = None) -> CodeNotes:
        """The instructional notes governing an ICD-10-CM code, its own and its ancestors'.

        Kept for the life of this object per (code, release): notes change with releases only.
        """
        release = self._release(RELEASE_KIND[System.ICD10CM], on or date.today())
        key = (code, release.id if release else None)
        if key not in self._notes:
            if len(self._notes) > CACHE_SIZE:
                self._notes.clear()
            with self.db.read_session() as session:
                self._notes[key] = notes(session, release, code)
        return self._notes[key]

    def excludes1_conflicts(self, codes: list[str], on: date | None = None) -> Conflicts:
        """The pairs among ICD-10-CM ``codes`` that an Excludes1 note forbids together."""
        release = self._release(RELEASE_KIND[System.ICD10CM], on or date.today())
        with self.db.read_session() as session:
            return excludes1_conflicts(session, release, codes)

    def modifier(self, code: str, on: date | None = None) -> modifiers.ModifierResult:
        """A modifier's meaning (official HCPCS text where loaded) and its NCCI role.

        Kept for the life of this object, per HCPCS release: drafts ask about the
        same few modifiers for every pair of codes and every date of service, and
        modifier text changes only with the release.
        """
        release = self._release(RELEASE_KIND[System.HCPCS], on or date.today())
        key = (code, release.id if release else None)  # one answer per modifier and release
        if key not in self._modifiers:
            if len(self._modifiers) > CACHE_SIZE:
                self._modifiers.clear()
            with self.db.read_session() as session:
                self._modifiers[key] = modifiers.modifier(code, session, release)
        return self._modifiers[key]

    def forget_releases(self) -> None:
        """Drop cached release lists and modifier answers (after an import in this process)."""
        super().forget_releases()
        self._modifiers.clear()
        self._notes.clear()
