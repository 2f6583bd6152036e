"""The case page through Flask's test client, two experts at once, on SQLite and PostgreSQL.

Each story from issue 8 that went wrong is replayed the way the experts met it
(forms read from the served pages and sent back as a browser sends them) and
ends in a refusal that shows what changed, with nothing sent that was not seen.
"""

from __future__ import annotations

import base64
from email.message import EmailMessage

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from consultant.cases import review
from consultant.models import CaseEvent, Draft
from consultant.services import Services
from consultant.web import create_app
from tests.support.cases import ANSWER, answer_and_approve
from tests.support.corpus import QUESTIONS
from tests.web.helpers import (
    OP_NOTE_PDF,
    REVIEWER,
    add_reviewer,
    attachment_mail,
    get,
    reply_text,
    sent_replies,
    sign_in,
    store_mail,
    store_question,
    store_special,
    submit,
)

CASE = "/cases/CC-000001"
OTHER = "other@clinic.example"
ANN_TEXT = "Dear Amy,\n\nYes: 29877 is bundled into 29880.\n\nKind regards,\nAnn\n"
BOB_TEXT = "Dear Amy,\n\nNo separate payment for 29877.\n\nKind regards,\nBob\n"
ANSWER_SENT = ANSWER.format(name="colleague")


@pytest.fixture
def app(services: Services) -> Flask:
    return create_app(services)


def _client(app: Flask, services: Services, email: str) -> FlaskClient:
    client = app.test_client()
    add_reviewer(services, email)
    sign_in(client, email)
    return client


@pytest.fixture
def ann(app: Flask, services: Services) -> FlaskClient:
    return _client(app, services, REVIEWER)


@pytest.fixture
def bob(app: Flask, services: Services) -> FlaskClient:
    return _client(app, services, OTHER)


@pytest.fixture
def question(services: Services) -> None:
    store_question(services, "01.eml")


def _drafts(services: Services) -> list[tuple[int, str]]:
    with services.db.session() as session:
        return [(d.version, d.author) for d in session.scalars(select(Draft).order_by(Draft.id))]


def _events(services: Services, kind: str) -> list[CaseEvent]:
    with services.db.session() as session:
        return list(session.scalars(select(CaseEvent).where(CaseEvent.kind == kind)))


@pytest.mark.usefixtures("question")
def test_approve_with_unsaved_edits_sends_exactly_the_text_on_the_screen(
    ann: FlaskClient, services: Services
) -> None:
    page = get(ann, CASE)
    done = submit(ann, page, f"{CASE}/approve", text=ANN_TEXT.replace("\n", "\r\n"))
    assert done.flashes == [
        "CC-000001 approved: draft v2 is on its way (your edits were saved as v2 first)."
    ]
    (reply,) = sent_replies(services.settings)
    assert reply_text(reply).replace("\r\n", "\n") == ANN_TEXT
    assert _drafts(services) == [(1, "system"), (2, REVIEWER)]


@pytest.mark.usefixtures("question")
def test_a_stale_approve_is_refused_with_the_changes_and_sends_nothing(
    ann: FlaskClient, bob: FlaskClient, services: Services
) -> None:
    """A opened v1, B saved v2, A clicked Approve on the stale page: nothing goes out."""
    stale = get(ann, CASE)
    submit(bob, get(bob, CASE), f"{CASE}/draft", text=BOB_TEXT)
    refused = submit(ann, stale, f"{CASE}/approve", text=ANN_TEXT)

    assert refused.response.status_code == 409
    (flash,) = refused.flashes
    assert "v2 was saved by other@clinic.example" in flash and "nothing was sent" in flash
    conflict = refused.text("//section[@class='conflict']")
    assert "Draft v2 was saved by other@clinic.example" in conflict
    changed = refused.texts("//section[@class='conflict']//tr[@class='changed']/td[4]")
    assert "No separate payment for 29877." in changed
    # The editor now works on v2 and holds both texts between markers to choose from.
    assert refused.form(f"{CASE}/draft")["base_version"] == "2"
    assert "<<<<<<< yours" in refused.draft and "No separate payment" in refused.draft
    assert sent_replies(services.settings) == []
    assert _drafts(services) == [(1, "system"), (2, OTHER)]


