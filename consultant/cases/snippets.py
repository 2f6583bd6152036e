"""Snippets: reusable reply passages with placeholders, kept by admins, inserted by name.

A snippet body is admin input, rendered in Jinja's immutable sandbox with
exactly three variables and no globals: ``{{ requester_name }}``,
``{{ reference }}`` and ``{{ codes }}`` (the case's codes, ``29880, 29877``).
Besides text and placeholders a body may use a few filters (``|upper``,
``|join(" and ")``) and ``{% if codes %}``, nothing that loops or calls. A
body that goes beyond that, names anything else or that the sandbox
refuses is refused when it is saved, with the reason. Values taken from
mail (the requester's name) are only ever variables: mail is never rendered
as a template.

The snippets that ship with CaseConsultant are added once by
``seed_defaults`` (``consultant snippets seed``, also run by ``consultant
db upgrade`` and ``consultant run``); one an admin deleted stays deleted
unless they ask for the defaults again.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from functools import lru_cache

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consultant.cases.app_settings import SNIPPETS_SEEDED, read_setting, write_setting
from consultant.models import Case, Snippet, utcnow

log = logging.getLogger(__name__)

PLACEHOLDERS = ("requester_name", "reference", "codes")
NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
MAX_BODY = 5_000
# What a placeholder says when the case has no value for it: approval refuses to send
# while an [expert: ...] note is left, so a reviewer fills it in.
NO_CODES = "[expert: the codes]"
NO_NAME = "colleague"
FILTERS = frozenset({"upper", "lower", "title", "capitalize", "trim", "join", "first", "last"})
ALLOWED_NODES = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.Const,
    nodes.Filter,
    nodes.If,
    nodes.Not,
    nodes.And,
    nodes.Or,
)
MAX_NUMBER = 100

DEFAULTS: dict[str, str] = {
    "thanks": (
        "Thank you for your question. If you write to us again about it, please reply in\n"
        "this thread or keep {{ reference }} in the subject, so that it reaches the same\n"
        "expert."
    ),
    "need-op-note": (
        "To answer this for {{ codes }} we need to see how the procedures were documented.\n"
        "Please send the relevant part of the operative note with every patient detail\n"
        "removed (no name, date of birth, MRN or member ID), replying in this thread so\n"
        "that it stays with case {{ reference }}."
    ),
    "modifier-59-caution": (
        "A word of caution on modifier 59 with {{ codes }}: it may be used only when the\n"
        "documentation shows a distinct procedural service (a different session, a\n"
        "different site or organ system, a separate incision or excision, or a separate\n"
        "injury). It must not be used just to get past an NCCI edit, and where one of\n"
        "XE, XS, XP or XU describes the situation, use that instead of 59."
    ),
    "abn-reminder": (
        "If Medicare is expected to deny {{ codes }} as not reasonable and necessary for\n"
        "this patient, an Advance Beneficiary Notice of Noncoverage (ABN, form CMS-R-131)\n"
        "must be signed before the service is given, and the claim line then carries\n"
        "modifier GA. Without a valid ABN the patient cannot be billed for a denied\n"
        "service, and an ABN signed routinely by every patient is not valid."
    ),
}


class SnippetError(ValueError):
    """Raised when a snippet cannot be saved, found or filled in; the message says why."""


class CaseCodes(tuple[str, ...]):
    """The case's codes: ``{{ codes }}`` reads ``29880, 29877``; a loop gets each code."""

    __slots__ = ()

    def __str__(self) -> str:
        return ", ".join(self) if self else NO_CODES


SAMPLE: dict[str, object] = {
    "requester_name": "Dana Reyes",
    "reference": "CC-000123",
    "codes": CaseCodes(("29880", "29877")),
}


def _environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False
    )
    env.globals.clear()  # no range(), lipsum(), dict(), ...: the three values and nothing else
    return env


_ENV = _environment()


@lru_cache(maxsize=256)
def _compiled(body: str) -> Template:
    return _ENV.from_string(body)


def values_for(case: Case) -> dict[str, object]:
    """The placeholders' values for ``case``."""
    return {
        "requester_name": case.requester_name or NO_NAME,
        "reference": case.reference or "",
        "codes": CaseCodes(case.codes.split()),
    }


def fill(body: str, values: Mapping[str, object]) -> str:
    """``body`` with its placeholders filled in from ``values`` (a checked body)."""
    try:
        return _compiled(body).render(**values)
    except (TemplateError, ArithmeticError, TypeError, ValueError) as error:
        raise SnippetError(f"the snippet cannot be filled in: {error}") from None


