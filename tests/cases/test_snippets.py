"""Snippets: stored by admins, checked when saved, filled in safely for a case."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from consultant.cases import snippets
from consultant.cases.snippets import DEFAULTS, SnippetError
from consultant.cli import main
from consultant.models import Case, Snippet
from consultant.services import Services

ADMIN = "admin@caseconsultant.example"
CURLY_NAME = "{{ 7 * 7 }} {{ reference.__class__ }}"


def case_with(services: Services, **values: object) -> Case:
    """A stored case with ``values``; returned detached, as a page would hold it."""
    with services.db.session() as session:
        case = Case(reference="CC-000042", subject="q", status="awaiting_review", **values)
        session.add(case)
    return case


def create(services: Services, name: str, body: str) -> None:
    with services.db.session() as session:
        snippets.create_snippet(session, name, body, ADMIN)


def render(services: Services, name: str, case: Case) -> str:
    with services.db.session() as session:
        return snippets.render_snippet(session, name, case)


def test_placeholders_are_filled_from_the_case(services: Services) -> None:
    case = case_with(services, requester_name="Dana Reyes", codes="29880 29877")
    create(services, "hello", "Dear {{ requester_name }}, {{ reference }} is about {{ codes }}.")

    assert render(services, "hello", case) == "Dear Dana Reyes, CC-000042 is about 29880, 29877."


def test_a_name_from_mail_is_inserted_as_text_never_run_as_a_template(
    services: Services,
) -> None:
    case = case_with(services, requester_name=CURLY_NAME, codes="")
    create(services, "hello", "Dear {{ requester_name }},")

    assert render(services, "hello", case) == f"Dear {CURLY_NAME},"


def test_missing_values_read_as_colleague_and_an_expert_note(services: Services) -> None:
    case = case_with(services, requester_name=None, codes="")
    create(services, "hello", "Dear {{ requester_name }}, about {{ codes }}")

    assert render(services, "hello", case) == "Dear colleague, about [expert: the codes]"


def test_filters_and_if_are_allowed(services: Services) -> None:
    case = case_with(services, requester_name="dana", codes="99213 25")
    create(
        services,
        "codes-list",
        "{{ requester_name|title }}: {% if codes %}{{ codes|join(' and ') }}{% endif %}",
    )

    assert render(services, "codes-list", case) == "Dana: 99213 and 25"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("Dear {{ patient_name }}", "unknown placeholder {{ patient_name }}"),
        ("{{ reference", "line 1: unexpected end of template"),
        ("{{ reference.__class__ }}", "not this (getattr)"),
        ("{{ codes * 100000000 }}", "not this (mul)"),
        ("{% for c in codes %}{{ c }}{% endfor %}", "not this (for)"),
        ("{{ range(10) }}", "not this (call)"),
        ("{{ reference|center(999999999) }}", "the filter |center is not available"),
        ("{{ codes|join(' ', 1000000) }}", "numbers in snippets are at most 100"),
        ("   \n ", "a snippet needs some text"),
        ("x" * 5001, "at most 5,000 characters"),
    ],
)
def test_unsafe_or_unknown_bodies_are_refused_when_saved(
    services: Services, body: str, says: str
) -> None:
    with (
        services.db.session() as session,
        pytest.raises(SnippetError, match=re.escape(says)),
    ):
        snippets.create_snippet(session, "bad", body, ADMIN)
    with services.db.session() as session:
        assert snippets.list_snippets(session) == []


@pytest.mark.parametrize("name", ["", "Has Space", "-lead", "trail-", "a" * 65, "x_y"])
def test_names_are_short_lower_case_words_with_hyphens(services: Services, name: str) -> None:
    with services.db.session() as session, pytest.raises(SnippetError, match="snippet name"):
        snippets.create_snippet(session, name, "text", ADMIN)


def test_a_second_snippet_of_the_same_name_is_refused(services: Services) -> None:
    create(services, "thanks", "one")

    with pytest.raises(SnippetError, match="already a snippet called thanks"):
        create(services, "Thanks", "two")


def test_update_and_delete(services: Services) -> None:
    create(services, "old-name", "one")
    with services.db.session() as session:
        (snippet,) = snippets.list_snippets(session)
        snippets.update_snippet(session, snippet.id, "new-name", "two\r\nlines", "other@x.example")
    with services.db.session() as session:
        (snippet,) = snippets.list_snippets(session)
        assert (snippet.name, snippet.body, snippet.updated_by) == (
            "new-name",
            "two\nlines",
            "other@x.example",
        )
        assert snippets.delete_snippet(session, snippet.id, ADMIN) == "new-name"
        assert snippets.delete_snippet(session, snippet.id, ADMIN) is None
    with services.db.session() as session:
        assert snippets.list_snippets(session) == []


def test_an_unknown_name_is_a_clear_error(services: Services) -> None:
    case = case_with(services)

    with pytest.raises(SnippetError, match="no snippet called 'nope'"):
        render(services, "nope", case)


def test_the_defaults_are_seeded_once_and_a_deleted_one_stays_deleted(
    services: Services,
) -> None:
    with services.db.session() as session:
        assert snippets.seed_defaults(session) == list(DEFAULTS)
    with services.db.session() as session:
        (thanks,) = session.scalars(select(Snippet).where(Snippet.name == "thanks"))
        snippets.delete_snippet(session, thanks.id, ADMIN)
    with services.db.session() as session:
        assert snippets.seed_defaults(session) == []
        assert "thanks" not in [s.name for s in snippets.list_snippets(session)]
    with services.db.session() as session:
        assert snippets.seed_defaults(session, restore=True) == ["thanks"]


def test_every_default_passes_its_own_checks_and_names_the_case(services: Services) -> None:
    case = case_with(services, requester_name="Dana Reyes", codes="29880 29877")
    with services.db.session() as session:
        snippets.seed_defaults(session)
    with services.db.session() as session:
        for name, body in DEFAULTS.items():
            assert snippets.check_body(body) == body
            text = snippets.render_snippet(session, name, case)
            assert "{" not in text and "}" not in text and "[expert:" not in text
            assert "CC-000042" in text or "29880, 29877" in text


def test_db_upgrade_and_snippets_seed_add_the_shipped_snippets_once(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path
) -> None:
    monkeypatch.setenv("CONSULTANT_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CONSULTANT_DATABASE_URL", database_url)

    def cli(*args: str) -> str:
        result = CliRunner().invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    assert f"added snippets: {', '.join(DEFAULTS)}" in cli("db", "upgrade")
    assert "added snippets" not in cli("db", "upgrade")
    assert cli("snippets", "seed") == "no snippets to add\n"
    listed = cli("snippets", "list").splitlines()
    assert [line.split()[0] for line in listed] == sorted(DEFAULTS)
    assert cli("snippets", "seed", "--restore") == "no snippets to add\n"