@pytest.mark.usefixtures("question")
def test_the_later_of_two_saves_does_not_replace_the_other_and_offers_a_merge(
    ann: FlaskClient, bob: FlaskClient, services: Services
) -> None:
    ann_page, bob_page = get(ann, CASE), get(bob, CASE)
    original = ann_page.draft
    # Bob changes the closing; Ann changes the first line: lines apart, so they merge.
    bob_text = original.replace("Kind regards", "Best regards")
    ann_text = original.replace("Dear", "Hello", 1)
    assert submit(bob, bob_page, f"{CASE}/draft", text=bob_text).flashes == ["Draft v2 saved."]
    refused = submit(ann, ann_page, f"{CASE}/draft", text=ann_text)

    assert refused.response.status_code == 409
    assert "nothing was saved" in refused.flashes[0]
    assert "editor below holds both sets of changes merged" in refused.visible_text
    assert refused.draft == ann_text.replace("Kind regards", "Best regards")
    assert _drafts(services) == [(1, "system"), (2, OTHER)]
    saved = submit(ann, refused, f"{CASE}/draft")
    assert saved.flashes == ["Draft v3 saved."]
    assert saved.draft.startswith("Hello") and "Best regards" in saved.draft


@pytest.mark.usefixtures("question")
def test_saving_the_unchanged_draft_makes_no_version(ann: FlaskClient, services: Services) -> None:
    page = get(ann, CASE)
    again = submit(ann, page, f"{CASE}/draft")
    assert again.flashes == ["Nothing changed: draft v1 is the current text."]
    assert _drafts(services) == [(1, "system")]


@pytest.mark.usefixtures("question")
def test_a_claim_shows_to_others_and_only_an_explicit_take_over_gets_past_it(
    ann: FlaskClient, bob: FlaskClient, services: Services
) -> None:
    claimed = submit(ann, get(ann, CASE), f"{CASE}/claim")
    assert claimed.flashes == ["CC-000001 is yours for 30 minutes."]
    assert "Claimed by you since" in claimed.text("//section[@class='claim']")

    seen = get(bob, CASE)
    notice = seen.text("//p[contains(@class, 'claimed')]")
    assert notice.startswith("Claimed by reviewer@clinic.example since ")
    assert notice.endswith(" UTC.")
    refused = submit(bob, seen, f"{CASE}/draft", text=BOB_TEXT)
    assert "claimed by reviewer@clinic.example" in refused.flashes[0]
    assert refused.response.status_code == 422 and refused.draft == BOB_TEXT  # kept, unsaved
    assert _drafts(services) == [(1, "system")]

    taken = submit(bob, seen, f"{CASE}/claim")
    assert taken.flashes == ["You took CC-000001 over; it is yours for 30 minutes."]
    (event,) = _events(services, "claim_taken_over")
    assert (event.actor, event.details["previous"]) == (OTHER, REVIEWER)
    assert "Took the case over from reviewer@clinic.example" in taken.visible_text
    lost = submit(ann, claimed, f"{CASE}/draft", text=ANN_TEXT)
    assert "claimed by other@clinic.example" in lost.flashes[0]


@pytest.mark.usefixtures("question")
def test_the_page_shows_who_else_has_the_case_open(
    ann: FlaskClient, bob: FlaskClient, services: Services
) -> None:
    get(bob, CASE)
    assert get(ann, CASE).text("//p[@id='presence']") == "Also open by: other@clinic.example"
    token = get(bob, CASE).csrf_token
    polled = bob.post(
        f"{CASE}/presence", data={"editing": "1"}, headers={"X-CSRFToken": token}
    ).get_json()
    assert [o["who"] for o in polled["others"]] == [REVIEWER]
    assert "other@clinic.example (editing)" in get(ann, CASE).text("//p[@id='presence']")


