"""Full-text search over cases, on SQLite (FTS5) and PostgreSQL (stored tsvectors), through the
real processing that fills the index."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from sqlalchemy import delete, select, update

from consultant.cases.queue import QueueFilter, queue_page
from consultant.cases.search import fts5_query, parse
from consultant.cases.search_index import reindex_all
from consultant.models import Case, CaseSearch
from consultant.services import Services
from tests.support.cases import file_messages
from tests.support.corpus import QUESTIONS, special


def mail(
    subject: str,
    body: str,
    sender: str = "Amy Park <apark@cedarortho.example>",
    message_id: str | None = None,
    in_reply_to: str | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "CaseConsultant <consult@caseconsultant.example>"
    message["Subject"] = subject
    message["Message-ID"] = message_id or f"<{abs(hash((subject, body)))}@clinic.example>"
    if in_reply_to:
        message["In-Reply-To"] = message["References"] = in_reply_to
    message.set_content(body)
    return bytes(message)


def found(services: Services, q: str, status: str = "all") -> list[str]:
    with services.db.read_session() as session:
        page = queue_page(session, services.settings, QueueFilter(status=status, q=q), limit=None)
    return [row.reference for row in page.rows]


@pytest.fixture
def cases(services: Services) -> Services:
    """Three questions: a fibula flap (20956), an office visit (99213) and diabetes (E11.9)."""
    file_messages(
        services,
        mail(
            "Free flap question",
            "Can 20956 be billed with 20902 on the same day? Do I need modifier 59?",
        ),
        (QUESTIONS / "02.eml").read_bytes(),  # 99213 with modifier 25
        mail(
            "Diagnosis pointer",
            "Is E11.9 enough for the A1c, or does it need E11.65?",
            sender="Raj Patel <raj@lakeside.example>",
        ),
    )
    return services


def test_a_code_in_the_text_finds_its_case(cases: Services) -> None:
    assert found(cases, "20956") == ["CC-000001"]
    assert found(cases, "99213") == ["CC-000002"]
    assert found(cases, "E11.9") == ["CC-000003"]
    assert found(cases, "E11.65") == ["CC-000003"]
    assert found(cases, "J3490") == []


def test_words_subject_and_requester_find_cases(cases: Services) -> None:
    assert found(cases, "flap") == ["CC-000001"]
    assert found(cases, "diagnosis pointer") == ["CC-000003"]
    assert found(cases, "raj@lakeside.example") == ["CC-000003"]
    assert found(cases, "Patel") == ["CC-000003"]
    # Stemmed on both databases: "days" finds "day", "billing" finds "billed" and "bill".
    assert found(cases, "days") == ["CC-000001"]
    assert sorted(found(cases, "billing")) == ["CC-000001", "CC-000002"]


def test_web_search_syntax_all_words_phrases_or_and_not(cases: Services) -> None:
    assert found(cases, "20956 E11.9") == []  # every word must be there
    assert sorted(found(cases, "20956 OR E11.9")) == ["CC-000001", "CC-000003"]
    assert found(cases, '"need modifier"') == ["CC-000001"]
    assert found(cases, '"modifier need"') == []
    assert "CC-000001" not in found(cases, "modifier -20956")


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '"20956',
        "*",
        "20956*",
        "-",
        "--",
        "NEAR",
        "NEAR(20956 20902)",
        "20956 AND",
        "OR",
        "AND OR NOT",
        "document:20956",
        "^20956",
        "(20956",
        "20956)",
        "'; DROP TABLE case; --",
        "{document}: x",
        "a:b:c",
        "!",
        "&|!<->",
        "\\",
        "\u00e9l\u00e8ve \u2013 \U0001f600",
        "x" * 500,
    ],
)
def test_anything_typed_is_a_search_never_a_syntax_error(cases: Services, query: str) -> None:
    assert isinstance(found(cases, query), list)  # no exception on either database


@pytest.mark.parametrize("query", ['"20956', "20956*", "(20956", "20956)", "^20956"])
def test_stray_syntax_around_a_code_still_finds_it(cases: Services, query: str) -> None:
    assert found(cases, query) == ["CC-000001"]


def test_fts5_queries_quote_every_term() -> None:
    assert fts5_query('say "NEAR" * -x') == '(("say") AND ("NEAR")) NOT "x"'
    assert fts5_query('a "b ""c" OR d') == '("a") AND ("b") AND ("c" OR "d")'
    assert fts5_query("20956 OR E11.9") == '("20956" OR "E11.9")'
    assert fts5_query('he said "hi') == '("he") AND ("said") AND ("hi")'
    assert fts5_query("* - ( )") is None
    assert fts5_query("-only") is None
    assert parse('x "a phrase" -y OR z').groups[1][0].text == "a phrase"


def test_the_better_match_comes_first(services: Services) -> None:
    file_messages(
        services,
        mail(
            "Lunch order",
            "Please forward the menu. Also, unrelated: a knee question may follow next week.",
        ),
        mail(
            "Knee arthroscopy, knee meniscectomy",
            "Knee: 29881 on the left knee and 29877 on the right knee. Which knee modifier?",
        ),
    )
    assert found(services, "knee") == ["CC-000002", "CC-000001"]


def test_a_follow_up_adds_its_text_and_codes(services: Services) -> None:
    first = mail("Flap", "Is 20956 separately billable?", message_id="<q1@clinic.example>")
    follow = mail(
        "Re: Flap",
        "Also, what about 15757 for the skin graft?",
        message_id="<q2@clinic.example>",
        in_reply_to="<q1@clinic.example>",
    )
    file_messages(services, first, follow)
    assert found(services, "15757") == ["CC-000001"]
    assert found(services, "20956") == ["CC-000001"]
    with services.db.read_session() as session:
        case = session.scalars(select(Case)).one()
        assert case.codes.split() == ["20956", "15757"]


def test_machine_mail_is_not_indexed_as_a_question(services: Services) -> None:
    file_messages(services, special("auto_reply.eml"))
    with services.db.read_session() as session:
        assert session.scalars(select(CaseSearch)).all() == []


def test_reindex_rebuilds_what_processing_wrote(cases: Services) -> None:
    file_messages(cases, special("html_only_with_attachment.eml"))
    with cases.db.read_session() as session:
        before = {
            c.reference: (c.codes, c.topics, c.attachment_count)
            for c in session.scalars(select(Case))
        }
        documents = {s.case_id: s.document for s in session.scalars(select(CaseSearch))}
    assert before["CC-000004"][2] == 1
    with cases.db.session() as session:
        session.execute(delete(CaseSearch))
        session.execute(update(Case).values(codes="", topics="", attachment_count=0))
    assert found(cases, "20956") == []

    assert reindex_all(cases.db, batch=2) == 4

    with cases.db.read_session() as session:
        after = {
            c.reference: (c.codes, c.topics, c.attachment_count)
            for c in session.scalars(select(Case))
        }
        assert {s.case_id: s.document for s in session.scalars(select(CaseSearch))} == documents
    assert after == before
    assert found(cases, "20956") == ["CC-000001"]
