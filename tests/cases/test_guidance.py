"""Guidance notes: saved with their target normalised, changed only from the version shown,
picked for the questions that name their target, and stated in the draft like a rule."""

from __future__ import annotations

import pytest

from consultant.analysis.model import Analysis, FoundCode
from consultant.cases.answering import draft_answer
from consultant.cases.guidance import (
    GuidanceError,
    NoteInput,
    StaleNote,
    add_note,
    edit_note,
    notes_for,
    set_enabled,
)
from consultant.mail.parse import parse_message
from consultant.services import Services
from tests.drafting.support import question

ANN, BOB = "ann@clinic.example", "bob@clinic.example"
PAIR_NOTE = (
    "Our payers accept 20956 with 20902 when the graft was taken through a separate incision; "
    "report XS on 20902."
)


def _add(services: Services, kind: str, target: str, text: str, citation: str = "") -> int:
    with services.db.session() as session:
        return add_note(session, NoteInput(kind, target, text, citation), ANN).id


@pytest.mark.parametrize(
    ("kind", "typed", "stored"),
    [
        ("code", " f17210 ", "F17.210"),
        ("code", "g0289", "G0289"),
        ("pair", "20956 + 20902", "20902+20956"),
        ("pair", "20902,20956", "20902+20956"),
        ("modifier", "xs", "XS"),
        ("topic", "NCCI", "ncci"),
    ],
)
def test_targets_are_stored_as_the_analysis_names_them(
    services: Services, kind: str, typed: str, stored: str
) -> None:
    note_id = _add(services, kind, typed, "Some guidance.")
    with services.db.read_session() as session:
        from consultant.cases.guidance import get_note

        assert get_note(session, note_id).target == stored


@pytest.mark.parametrize(
    ("kind", "target", "text", "says"),
    [
        ("code", "hello", "x", "'hello' is not a code"),
        ("pair", "20956", "x", "a pair is two codes"),
        ("pair", "20956+20956", "x", "two different codes"),
        ("modifier", "five", "x", "is not a modifier"),
        ("topic", "billing", "x", "is not a topic: one of ncci"),
        ("colour", "x", "x", "is not a kind of note"),
        ("code", "20956", "  ", "the note is empty"),
        ("code", "20956", "[expert: fill me]", "cannot hold an [expert: ...] marker"),
    ],
)
def test_what_cannot_be_saved_says_why(
    services: Services, kind: str, target: str, text: str, says: str
) -> None:
    with pytest.raises(GuidanceError, match=says.replace("[", r"\[").replace(".", r"\.")):
        _add(services, kind, target, text)


def test_a_stale_edit_or_switch_is_refused_and_the_first_edit_stays(services: Services) -> None:
    note_id = _add(services, "code", "20956", "First words.")
    with services.db.session() as session:
        edited = edit_note(session, note_id, 1, NoteInput("code", "20956", "Ann's words."), ANN)
        assert edited.version == 2
    with services.db.session() as session, pytest.raises(StaleNote, match="now version 2, by ann"):
        edit_note(session, note_id, 1, NoteInput("code", "20956", "Bob's words."), BOB)
    with services.db.session() as session, pytest.raises(StaleNote):
        set_enabled(session, note_id, 1, False, BOB)
    with services.db.session() as session:
        same = edit_note(session, note_id, 2, NoteInput("code", "20956", "Ann's words."), BOB)
        assert (same.version, same.text, same.updated_by) == (2, "Ann's words.", ANN)


def test_notes_for_picks_code_pair_modifier_and_topic_and_skips_the_rest(
    services: Services,
) -> None:
    wanted = [
        _add(services, "code", "20956", "On 20956."),
        _add(services, "pair", "20956+20902", PAIR_NOTE),
        _add(services, "modifier", "59", "On 59."),
        _add(services, "topic", "ncci", "On NCCI."),
    ]
    _add(services, "code", "99213", "Not asked.")
    _add(services, "pair", "20956+99213", "Not asked either.")
    off = _add(services, "modifier", "XS", "Switched off.")
    with services.db.session() as session:
        set_enabled(session, off, 1, False, ANN)
    analysis = Analysis(
        codes=(FoundCode("CPT", "20956"), FoundCode("CPT", "20902")),
        modifiers=("59", "XS"),
        topics=("ncci",),
    )
    with services.db.read_session() as session:
        assert [n["id"] for n in notes_for(session, analysis)] == wanted


def test_the_draft_states_a_note_with_its_citation_and_keeps_whose_it_is(
    services: Services,
) -> None:
    note_id = _add(services, "pair", "20902+20956", PAIR_NOTE, "Payer policy bulletin 2026-14")
    raw = question("Can 20956 be billed with 20902 on the same day? Do I need modifier 59?")
    made = draft_answer(services, parse_message(raw), None)
    reply = made.body.text
    assert f"- {PAIR_NOTE}" in reply
    assert "- From our coding guidance. (Payer policy bulletin 2026-14)" in reply
    assert ANN not in reply and f"#{note_id}" not in reply  # whose note is the reviewer's
    (stated,) = [c for c in made.record["conclusions"] if c["rule"] == "guidance"]
    assert stated["note"]["id"] == note_id and stated["note"]["author"] == ANN
    assert stated["codes"] == ["20902", "20956"]