@pytest.mark.usefixtures("question")
def test_versions_are_listed_with_authors_and_compared_side_by_side(
    ann: FlaskClient, services: Services
) -> None:
    page = submit(ann, get(ann, CASE), f"{CASE}/draft", text=ANN_TEXT)
    rows = page.tree.xpath("//section[@class='versions']//tbody/tr")
    cells = [[" ".join(td.text_content().split()) for td in row.findall("td")] for row in rows]
    assert [(c[0], c[1], c[3]) for c in cells] == [
        ("v2", REVIEWER, "edited from v1"),
        ("v1", "system", "written by the system"),
    ]
    diff = get(ann, f"{CASE}/diff?a=1&b=2")
    assert "v1 (system)" in diff.text("//table[@class='diff']/thead")
    assert "v2 (reviewer@clinic.example)" in diff.text("//table[@class='diff']/thead")
    assert diff.texts("//table[@class='diff']//mark[@class='change']")
    assert ann.get(f"{CASE}/diff?a=1&b=9").status_code == 404


@pytest.mark.usefixtures("question")
def test_internal_notes_stay_on_the_case_and_never_go_out(
    ann: FlaskClient, services: Services
) -> None:
    page = submit(ann, get(ann, CASE), f"{CASE}/note", note="Called the practice <b>today</b>")
    assert page.flashes == ["Note added (internal: never sent)."]
    assert "Called the practice <b>today</b>" in page.text("//section[@id='notes']//article/p")
    answer_and_approve(services, "CC-000001")
    (reply,) = sent_replies(services.settings)
    assert "Called the practice" not in reply_text(reply)


def test_an_attachment_downloads_with_its_bytes_and_a_name_without_the_patient(
    ann: FlaskClient, services: Services
) -> None:
    store_mail(services, attachment_mail())
    page = get(ann, CASE)
    (link,) = page.tree.xpath("//ul[@class='attachments']//a")
    assert (
        link.text_content() == "[patient details removed]_[patient details removed]_"
        "[patient details removed].pdf"
    )
    assert "application/pdf" in page.text("//ul[@class='attachments']//span")
    response = ann.get(link.get("href"))
    assert response.status_code == 200
    assert response.data == OP_NOTE_PDF
    assert response.headers["Content-Type"] == "application/octet-stream"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    assert "John" not in disposition and "1962" not in disposition
    assert _events(services, "attachment_downloaded")
    # Neither the draft nor the timeline echo the patient's file name.
    draft = page.draft
    assert "John" not in draft and "12345678" not in draft
    assert "John" not in page.text("//section[@class='timeline-section']")
    assert ann.get(f"{CASE}/attachments/1/7").status_code == 404


def test_patient_details_are_marked_and_shown_only_after_a_recorded_click(
    ann: FlaskClient, services: Services
) -> None:
    store_mail(services, attachment_mail())
    page = get(ann, CASE)
    assert "John Smith" not in page.visible_text
    assert page.text("//h1").startswith("CC-000001: [patient details removed]")
    assert "date of birth" in page.text("//div[contains(@class, 'phi')]/p")
    assert ann.get(f"{CASE}/messages/1/html").status_code == 403

    shown = submit(ann, page, f"{CASE}/reveal")
    assert shown.flashes == ["Patient details are shown for 10 minutes; this was recorded."]
    assert "John Smith" in shown.text("//h1")
    assert (reveal := _events(services, "phi_revealed")) and reveal[0].actor == REVIEWER
    frame = ann.get(f"{CASE}/messages/1/html")
    html = frame.get_data(as_text=True)
    assert "<b>47563</b>" in html
    assert "<script" not in html and "alert(1)" not in html and "tracker.example" not in html
    assert "sandbox" in frame.headers["Content-Security-Policy"]
    hidden = submit(ann, shown, f"{CASE}/hide")
    assert "John Smith" not in hidden.visible_text


