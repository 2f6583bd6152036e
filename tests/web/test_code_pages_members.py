"""Code pages for members and what every user adds to them, through Flask's test client on
SQLite and PostgreSQL: the official data without the review side, plain-language
descriptions (experts write, members read), and stars and notes private to their author."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from consultant.cases.guidance import NoteInput, add_note
from consultant.codes.importers import importer_for
from consultant.codes.importing import import_release
from consultant.models import Role, UserCode
from consultant.services import Services
from consultant.web import create_app
from tests.codes.test_code_page import TABULAR
from tests.support.corpus import PTP_FILE
from tests.web.helpers import HOSTILE, Page, add_reviewer, get, path_of, sign_in, submit

ON = "2026-11-02"
PAGE = f"/codes/E11.9?on={ON}"
ADMIN, EXPERT = "admin@clinic.example", "reviewer@clinic.example"
MEMBER, OTHER = "coder@clinic.example", "other.coder@clinic.example"
PLAIN = "Type 2 diabetes, with nothing else the record says it caused."
GUIDANCE = "Ask which complication before coding E11.9."
PAIR_NOTE = "With I10, check the record links the two."
LABEL = "Our practice's plain-language description"


@pytest.fixture
def app(services: Services) -> Flask:
    import_release(services.db, importer_for("icd10cm"), [TABULAR])
    import_release(services.db, importer_for("ncci-ptp"), [PTP_FILE])
    add_reviewer(services, ADMIN, Role.ADMIN)
    add_reviewer(services, EXPERT)
    add_reviewer(services, MEMBER, Role.MEMBER)
    add_reviewer(services, OTHER, Role.MEMBER)
    with services.db.session() as session:
        add_note(session, NoteInput("code", "E11.9", GUIDANCE), ADMIN)
        add_note(session, NoteInput("pair", "I10 E11.9", PAIR_NOTE), ADMIN)
        add_note(session, NoteInput("code", "E11", "On the category only."), ADMIN)
    return create_app(services)


def client_of(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    sign_in(client, email)
    return client


def write_plain(client: FlaskClient, text: str, page: str = PAGE) -> Page:
    """Fill in the plain-language form on the code page and save it, as an expert does."""
    return submit(client, get(client, page), "/codes/E11.9/plain", text=text)


# -- members see the official data, and nothing of the review side -----------------------------


def test_a_member_sees_the_official_data_and_none_of_the_review_side(app: Flask) -> None:
    expert = get(client_of(app, EXPERT), PAGE)
    member = get(client_of(app, MEMBER), PAGE)

    for page in (expert, member):
        assert (
            page.text("//h1") == "ICD-10-CM E11.9: Type 2 diabetes mellitus without complications"
        )
        assert page.text("//p[contains(@class, 'status-line')]") == expert.text(
            "//p[contains(@class, 'status-line')]"
        )
        assert page.texts("//section[@class='icd-notes']//li") == expert.texts(
            "//section[@class='icd-notes']//li"
        )
        assert page.tree.xpath("//section[@class='history']//tbody/tr")

    notes = expert.texts("//ul[@class='guidance-on-code']/li")
    assert [n.split(": ", 1)[1] for n in notes] == [GUIDANCE, PAIR_NOTE]
    assert expert.tree.xpath("//a[@href='/?status=all&code=E11.9']")
    assert expert.tree.xpath("//form[@action='/codes/E11.9/plain']")

    links = member.tree.xpath("//main//a/@href")
    assert not [
        h for h in links if h.startswith(("/guidance", "/?", "/cases", "/codes/E11.9/plain"))
    ]
    assert GUIDANCE not in member.html and PAIR_NOTE not in member.html
    assert "For experts" not in member.visible_text
    assert not member.tree.xpath("//form[@action='/codes/E11.9/plain']")


def test_a_member_is_told_what_is_not_loaded_without_the_operators_commands(app: Flask) -> None:
    expert = get(client_of(app, EXPERT), f"/codes/29880?on={ON}")
    member = get(client_of(app, MEMBER), f"/codes/29880?on={ON}")
    assert "consultant codes import" in expert.text("//section[@class='not-loaded']")
    missing = member.texts("//section[@class='not-loaded']//li")
    assert "MUE values" in missing
    assert "consultant codes" not in member.text("//section[@class='not-loaded']")
    assert member.texts("//table[@class='ptp-edits']//tr") == expert.texts(
        "//table[@class='ptp-edits']//tr"
    )


def test_a_member_may_not_write_or_read_the_plain_description_versions(app: Flask) -> None:
    member = client_of(app, MEMBER)
    token = get(member, PAGE).csrf_token
    form = {"csrf_token": token, "system": "ICD-10-CM", "base_version": "0", "text": "Mine."}
    assert member.post("/codes/E11.9/plain", data=form).status_code == 403
    assert member.get("/codes/E11.9/plain?system=ICD-10-CM").status_code == 403
    assert "Mine." not in get(member, PAGE).html


# -- plain-language descriptions ----------------------------------------------------------------


def test_an_expert_writes_it_and_a_member_reads_it_labelled_as_ours(app: Flask) -> None:
    expert = client_of(app, EXPERT)
    saved = write_plain(expert, PLAIN)
    assert saved.flashes == ["Plain-language description of E11.9 saved as version 1."]
    assert path_of(saved.response.request.url) == "/codes/E11.9"
    assert saved.text("//p[@class='plain-text']") == PLAIN

    member = get(client_of(app, MEMBER), PAGE)
    section = member.text("//section[@class='plain-language']")
    assert PLAIN in section and LABEL in section and "not the official descriptor" in section
    assert member.text("//h1").endswith("Type 2 diabetes mellitus without complications")
    assert EXPERT not in section  # who wrote it is the experts' business


def test_every_save_is_a_version_and_a_stale_one_is_refused_keeping_the_text(
    app: Flask,
) -> None:
    expert, admin = client_of(app, EXPERT), client_of(app, ADMIN)
    write_plain(expert, "First words.")
    opened = get(admin, PAGE)  # the admin opens the page on version 1
    write_plain(expert, PLAIN)  # the expert saves version 2 meanwhile

    refused = submit(admin, opened, "/codes/E11.9/plain", text="The admin's words.")
    assert refused.response.status_code == 409
    (message,) = refused.flashes
    assert "changed since version 1: it is now version 2, saved by reviewer@clinic.example" in (
        message
    )
    assert refused.draft == "The admin's words."  # kept for the admin to merge
    assert refused.form("/codes/E11.9/plain")["base_version"] == "2"

    again = submit(admin, refused, "/codes/E11.9/plain", text="The admin's words, merged.")
    assert again.flashes == ["Plain-language description of E11.9 saved as version 3."]
    history = get(admin, "/codes/E11.9/plain?system=ICD-10-CM")
    rows = history.texts("//section[@class='plain-versions']//tbody/tr")
    assert [r.split(" ")[0] for r in rows] == ["3", "2", "1"]
    assert ADMIN in rows[0] and EXPERT in rows[1] and "First words." in rows[2]


def test_an_empty_save_withdraws_it(app: Flask) -> None:
    expert = client_of(app, EXPERT)
    write_plain(expert, PLAIN)
    withdrawn = write_plain(expert, "")
    assert withdrawn.flashes == ["Plain-language description of E11.9 withdrawn (version 2)."]
    member = get(client_of(app, MEMBER), PAGE)
    assert not member.tree.xpath("//section[@class='plain-language']")


def test_hostile_text_is_shown_as_text(app: Flask) -> None:
    expert = client_of(app, EXPERT)
    write_plain(expert, HOSTILE)
    member = client_of(app, MEMBER)
    submit(member, get(member, PAGE), "/codes/E11.9/note", text=HOSTILE)
    for client, path in ((member, PAGE), (member, "/my-codes"), (expert, "/codes/E11.9/plain")):
        page = get(client, path)
        assert HOSTILE in page.visible_text
        assert "<script>alert(1)</script>" not in page.html
        assert not page.tree.xpath("//img[@onerror]")


def test_a_code_written_another_way_is_kept_under_its_page_name(app: Flask) -> None:
    expert = client_of(app, EXPERT)
    page = get(expert, PAGE)
    token = page.csrf_token
    form = {"csrf_token": token, "system": "ICD-10-CM", "base_version": "0", "text": PLAIN}
    assert expert.post("/codes/e119/plain", data=form).status_code == 302
    assert get(expert, PAGE).text("//p[@class='plain-text']") == PLAIN
    for code, system in (("E11.9", "HCPCS"), ("E11.9", "nonsense"), ("<b>", "ICD-10-CM")):
        response = expert.post(f"/codes/{code}/plain", data=form | {"system": system})
        assert response.status_code == 404, (code, system)


# -- stars and personal notes -------------------------------------------------------------------


def test_a_member_stars_a_code_writes_a_note_and_finds_both_on_my_codes(app: Flask) -> None:
    member = client_of(app, MEMBER)
    page = get(member, PAGE)
    assert page.text("//form[@class='star']/button") == "\u2606 Add to my codes"
    starred = submit(member, page, "/codes/E11.9/favourite")
    assert starred.flashes == ["E11.9 added to My codes."]
    assert starred.text("//form[@class='star']/button") == "\u2605 In my codes"
    noted = submit(member, starred, "/codes/E11.9/note", text="Check the A1c.")
    assert noted.flashes == ["Your note on E11.9 saved."]
    assert noted.form("/codes/E11.9/note")["text"] == "Check the A1c."

    mine = get(member, "/my-codes")
    (row,) = mine.tree.xpath("//table[contains(@class, 'my-codes')]/tbody/tr")
    assert row.xpath("string(td[1]/a/@href)") == "/codes/E11.9?system=ICD-10-CM"
    assert "Type 2 diabetes mellitus without complications" in row.text_content()
    assert "Check the A1c." in row.text_content()

    deleted = submit(member, mine, "/codes/E11.9/note", delete="1")
    assert path_of(deleted.response.request.url) == "/my-codes"
    assert "Check the A1c." not in deleted.html
    unstarred = submit(member, deleted, "/codes/E11.9/favourite")
    assert "No codes yet" in unstarred.visible_text


def test_stars_and_notes_are_private_to_their_author(app: Flask, services: Services) -> None:
    member = client_of(app, MEMBER)
    page = get(member, PAGE)
    submit(member, page, "/codes/E11.9/favourite")
    submit(member, get(member, PAGE), "/codes/E11.9/note", text="Only mine to read.")

    for email in (OTHER, EXPERT, ADMIN):
        other = client_of(app, email)
        theirs = get(other, PAGE)
        assert "Only mine to read." not in theirs.html, email
        assert theirs.text("//form[@class='star']/button") == "\u2606 Add to my codes", email
        assert "No codes yet" in get(other, "/my-codes").visible_text, email

    # Another member's forms act on their own row only: deleting "the" note, unstarring,
    # and guessing at row ids and other paths leave the first member's as they were.
    other = client_of(app, OTHER)
    token = get(other, PAGE).csrf_token
    form = {"csrf_token": token, "system": "ICD-10-CM"}
    other.post("/codes/E11.9/note", data=form | {"delete": "1"})
    other.post("/codes/E11.9/favourite", data=form | {"favourite": "0"})
    with services.db.read_session() as session:
        row_id = session.scalars(select(UserCode.id)).one()
    for guess in (f"/my-codes/{row_id}", f"/my-codes?user={row_id}", f"/codes/{row_id}/note"):
        response = other.get(guess)
        assert response.status_code in (200, 404, 405), guess
        assert "Only mine to read." not in response.get_data(as_text=True), guess
    again = get(member, "/my-codes")
    assert "Only mine to read." in again.visible_text
    assert again.tree.xpath("//button[contains(., 'Remove star')]")
