"""ICD-10-CM instructional notes of a code, and the Excludes1 conflicts inside a set of codes.

A note written under a category governs every code below it, and a note
under a section or chapter governs every category in it, so the notes of a
code are its own and those of each ancestor, nearest first. The ancestry is
read from the release itself (``parent``, and the sections and chapter a
category records), so the answer is that of the release in force.

An Excludes1 note means the two conditions are never coded together: a set
of codes conflicts when a note of one code (or of an ancestor) names another
code of the set, directly or through a category or range that contains it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from consultant.codes.icd10cm_refs import references
from consultant.codes.refs import ReleaseRef
from consultant.codes.systems import icd10cm_with_dot
from consultant.codes.tables import CodeEntry, CodeNote


@dataclass(frozen=True)
class Note:
    source: str  # the code, section (E08-E13) or chapter (E00-E89) the note is written under
    kind: str  # excludes1, excludes2, includes, inclusion_term, code_first, ...
    text: str


@dataclass
class CodeNotes:
    """The notes that govern one code, nearest first."""

    code: str
    found: bool
    notes: list[Note] = field(default_factory=list)
    release: dict[str, Any] | None = None
    message: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Conflict:
    """``code`` and ``excluded`` may not be reported together."""

    code: str  # the code governed by the note
    excluded: str  # the code the note names
    note_on: str  # where the note is written: ``code`` itself or one of its ancestors
    note: str
    reference: str  # how the note names ``excluded``: "E10.-", "E08-E13", ...


@dataclass
class Conflicts:
    codes: list[str]
    conflicts: list[Conflict] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    release: dict[str, Any] | None = None
    message: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _normalise(code: str) -> str:
    return icd10cm_with_dot(code.strip().upper())


def _no_release(code: str) -> str:
    return f"no ICD-10-CM release is loaded to look up {code}"


def ancestry(session: Session, release: ReleaseRef, code: str) -> list[str] | None:
    """``code``, its parents up to the category, then the category's sections and chapter."""
    entry = session.get(CodeEntry, (release.id, code))
    if entry is None:
        return None
    chain = [code]
    while entry.parent is not None:
        chain.append(entry.parent)
        parent = session.get(CodeEntry, (release.id, entry.parent))
        if parent is None:
            return chain
        entry = parent
    details = entry.details or {}
    chain.extend(s for s in details.get("sections", []) if s not in chain)
    if details.get("chapter") and details["chapter"] not in chain:
        chain.append(details["chapter"])
    return chain


def _notes_of(
    session: Session, release: ReleaseRef, chain: list[str], kind: str | None = None
) -> list[Note]:
    query = select(CodeNote.code, CodeNote.kind, CodeNote.text).where(
        CodeNote.release_id == release.id, CodeNote.code.in_(chain)
    )
    if kind is not None:
        query = query.where(CodeNote.kind == kind)
    rows = [Note(*row) for row in session.execute(query.order_by(CodeNote.id))]
    rank = {source: index for index, source in enumerate(chain)}
    return sorted(rows, key=lambda note: rank[note.source])


def notes(session: Session, release: ReleaseRef | None, code: str) -> CodeNotes:
    """The notes of ``code`` and of each ancestor, nearest first, each with its source."""
    code = _normalise(code)
    if release is None:
        return CodeNotes(code, found=False, message=_no_release(code))
    chain = ancestry(session, release, code)
    if chain is None:
        return CodeNotes(
            code,
            found=False,
            release=release.describe(),
            message=f"not an ICD-10-CM code in {release.version}",
        )
    return CodeNotes(code, True, _notes_of(session, release, chain), release.describe())


def excludes1_conflicts(
    session: Session, release: ReleaseRef | None, codes: Iterable[str]
) -> Conflicts:
    """Every pair in ``codes`` that an Excludes1 note forbids, once per note that does."""
    wanted = list(dict.fromkeys(_normalise(c) for c in codes))
    if release is None:
        return Conflicts(wanted, message=_no_release(", ".join(wanted)))
    result = Conflicts(wanted, release=release.describe())
    chains: dict[str, list[str]] = {}
    for code in wanted:
        chain = ancestry(session, release, code)
        if chain is None:
            result.not_found.append(code)
        else:
            chains[code] = chain
    titles = dict(
        session.execute(
            select(CodeEntry.code, CodeEntry.long_description).where(
                CodeEntry.release_id == release.id, CodeEntry.code.in_(list(chains))
            )
        ).all()
    )
    every_source = sorted({source for chain in chains.values() for source in chain})
    excludes = _notes_of(session, release, every_source, kind="excludes1")
    by_source: dict[str, list[Note]] = {}
    for note in excludes:
        by_source.setdefault(note.source, []).append(note)
    for code, chain in chains.items():
        for source in chain:
            for note in by_source.get(source, []):
                result.conflicts.extend(_named(code, note, chains, titles))
    return result


def _named(
    code: str, note: Note, chains: dict[str, list[str]], titles: dict[str, str]
) -> list[Conflict]:
    """A conflict for each other code of the set that ``note`` (governing ``code``) names."""
    found = []
    for other in chains:
        if other == code:
            continue
        reference = next(
            (r for r in references(note.text) if r.matches(other, titles.get(other, ""))), None
        )
        if reference is not None:
            found.append(Conflict(code, other, note.source, note.text, reference.text))
    return found
