"""Drafts of corpus questions against real ICD-10-CM and HCPCS data and the constructed
NCCI/MUE/add-on/PFS files: the right indicator, value and release, and nothing more.

The constructed files' values are made up (../shared/data/PROVENANCE.md); these
drafts are test fixtures, never shown to anyone as real answers.

Golden files: tests/drafting/golden/<question>.txt. After a deliberate change to
the wording, regenerate them with CONSULTANT_TEST_UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from config import Settings
from consultant.cases.answering import analyse, draft_answer
from consultant.drafting.render import open_expert_markers
from consultant.mail.parse import parse_message
from consultant.services import Services, build_services
from tests.drafting.support import question
from tests.support.corpus import QUESTIONS, special

TODAY = date(2026, 11, 2)
GOLDEN = Path(__file__).parent / "golden"


def draft(services: Services, raw: bytes) -> str:
    return draft_answer(services, parse_message(raw), "CC-000001", TODAY).body.text


@pytest.mark.parametrize("name", [f"{n:02d}.eml" for n in range(1, 13)])
def test_draft_matches_its_golden_file(services: Services, name: str) -> None:
    text = draft(services, (QUESTIONS / name).read_bytes())
    golden = GOLDEN / name.replace(".eml", ".txt")
    if os.environ.get("CONSULTANT_TEST_UPDATE_GOLDEN") == "1":
        golden.write_text(text)
    assert text == golden.read_text()


def test_ptp_edit_named_with_indicator_modifiers_and_release(services: Services) -> None:
    text = draft(services, (QUESTIONS / "01.eml").read_bytes())
    assert "NCCI PTP edit: 29880 (column 1) with 29877 (column 2), modifier indicator 1" in text
    assert "Of the modifiers you named, 59 and XS are NCCI-associated." in text
    assert "[NCCI PTP edits (practitioner) v323r0, effective 2026-10-01]" in text


def test_mue_value_indicator_and_release(services: Services) -> None:
    text = draft(services, (QUESTIONS / "03.eml").read_bytes())
    assert "MUE for J1100: 40 units (practitioner), adjudication indicator 3" in text
    assert "[MUE (practitioner) Eff 10-01-2026, effective 2026-10-01]" in text
    assert "- J1100 (HCPCS): Injection, dexamethasone sodium phosphate, 1 mg." in text


def test_addon_without_its_listed_primary(services: Services) -> None:
    text = draft(services, (QUESTIONS / "04.eml").read_bytes())
    assert "20930 is an add-on code" in text
    assert "Listed primary codes: 22600. None of the listed primary codes is in your question." in (
        text
    )


def test_an_add_on_code_is_told_by_the_loaded_add_on_edits(services: Services) -> None:
    """Nothing in the words says "add-on"; the add-on edits loaded list 20930 as one."""
    raw = question("Is 20930 reported once for the case with 22612?")
    analysis, _ = analyse(services, parse_message(raw), TODAY)
    assert "addon" in analysis.topics
    plain, _ = analyse(services, parse_message(question("Is 22612 reported once?")), TODAY)
    assert "addon" not in plain.topics


def test_diagnosis_note_among_the_codes_named(services: Services) -> None:
    text = draft(services, (QUESTIONS / "07.eml").read_bytes())
    assert 'N39.0: the note under N39.0 says "use additional code (B95-B97)' in text
    assert "B96.20 in your question is named by it" in text


OPERATOR_WORDS = (
    "operator",
    "consultant ",
    "codes import",
    "CONSULTANT_",
    "not checked",
    ".txt",
    ".csv",
)


def _no_operator_words(text: str) -> None:
    lowered = text.lower()
    for word in OPERATOR_WORDS:
        assert word.lower() not in lowered, word


def test_data_not_loaded_is_the_reviewers_to_know_never_the_requesters(
    services: Services,
) -> None:
    made = draft_answer(services, parse_message((QUESTIONS / "02.eml").read_bytes()), None, TODAY)
    _no_operator_words(made.body.text)
    _no_operator_words(made.body.html)
    assert "99213" in made.body.text  # named in the question, restated; nothing said of it
    panel = made.record["panel"]
    assert {
        "kind": "not_loaded",
        "text": "CPT data: no CPT data is loaded: CPT descriptors are licensed by the AMA; "
        "the operator imports their own file with `consultant codes import cpt FILE`",
    } in panel
    assert {
        "kind": "not_checked",
        "text": "Not checked, so the reply says nothing of them: 99213 and 11102",
    } in panel


def test_no_reply_names_a_command_a_setting_a_file_or_the_operator(
    services: Services, make_settings: Callable[..., Settings], sqlite_url: str
) -> None:
    """Every sample question, with the code data loaded and with none at all."""
    empty = build_services(make_settings(database_url=sqlite_url))
    try:
        for built in (services, empty):
            for path in sorted(QUESTIONS.glob("*.eml")):
                made = draft_answer(built, parse_message(path.read_bytes()), None, TODAY)
                _no_operator_words(made.body.text)
                _no_operator_words(made.body.html)
        nothing = draft_answer(empty, parse_message((QUESTIONS / "01.eml").read_bytes()), None)
        kinds = [note["kind"] for note in nothing.record["panel"]]
        assert kinds.count("not_loaded") >= 4 and "not_checked" in kinds
    finally:
        empty.db.dispose()


def test_a_stale_release_names_what_it_lists_and_never_calls_anything_missing(
    services: Services,
) -> None:
    """HCPCS 2020 answering a 2026 question: G0316 (not in it) is not called not found, the
    unknown JZ is not said to mean nothing, and G0289 is valid in 2020, not on the date."""
    raw = question("DOS 12/01/2026: G0316 with G0289, and do we need JZ on the drug line?")
    made = draft_answer(services, parse_message(raw), None, TODAY)
    reply = made.body.text
    for negative in ("not found", "no longer", "no meaning", "G0316 (HCPCS)"):
        assert negative not in reply, negative
    assert "G0289 (HCPCS): " in reply
    assert "Valid and billable in HCPCS Level II 2020." in reply
    assert "billable on 2026-12-01" not in reply
    stale = [n["text"] for n in made.record["panel"] if n["kind"] == "stale"]
    assert any(
        text.startswith(
            "[HCPCS Level II 2020, effective 2020-01-01] is not the release for "
            "2026-12-01 (updated quarterly)"
        )
        and "G0316" in text
        for text in stale
    ), stale
    assert any("JZ" in n["text"] for n in made.record["panel"])


def test_a_release_in_force_still_says_what_it_does_not_list(services: Services) -> None:
    """The same HCPCS file asked about a date in its own year may call a code not found."""
    raw = question("DOS 03/02/2020: is G0316 billable?")
    reply = draft_answer(services, parse_message(raw), None, TODAY).body.text
    assert "G0316 (HCPCS): not found in the code set" in reply


def test_expert_markers_only_where_the_record_decides(services: Services) -> None:
    """A question the rules answer whole leaves nothing to fill in; one that turns on the
    record asks the expert for exactly that, naming this question's codes."""
    answered = draft(services, (QUESTIONS / "07.eml").read_bytes())  # sequencing: N39.0, B96.20
    assert not open_expert_markers(answered)
    assert "- Report N39.0 first, then B96.20." in answered
    bundled = draft(services, (QUESTIONS / "01.eml").read_bytes())
    assert open_expert_markers(bundled) == [
        "[expert: confirm the record shows 29877 distinct from 29880 (another session, site or "
        "structure, or another practitioner) before a modifier is used]"
    ]
    for path in sorted(QUESTIONS.glob("*.eml")):
        for marker in open_expert_markers(draft(services, path.read_bytes())):
            assert marker != "[expert: write the answer to the question]", path.name