def check_body(body: str) -> str:
    """The body as stored (newlines normalised, outer blank lines dropped), or SnippetError."""
    body = body.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    if not body.strip():
        raise SnippetError("a snippet needs some text")
    if len(body) > MAX_BODY:
        raise SnippetError(f"a snippet may have at most {MAX_BODY:,} characters")
    try:
        tree = _ENV.parse(body)
    except TemplateSyntaxError as error:
        raise SnippetError(f"line {error.lineno}: {error.message}") from None
    _check_nodes(tree)
    unknown = sorted(meta.find_undeclared_variables(tree) - set(PLACEHOLDERS))
    if unknown:
        allowed = ", ".join(f"{{{{ {name} }}}}" for name in PLACEHOLDERS)
        named = ", ".join(f"{{{{ {name} }}}}" for name in unknown)
        raise SnippetError(f"unknown placeholder {named}: a snippet may use {allowed}")
    fill(body, SAMPLE)  # what the sandbox refuses (``{{ codes.__class__ }}``) is refused now
    return body


def _check_nodes(tree: nodes.Template) -> None:
    """Only text, placeholders, a few filters and ``{% if %}``: nothing that loops or multiplies.

    The sandbox keeps a body away from Python's internals but not from
    ``{{ reference * 100000000 }}`` or ``|center(999999999)``; this small
    language cannot make more text than a few times its own length.
    """
    for node in tree.find_all(nodes.Node):
        if isinstance(node, nodes.Filter) and node.name not in FILTERS:
            raise SnippetError(
                f"line {node.lineno}: the filter |{node.name} is not available in snippets "
                f"(use {', '.join('|' + f for f in sorted(FILTERS))})"
            )
        number = isinstance(node, nodes.Const) and type(node.value) in (int, float)
        if number and abs(node.value) > MAX_NUMBER:
            raise SnippetError(f"line {node.lineno}: numbers in snippets are at most {MAX_NUMBER}")
        if not isinstance(node, ALLOWED_NODES):
            raise SnippetError(
                f"line {node.lineno}: a snippet may hold text, placeholders such as "
                "{{ reference }}, filters and {% if %}; not this "
                f"({type(node).__name__.lower()})"
            )


def check_name(name: str) -> str:
    name = name.strip().lower()
    if not NAME.match(name):
        raise SnippetError(
            "a snippet name is 1 to 64 lower-case letters, digits and inner hyphens, "
            "like need-op-note"
        )
    return name


def list_snippets(session: Session) -> list[Snippet]:
    return list(session.scalars(select(Snippet).order_by(Snippet.name)))


def get_snippet(session: Session, snippet_id: int) -> Snippet | None:
    return session.get(Snippet, snippet_id)


def render_snippet(session: Session, name: str, case: Case) -> str:
    """The snippet called ``name`` filled in for ``case``; SnippetError if there is none."""
    snippet = session.scalar(select(Snippet).where(Snippet.name == name.strip().lower()))
    if snippet is None:
        raise SnippetError(f"there is no snippet called {name!r}")
    return fill(snippet.body, values_for(case))


def create_snippet(session: Session, name: str, body: str, actor: str) -> Snippet:
    snippet = Snippet(name=check_name(name), body=check_body(body), updated_by=actor)
    _save(session, snippet)
    log.info("snippet %s created by %s", snippet.name, actor)
    return snippet


def update_snippet(session: Session, snippet_id: int, name: str, body: str, actor: str) -> Snippet:
    snippet = session.get(Snippet, snippet_id)
    if snippet is None:
        raise SnippetError("that snippet no longer exists")
    snippet.name, snippet.body = check_name(name), check_body(body)
    snippet.updated_by, snippet.updated_at = actor, utcnow()
    _save(session, snippet)
    log.info("snippet %s updated by %s", snippet.name, actor)
    return snippet


def delete_snippet(session: Session, snippet_id: int, actor: str) -> str | None:
    """Delete a snippet; its name, or None when there was none."""
    snippet = session.get(Snippet, snippet_id)
    if snippet is None:
        return None
    session.delete(snippet)
    session.flush()
    log.info("snippet %s deleted by %s", snippet.name, actor)
    return snippet.name


def _save(session: Session, snippet: Snippet) -> None:
    try:
        with session.begin_nested():
            session.add(snippet)
    except IntegrityError:
        raise SnippetError(f"there is already a snippet called {snippet.name}") from None


def seed_defaults(session: Session, restore: bool = False) -> list[str]:
    """Add the snippets that ship with CaseConsultant; the names added.

    Once only: after the first time, defaults an admin deleted are added back
    only with ``restore``. Safe to run from two processes at once.
    """
    if read_setting(session, SNIPPETS_SEEDED) and not restore:
        return []
    added = [name for name in DEFAULTS if _add_if_missing(session, name, DEFAULTS[name])]
    write_setting(session, SNIPPETS_SEEDED, True, "system")
    return added


def _add_if_missing(session: Session, name: str, body: str) -> bool:
    if session.scalar(select(Snippet.id).where(Snippet.name == name)) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(Snippet(name=name, body=body, updated_by="system"))
    except IntegrityError:  # another process seeded it a moment ago
        return False
    return True
