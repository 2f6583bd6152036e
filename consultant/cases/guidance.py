"""Guidance notes: what experts add to the rule library, on a code, a code pair, a modifier
or a topic, and which of them a question calls for.

Every change carries the version it was made on (a note two experts edit at
once keeps the first edit, and the second is refused with who changed it);
the web app and the CLI both go through here. Drafting reads the enabled
notes whose target the question names (``notes_for``) and states each like a
shipped rule's conclusion, naming the note on the case page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from consultant.analysis.model import TOPICS, Analysis
from consultant.batch_memo import memo, remembering
from consultant.codes.systems import candidates
from consultant.models import GuidanceNote

KINDS = ("code", "pair", "modifier", "topic")
MAX_TEXT = 4_000
MAX_CITATION = 500
_MODIFIER = re.compile(r"^[A-Z0-9]{2}$")


class GuidanceError(ValueError):
    """A note that cannot be saved or changed; the message says why."""


class StaleNote(GuidanceError):
    """The note changed since the version the change was made on."""


@dataclass(frozen=True)
class NoteInput:
    kind: str
    target: str
    text: str
    citation: str = ""


def _code(value: str) -> str:
    """The code as analysis writes it: ``F17210`` is ``F17.210``; ``G0289`` stays."""
    code = value.strip().upper()
    readings = [reading for _, reading in candidates(code)]
    if not readings:
        raise GuidanceError(f"{value.strip()!r} is not a code (CPT, HCPCS or ICD-10)")
    return code if code in readings else readings[0]


def normalise_target(kind: str, target: str) -> str:
    """The target as stored and matched: codes upper case, a pair in code order ("A+B")."""
    if kind == "code":
        return _code(target)
    if kind == "pair":
        parts = [p for p in re.split(r"[\s,+/]+", target.strip()) if p]
        if len(parts) != 2:
            raise GuidanceError("a pair is two codes, e.g. 20956+20902")
        codes = sorted({_code(p) for p in parts})
        if len(codes) != 2:
            raise GuidanceError("a pair is two different codes")
        return "+".join(codes)
    if kind == "modifier":
        modifier = target.strip().upper()
        if not _MODIFIER.match(modifier):
            raise GuidanceError(f"{target.strip()!r} is not a modifier (two letters or digits)")
        return modifier
    if kind == "topic":
        topic = target.strip().lower()
        if topic not in TOPICS:
            raise GuidanceError(f"{target.strip()!r} is not a topic: one of {', '.join(TOPICS)}")
        return topic
    raise GuidanceError(f"{kind!r} is not a kind of note: one of {', '.join(KINDS)}")


def _checked(given: NoteInput) -> tuple[str, str, str]:
    text = given.text.strip()
    citation = given.citation.strip()
    if not text:
        raise GuidanceError("the note is empty: write what the draft should say")
    if len(text) > MAX_TEXT:
        raise GuidanceError(f"the note is {len(text):,} characters; at most {MAX_TEXT:,}")
    if len(citation) > MAX_CITATION:
        raise GuidanceError(f"the citation is longer than {MAX_CITATION} characters")
    if "[expert:" in text.lower():
        raise GuidanceError("a note is sent as written: it cannot hold an [expert: ...] marker")
    return normalise_target(given.kind, given.target), text, citation


def add_note(
    session: Session, given: NoteInput, actor: str, from_case: str | None = None
) -> GuidanceNote:
    target, text, citation = _checked(given)
    note = GuidanceNote(
        target_kind=given.kind,
        target=target,
        text=text,
        citation=citation,
        author=actor,
        updated_by=actor,
        version=1,
        enabled=True,
        from_case=from_case,
    )
    session.add(note)
    session.flush()
    return note


def get_note(session: Session, note_id: int, for_update: bool = False) -> GuidanceNote:
    query = select(GuidanceNote).where(GuidanceNote.id == note_id)
    if for_update:
        query = query.with_for_update()
    note = session.scalars(query).one_or_none()
    if note is None:
        raise GuidanceError(f"there is no guidance note {note_id}")
    return note


def _current(session: Session, note_id: int, version: int) -> GuidanceNote:
    note = get_note(session, note_id, for_update=True)
    if note.version != version:
        raise StaleNote(
            f"guidance note {note_id} changed since version {version}: it is now version "
            f"{note.version}, by {note.updated_by}; reload it and make the change again"
        )
    return note


def edit_note(
    session: Session, note_id: int, version: int, given: NoteInput, actor: str
) -> GuidanceNote:
    """Change a note made on ``version``; the same text again makes no new version."""
    note = _current(session, note_id, version)
    target, text, citation = _checked(given)
    if (note.target_kind, note.target, note.text, note.citation) == (
        given.kind,
        target,
        text,
        citation,
    ):
        return note
    note.target_kind, note.target, note.text, note.citation = given.kind, target, text, citation
    note.version += 1
    note.updated_by = actor
    return note


def set_enabled(
    session: Session, note_id: int, version: int, enabled: bool, actor: str
) -> GuidanceNote:
    note = _current(session, note_id, version)
    if note.enabled != enabled:
        note.enabled = enabled
        note.version += 1
        note.updated_by = actor
    return note


def list_notes(session: Session) -> list[GuidanceNote]:
    return list(
        session.scalars(
            select(GuidanceNote).order_by(GuidanceNote.target_kind, GuidanceNote.target)
        )
    )


def _targets(analysis: Analysis) -> set[tuple[str, str]]:
    codes = [c.code for c in analysis.codes]
    wanted = {("code", c) for c in codes}
    wanted |= {("pair", "+".join(sorted((a, b)))) for a in codes for b in codes if a < b}
    wanted |= {("modifier", m) for m in analysis.modifiers}
    wanted |= {("topic", t) for t in analysis.topics}
    return wanted


def notes_for(session: Session, analysis: Analysis) -> list[dict[str, Any]]:
    """The enabled notes whose target the question names, as the rules read them."""
    wanted = _targets(analysis)
    if not wanted:
        return []
    targets = {target for _, target in wanted}
    if remembering():  # a batch: every enabled note once, not a query a message
        notes = memo("guidance notes", lambda: _enabled(session, None))
    else:
        notes = _enabled(session, targets)
    return [note for note in notes if (note["kind"], note["target"]) in wanted]


def _enabled(session: Session, targets: set[str] | None) -> list[dict[str, Any]]:
    """The enabled notes (on ``targets`` only, unless None), as the rules read them."""
    query = select(GuidanceNote).where(GuidanceNote.enabled.is_(True)).order_by(GuidanceNote.id)
    if targets is not None:
        query = query.where(GuidanceNote.target.in_(targets))
    return [as_dict(note) for note in session.scalars(query)]


def notes_on_code(session: Session, code: str) -> list[GuidanceNote]:
    """The notes (in use or not) on ``code`` alone or on a pair with it: its code page's."""
    rows = session.scalars(
        select(GuidanceNote)
        .where(GuidanceNote.target_kind.in_(("code", "pair")), GuidanceNote.target.contains(code))
        .order_by(GuidanceNote.id)
    )
    return [n for n in rows if code in n.target.split("+")]


def as_dict(note: GuidanceNote) -> dict[str, Any]:
    return {
        "id": note.id,
        "kind": note.target_kind,
        "target": note.target,
        "text": note.text,
        "citation": note.citation,
        "author": note.author,
        "updated_by": note.updated_by,
        "version": note.version,
        "enabled": note.enabled,
        "from_case": note.from_case,
    }