def test_the_timeline_reads_as_sentences_without_internal_ids(
    ann: FlaskClient, services: Services
) -> None:
    store_special(services, "html_only_with_attachment.eml")
    lines = get(ann, CASE).texts("//ol[@class='timeline']/li")
    assert any("Message from ops@pinecrest.example" in line for line in lines)
    assert any("Status analyzing → awaiting review" in line for line in lines)
    joined = " ".join(lines)
    for internal in ("inbound_id", "message_id", "outbound_id", "None", "{", "_"):
        assert internal not in joined, internal


@pytest.mark.usefixtures("question")
def test_data_not_loaded_is_named_in_the_facts_never_a_bare_kind(ann: FlaskClient) -> None:
    rows = get(ann, CASE).tree.xpath("//section[@class='facts']//tbody/tr")
    unchecked = [
        [" ".join(td.text_content().split()) for td in row.xpath("td")[:3]]
        for row in rows
        if row.xpath("string(td[1])") == "not checked"
    ]
    assert ["not checked", "", "ICD-10-CM data: no ICD-10-CM release is loaded"] in unchecked
    ptp = "NCCI PTP edits: no NCCI PTP edits (practitioner) are loaded for "
    assert any(source.startswith(ptp) for _, _, source in unchecked)
    assert "missing" not in [row.xpath("string(td[1])") for row in rows]


@pytest.mark.usefixtures("question")
def test_what_only_the_reviewer_needs_is_beside_the_draft_not_in_it(ann: FlaskClient) -> None:
    page = get(ann, CASE)
    assert page.text("//div[@class='panel-notes']/h3") == "For you only (not in the reply)"
    notes = page.texts("//div[@class='panel-notes']//li")
    assert "ICD-10-CM data: no ICD-10-CM release is loaded" in notes
    assert any("the operator imports their own file" in note for note in notes)
    assert "Not checked, so the reply says nothing of them: 29880, 29877" in " ".join(notes)
    assert "operator" not in page.draft and "not checked" not in page.draft


@pytest.mark.usefixtures("question")
def test_a_reviewer_without_the_page_cannot_act_and_forms_need_the_token(
    app: Flask, ann: FlaskClient, services: Services
) -> None:
    anonymous = app.test_client()
    token = get(anonymous, "/login").csrf_token  # a valid token is not a signed-in user
    for path in ("claim", "release", "note", "reveal", "presence", "preview", "start-from"):
        response = anonymous.post(f"{CASE}/{path}", data={"csrf_token": token})
        assert response.status_code in (302, 303) and "/login" in response.location, path
    assert anonymous.get(f"{CASE}/attachments/1/0").status_code == 302
    assert ann.post(f"{CASE}/claim", data={}).status_code == 400  # no CSRF token
    assert ann.post(f"{CASE}/note", data={"note": "x"}).status_code == 400
    assert _events(services, "note_added") == [] and _events(services, "claimed") == []


@pytest.mark.usefixtures("question")
def test_next_goes_to_the_oldest_waiting_case_nobody_else_holds(
    ann: FlaskClient, bob: FlaskClient, services: Services
) -> None:
    store_question(services, "02.eml")
    store_question(services, "03.eml")
    review.claim(services, "CC-000002", OTHER)
    response = ann.get("/next?after=CC-000001")
    assert response.location.endswith("/cases/CC-000003")
    assert ann.get("/next").location.endswith("/cases/CC-000001")


