"""Plain-language descriptions: versioned with their authors, saved only from the version
shown, read in one query for a draft's codes, and stated in the draft beside the official
descriptor, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest

from consultant.cases import plain_language
from consultant.cases.answering import draft_answer
from consultant.cases.plain_language import PlainError, StalePlain, current_for, save
from consultant.codes.importers import importer_for
from consultant.codes.importing import import_release
from consultant.mail.parse import parse_message
from consultant.services import Services
from tests.codes.test_code_page import TABULAR
from tests.drafting.support import question

ANN, BOB = "ann@clinic.example", "bob@clinic.example"
CM = "ICD-10-CM"
PLAIN = "Type 2 diabetes with no complications written in the record."


def _save(services: Services, text: str, base: int, actor: str = ANN, code: str = "E11.9") -> int:
    with services.db.session() as session:
        saved = save(session, CM, code, text, base, actor)
        return saved.version if saved else 0


def test_each_save_is_a_version_with_its_author_and_time(services: Services) -> None:
    assert _save(services, "First words.", 0) == 1
    assert _save(services, "  Second   words,\n on two lines. ", 1, BOB) == 2
    with services.db.read_session() as session:
        versions = plain_language.history(session, CM, "E11.9")
        now = plain_language.current(session, CM, "E11.9")
    assert [(v.version, v.author, v.text) for v in versions] == [
        (2, BOB, "Second words, on two lines."),
        (1, ANN, "First words."),
    ]
    assert versions[0].at >= versions[1].at and versions[0].at.tzinfo is not None
    assert now is not None and now.version == 2


def test_the_same_text_again_saves_nothing(services: Services) -> None:
    _save(services, "Words.", 0)
    assert _save(services, " Words. ", 1) == 0
    with services.db.read_session() as session:
        assert len(plain_language.history(session, CM, "E11.9")) == 1


def test_a_save_made_on_an_old_version_is_refused_and_the_first_stays(services: Services) -> None:
    _save(services, "Ann's words.", 0)
    _save(services, "Bob's words.", 1, BOB)
    with pytest.raises(StalePlain, match=r"since version 1: it is now version 2, saved by bob@"):
        _save(services, "Ann again, on version 1.", 1)
    with pytest.raises(StalePlain, match="was written since the page was shown"):
        _save(services, "A first version, twice.", 0)
    with services.db.read_session() as session:
        assert plain_language.current(session, CM, "E11.9").text == "Bob's words."  # type: ignore[union-attr]


def test_two_saves_on_one_version_at_once_keep_the_first(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second save read the code before the first committed: the unique version refuses it."""
    _save(services, "The first save.", 0)
    monkeypatch.setattr(plain_language, "latest", lambda *args: None)
    with pytest.raises(StalePlain):
        _save(services, "The second save, made on nothing.", 0, BOB)
    monkeypatch.undo()
    with services.db.read_session() as session:
        versions = plain_language.history(session, CM, "E11.9")
    assert [(v.version, v.text) for v in versions] == [(1, "The first save.")]


def test_an_empty_text_withdraws_the_description_and_keeps_its_history(
    services: Services,
) -> None:
    _save(services, "Words.", 0)
    assert _save(services, "   ", 1) == 2
    with services.db.read_session() as session:
        assert plain_language.current(session, CM, "E11.9") is None
        assert current_for(session, [(CM, "E11.9")]) == {}
        assert len(plain_language.history(session, CM, "E11.9")) == 2


@pytest.mark.parametrize(
    ("text", "says"),
    [("x" * (plain_language.MAX_TEXT + 1), "at most"), ("See [expert: check]", "marker")],
)
def test_what_cannot_be_saved_says_why(services: Services, text: str, says: str) -> None:
    with pytest.raises(PlainError, match=says):
        _save(services, text, 0)


def test_current_for_reads_the_newest_version_of_each_code_asked(services: Services) -> None:
    _save(services, "Old words.", 0)
    _save(services, "New words.", 1)
    _save(services, "Sugar.", 0, code="E11")
    _save(services, "Not asked.", 0, code="I10")
    with services.db.read_session() as session:
        found = current_for(session, [(CM, "E11.9"), (CM, "E11"), ("HCPCS", "E11.9"), (CM, "Z99")])
    assert {key: p.text for key, p in found.items()} == {
        (CM, "E11.9"): "New words.",
        (CM, "E11"): "Sugar.",
    }
    assert found[(CM, "E11.9")].as_fact() == {"text": "New words.", "version": 2, "author": ANN}


def test_the_draft_states_the_plain_description_beside_the_official_one(
    services: Services,
) -> None:
    import_release(services.db, importer_for("icd10cm"), [TABULAR])
    _save(services, f"{PLAIN} <b>bold</b>", 0)
    raw = question("Is E11.9 billable for a visit on 2026-11-02?")
    made = draft_answer(services, parse_message(raw), None, date(2026, 11, 2))
    official = "- E11.9 (ICD-10-CM): Type 2 diabetes mellitus without complications."
    assert official in made.body.text
    label = "In plain language (our practice's description, not the official descriptor): "
    assert f"{label}{PLAIN} <b>bold</b>" in made.body.text
    assert f"{PLAIN} &lt;b&gt;bold&lt;/b&gt;" in made.body.html
    (fact,) = [f for f in made.record["facts"] if f["kind"] == "code"]
    assert fact["data"]["plain_description"] == {
        "text": f"{PLAIN} <b>bold</b>",
        "version": 1,
        "author": ANN,
    }