def test_phi_is_never_in_the_draft(services: Services) -> None:
    text = draft(services, special("phi.eml"))
    for value in ("Robert Miller", "07/22/1961", "44817203", "1EG4-TE5-MK72"):
        assert value not in text
    assert "Patient details in your message were removed" in text


def test_facts_carry_their_sources(services: Services) -> None:
    _, facts = analyse(services, parse_message((QUESTIONS / "01.eml").read_bytes()), TODAY)
    kinds = [f.kind for f in facts.items]
    assert kinds.count("ptp") == 1 and "missing" in kinds
    assert facts.on == "2026-11-02"
    for fact in facts.items:
        if fact.kind in ("ptp", "mue", "addon", "pfs", "excludes1", "icd_note"):
            assert fact.source and fact.source["version"], fact.kind


def test_html_draft_escapes_what_came_in_the_email(services: Services) -> None:
    raw = (
        b"From: Eve <eve@example.com>\r\nSubject: <script>alert(1)</script> 99213\r\n"
        b"Message-ID: <x@example.com>\r\n\r\n"
        b"Is <b>99213</b> & 11102 ok? <img src=x onerror=alert(1)>\r\n"
    )
    html = draft_answer(services, parse_message(raw), "CC-000001", TODAY).body.html
    assert "<script>" not in html and "<img" not in html and "<b>99213" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; 99213" in html
    assert "Is &lt;b&gt;99213&lt;/b&gt; &amp; 11102 ok?" in html
    assert "<li>No NCCI PTP edit for 99213/11102 on 2026-11-02." in html