def test_page_lists_an_attachment_of_unknown_size_and_html_only_mail(
    ann: FlaskClient, services: Services
) -> None:
    store_special(services, "html_only_with_attachment.eml")
    page = get(ann, CASE)
    (link,) = page.tree.xpath("//ul[@class='attachments']//a")
    assert link.text_content() == "op note 2026-10-01.pdf"
    body = ann.get(link.get("href"))
    assert body.data == base64.b64decode("JVBERi0xLjQKJSBvcCBub3RlIHBsYWNlaG9sZGVyCg==")
    assert body.headers["Content-Disposition"] == 'attachment; filename="op_note_2026-10-01.pdf"'
    # Without patient details the HTML version is there at once, sanitised, in a sandbox.
    (frame,) = page.tree.xpath("//details[@class='html-version']/iframe")
    assert frame.get("sandbox") == ""
    html = ann.get(frame.get("src"))
    assert html.status_code == 200
    assert "<b>47563</b>" in html.get_data(as_text=True)
    assert "<script" not in html.get_data(as_text=True)
    assert "sandbox" in html.headers["Content-Security-Policy"]


def test_an_html_version_naming_a_patient_the_text_does_not_waits_for_the_reveal(
    ann: FlaskClient, services: Services
) -> None:
    message = EmailMessage()
    message["From"] = "Dana Coder <dana@clinic.example>"
    message["To"] = "consult@caseconsultant.example"
    message["Subject"] = "47562 or 47563?"
    message["Message-ID"] = "<two.parts@clinic.example>"
    message.set_content("Lap chole with cholangiogram: 47563 or 47562?\n")
    message.add_alternative(
        "<p>Lap chole: 47563 or 47562?</p><p>Pt Linda Moreau, DOB 04/02/1957, MRN 88812345</p>",
        subtype="html",
    )
    store_mail(services, bytes(message))
    page = get(ann, CASE)
    assert "Linda" not in page.visible_text
    (frame,) = page.tree.xpath("//details[@class='html-version']/iframe")
    hidden = ann.get(frame.get("src"))
    assert hidden.status_code == 403
    assert "Linda" not in hidden.get_data(as_text=True)
    assert "names patient details that the text does not show" in hidden.get_data(as_text=True)
    revealed = submit(ann, page, f"{CASE}/reveal")
    assert revealed.flashes and "recorded" in revealed.flashes[0]
    shown = ann.get(frame.get("src"))
    assert shown.status_code == 200 and "Linda Moreau" in shown.get_data(as_text=True)
    assert _events(services, "phi_revealed")


@pytest.mark.usefixtures("question")
def test_a_snippet_is_filled_in_for_the_case_and_added_unsaved(
    ann: FlaskClient, services: Services
) -> None:
    from consultant.cases.snippets import create_snippet

    with services.db.session() as session:
        create_snippet(
            session, "thanks", "Thank you, {{ requester_name }} ({{ reference }}).", "admin"
        )
    page = get(ann, CASE)
    assert page.texts("//select[@id='snippet-name']/option") == ["thanks"]
    added = submit(ann, page, f"{CASE}/insert-snippet", text="Dear Amy,", snippet="thanks")
    assert added.flashes == ["Snippet 'thanks' added at the end of the draft; it is not saved yet."]
    assert added.draft == "Dear Amy,\n\nThank you, Amy Park (CC-000001)."
    assert added.form(f"{CASE}/draft")["base_version"] == "1"
    assert _drafts(services) == [(1, "system")]
    as_json = ann.post(
        f"{CASE}/insert-snippet",
        data={"csrf_token": page.csrf_token, "snippet": "thanks", "text": "", "base_version": "1"},
        headers={"Accept": "application/json"},
    )
    assert as_json.get_json() == {"text": "Thank you, Amy Park (CC-000001)."}
    missing = ann.post(
        f"{CASE}/insert-snippet",
        data={"csrf_token": page.csrf_token, "snippet": "nope", "text": "", "base_version": "1"},
        headers={"Accept": "application/json"},
    )
    assert missing.status_code == 404 and "no snippet called 'nope'" in missing.get_json()["error"]


def test_a_similar_sent_answer_can_start_the_draft_and_the_facts_stay_this_cases(
    ann: FlaskClient, services: Services
) -> None:
    store_question(services, "01.eml")  # 29880 and 29877
    answer_and_approve(services, "CC-000001")
    store_mail(
        services,
        (QUESTIONS / "01.eml")
        .read_bytes()
        .replace(b"<s01.20261005@mail.example>", b"<again.1@mail.example>")
        .replace(b"Subject: NCCI", b"Subject: Again NCCI"),
    )
    page = get(ann, "/cases/CC-000002")
    (similar,) = page.tree.xpath("//section[@class='similar']/article")
    assert "CC-000001" in similar.xpath("string(h3)")
    assert "29880" in similar.xpath("string(p)") and "29877" in similar.xpath("string(p)")
    facts_before = page.text("//section[@class='facts']")
    started = submit(ann, page, "/cases/CC-000002/start-from")
    assert started.flashes == ["Draft v2 starts from the answer sent on CC-000001; edit it to fit."]
    assert started.draft == ANSWER_SENT
    assert started.text("//section[@class='facts']") == facts_before


# Guidance notes (issue 9): kept from an approved answer, edited by two experts at once ------


def test_a_passage_of_a_sent_answer_becomes_a_guidance_note_the_next_draft_states(
    ann: FlaskClient, services: Services
) -> None:
    store_question(services, "01.eml")
    answer_and_approve(services, "CC-000001")
    case = get(ann, CASE)
    form = case.form("/guidance")
    assert (form["kind"], form["target"], form["from_case"]) == ("pair", "29880+29877", "CC-000001")
    passage = "Chondroplasty in a separate compartment is reported with XS on 29877."
    saved = submit(ann, case, "/guidance", text=passage, citation="Practice policy 12")
    assert saved.flashes == ["Guidance note 1 saved: drafts use it from the next question."]
    assert "from the answer to CC-000001" in saved.visible_text

    again = (QUESTIONS / "01.eml").read_bytes().replace(b"<s01.", b"<s01-again.")
    store_mail(services, again)  # the same question again, from another coder: a new case
    draft = get(ann, "/cases/CC-000002").draft
    assert f"- {passage}" in draft and "(Practice policy 12)" in draft
    shown = get(ann, "/cases/CC-000002")
    cited = shown.texts("//li[@class='conclusion']/p[@class='cited']")
    assert any("guidance note 1 v1 by reviewer@clinic.example" in text for text in cited)


def test_two_experts_editing_one_note_the_second_is_refused_and_keeps_their_words(
    ann: FlaskClient, bob: FlaskClient, services: Services
) -> None:
    created = submit(
        ann,
        get(ann, "/guidance"),
        "/guidance",
        kind="modifier",
        target="59",
        text="Prefer XS over 59 for a separate compartment.",
    )
    assert created.flashes[0].startswith("Guidance note 1 saved")
    ann_page, bob_page = get(ann, "/guidance/1"), get(bob, "/guidance/1")
    first = submit(ann, ann_page, "/guidance/1", text="Ann: prefer XS over 59.")
    assert first.flashes == ["Guidance note 1 saved."]
    refused = submit(bob, bob_page, "/guidance/1", text="Bob: 59 is fine.")
    assert refused.response.status_code == 409
    assert (
        "changed since version 1: it is now version 2, by reviewer@clinic.example"
        in (refused.flashes[0])
    )
    assert refused.tree.xpath("//textarea[@name='text']")[0].text.strip() == "Bob: 59 is fine."
    off = submit(ann, get(ann, "/guidance/1"), "/guidance/1/enabled")
    assert off.flashes == ["Guidance note 1 switched off."]
    listing = get(ann, "/guidance")
    assert listing.texts("//table[contains(@class, 'guidance-notes')]/tbody/tr/td[3]") == [
        "Ann: prefer XS over 59."
    ]
    assert "(off)" in listing.text("//table[contains(@class, 'guidance-notes')]/tbody/tr/td[1]")
