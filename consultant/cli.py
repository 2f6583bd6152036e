"""The ``consultant`` command: database, main job, poller, web app, review actions, users.

Each command imports what it needs when it runs: ``consultant codes show``
should answer in a fraction of a second, without loading the mail, web and
task machinery it never uses.
"""

from __future__ import annotations

import getpass
import json
import sqlite3
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from config import ConfigError, Settings, load_settings
from consultant.codes.commands import codes_group
from consultant.logs import configure_logging
from consultant.roles import Role

if TYPE_CHECKING:
    from consultant.db import Database
    from consultant.services import Services


class _Context:
    """Settings read once per command; the database and services made only when needed."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._services: Services | None = None
        self._database: Database | None = None

    @property
    def services(self) -> Services:
        if self._services is None:
            from consultant.services import build_services

            self._services = build_services(self.settings)
        return self._services

    @property
    def database(self) -> Database:
        """The database alone, for commands that need nothing else."""
        if self._services is not None:
            return self._services.db
        if self._database is None:
            from consultant.db import Database

            self._database = Database(self.settings.database_url)
        return self._database

    def close(self) -> None:
        for database in (self._database, self._services.db if self._services else None):
            if database is not None:
                database.dispose()


pass_context = click.make_pass_decorator(_Context)


def _actor(given: str | None) -> str:
    return given or f"cli:{getpass.getuser()}"


def _schema_behind(settings: Settings, error: BaseException) -> str | None:
    """What to say when ``error`` came from a database whose schema is not this version's."""
    from sqlalchemy.exc import DBAPIError

    from consultant.db import schema_revisions

    from_driver = type(error).__module__.startswith("psycopg")  # the lookups' own connections
    if not (isinstance(error, DBAPIError | sqlite3.Error) or from_driver):
        return None

    try:
        current, head = schema_revisions(settings.database_url)
    except Exception:  # the database cannot even be read: the original error says more
        return None
    if current == head:
        return None
    if current is None:
        return "the database has no CaseConsultant tables yet: run `consultant db upgrade` first"
    return (
        f"the database's schema is revision {current}, this version needs {head}: "
        "run `consultant db upgrade` first"
    )


class _Commands(click.Group):
    """The command group; a database behind this version's schema is one line, not a
    traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as error:
            said = _schema_behind(ctx.obj.settings, error) if ctx.obj else None
            if said is None:
                raise
            raise click.ClickException(said) from None


@click.group(cls=_Commands)
@click.pass_context
def main(ctx: click.Context) -> None:
    """CaseConsultant: medical-coding questions by email, answered after expert review."""
    try:
        settings = load_settings()
    except ConfigError as error:
        click.echo(str(error), err=True)
        sys.exit(2)
    configure_logging(settings.log_level, settings.log_format, settings.log_debug)
    ctx.obj = _Context(settings)
    ctx.call_on_close(ctx.obj.close)


# -- database ---------------------------------------------------------------


@main.group("db")
def db_group() -> None:
    """Create and migrate the database."""


@db_group.command("upgrade")
@pass_context
def db_upgrade(ctx: _Context) -> None:
    """Create the database or migrate it to the latest schema."""
    from consultant.db import upgrade

    upgrade(ctx.settings.database_url)
    click.echo(f"database is up to date: {_display_url(ctx.settings.database_url)}")
    added = _seed_snippets(ctx.database)
    if added:
        click.echo(f"added snippets: {', '.join(added)}")


def _display_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# -- long-running roles -----------------------------------------------------


@main.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@pass_context
def run(ctx: _Context, host: str, port: int) -> None:
    """The main job in one process: inbox, processing, sweep and the review web app."""
    from consultant.db import upgrade
    from consultant.embedded import run_all

    # run_all migrates too; the shipped snippets need the tables first.
    upgrade(ctx.settings.database_url)
    _seed_snippets(ctx.database)
    run_all(ctx.settings, host, port)


@main.command("poll")
@click.option("--once", is_flag=True, help="Take in what is there now, then exit.")
@pass_context
def poll(ctx: _Context, once: bool) -> None:
    """Watch the inbox (IMAP, or the local Maildir) and take in new mail."""
    from consultant.mail.sources import make_source
    from consultant.warm_up import settle, warm_up

    source = make_source(ctx.services)
    if not once:  # ready before the first message: it processes too, or queues the work
        if ctx.settings.broker_url:
            ctx.services.dispatch.warm()
            settle()
        else:
            warm_up(ctx.services)
    if once:
        click.echo(f"stored {source.poll_once()} new message(s)")
        return
    stop = threading.Event()
    try:
        source.run(stop)
    except KeyboardInterrupt:
        stop.set()


@main.command("web")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@pass_context
def web(ctx: _Context, host: str, port: int) -> None:
    """Serve the review web app (waitress)."""
    from consultant.web.server import serve_app

    serve_app(ctx.services, host, port)


@main.command("sweep")
@pass_context
def sweep_command(ctx: _Context) -> None:
    """Start again any committed work whose task never ran (what beat does every minute)."""
    from consultant.cases.sweep import sweep

    report = sweep(ctx.services)
    click.echo(f"re-queued {report.messages} message(s) and {report.sends} send(s)")


# -- analysis and drafting ---------------------------------------------------


def _parsed(path: Path) -> Any:
    from consultant.mail.parse import MessageParseError, parse_message

    try:
        return parse_message(path.read_bytes())
    except MessageParseError as error:
        raise click.ClickException(f"{path}: {error}") from None


@main.command("analyze")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@pass_context
def analyze_command(ctx: _Context, path: Path, as_json: bool) -> None:
    """What one email asks and what the code data says about it (changes nothing)."""
    from consultant.cases.answering import analyse, message_phi

    parsed = _parsed(path)
    analysis, facts = analyse(ctx.services, parsed)
    phi = message_phi(parsed)  # quoted and forwarded parts too, as processing flags a case
    data = analysis.as_json() | {
        "phi": {"found": phi.found, "kinds": phi.kinds},
        "on": facts.on,
        "facts": [f.as_dict() for f in facts.items],
    }
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
        return
    codes = ", ".join(f"{c['code']} ({c['system']})" for c in data["codes"]) or "none"
    click.echo(f"codes:     {codes}")
    click.echo(f"modifiers: {', '.join(data['modifiers']) or 'none'}")
    click.echo(f"topics:    {', '.join(data['topics']) or 'none'}")
    units = ", ".join(f"{u['count']} of {u['code'] or '?'}" for u in data["units"])
    click.echo(f"units:     {units or 'none'}")
    click.echo(f"PHI:       {', '.join(data['phi']['kinds']) if data['phi']['found'] else 'none'}")
    click.echo(f"facts as of {facts.on}:")
    for fact in facts.items:
        source = fact.source["version"] if fact.source else "-"
        click.echo(f"  {fact.kind:<10} {' '.join(fact.codes):<16} {source}")


@main.command("draft")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="The reply (text and HTML), the reviewer's panel, the conclusions and the facts.",
)
@pass_context
def draft_command(ctx: _Context, path: Path, as_json: bool) -> None:
    """The draft CaseConsultant would write for one email (changes nothing)."""
    from consultant.cases.answering import draft_answer

    draft = draft_answer(ctx.services, _parsed(path), reference=None)
    if not as_json:
        click.echo(draft.body.text, nl=False)
        return
    record = draft.record
    data = {
        "reply": {"text": draft.body.text, "html": draft.body.html},
        "panel": record["panel"],
        "conclusions": record["conclusions"],
        "undecided": record["undecided"],
        "on": record["on"],
        "facts": record["facts"],
        "analysis": record["analysis"],
    }
    click.echo(json.dumps(data, indent=2, default=str))


# -- cases -----------------------------------------------------------------


@main.group("cases")
def cases_group() -> None:
    """List, show and review cases."""


def _case_summary(case: Any) -> dict[str, Any]:
    return {
        "reference": case.reference,
        "status": case.status,
        "subject": case.subject,
        "requester": case.requester_address,
        "phi_flagged": case.phi_flagged,
        "assignee": case.assignee.email if case.assignee else None,
        "created_at": case.created_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
    }


QUEUE_FLAGS = {
    "mine": "Only cases assigned to or claimed by you (say who with --as).",
    "unassigned": "Only cases assigned to nobody.",
    "claimed": "Only cases someone has claimed.",
    "overdue": "Only cases past their SLA.",
    "phi": "Only cases flagged for patient details.",
    "attachments": "Only cases with attachments.",
}


def _queue_options(default_status: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The queue's view, filters, order and paging as options (``cases list``/``search``)."""
    options = [
        click.option(
            "--status",
            default=default_status,
            show_default=True,
            help="A status (awaiting_review, sent, ...), 'open' (awaiting review or failed) "
            "or 'all'.",
        ),
        *(click.option(f"--{flag}", is_flag=True, help=text) for flag, text in QUEUE_FLAGS.items()),
        click.option("--topic", default="", help="Only cases about this topic (ncci, mue, ...)."),
        click.option("--code", default="", help="Only cases naming this code."),
        click.option(
            "--sort",
            default="",
            help="age, due, requester, status, assignee or relevance (default: oldest waiting "
            "first in open work, newest first in finished work, best match when searching).",
        ),
        click.option("--desc/--asc", "descending", default=None, help="The sort's direction."),
        click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1)),
        click.option("--offset", default=0, show_default=True, type=click.IntRange(min=0)),
        click.option("--all", "everything", is_flag=True, help="Every case that matches."),
        click.option("--as", "actor", help="Who asks, for --mine (an email)."),
        click.option("--json", "as_json", is_flag=True, help="The page's cases as JSON."),
    ]

    def apply(function: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            function = option(function)
        return function

    return apply


def _print_queue(ctx: _Context, q: str, options: dict[str, Any]) -> None:
    """One page of the queue (or all of it), subjects without patient details."""
    from consultant.cases.queue import QueueError, QueueFilter, QueueOrder, queue_page
    from consultant.cases.sla import describe_span

    if options["mine"] and not options["actor"]:
        raise click.ClickException("--mine needs --as EMAIL: whose cases?")
    try:
        filters = QueueFilter(
            status=options["status"],
            topic=options["topic"],
            code=options["code"],
            q=q,
            **{flag: options[flag] for flag in QUEUE_FLAGS},
        )
        order = QueueOrder(options["sort"], options["descending"])
        with ctx.database.read_session() as session:
            page = queue_page(
                session,
                ctx.settings,
                filters,
                order,
                offset=options["offset"],
                limit=None if options["everything"] else options["limit"],
                viewer=options["actor"],
            )
    except QueueError as error:
        raise click.ClickException(str(error)) from None
    if options["as_json"]:
        click.echo(json.dumps([row.as_json() for row in page.rows], indent=2))
        return
    for row in page.rows:
        flag = " [PHI]" if row.phi_flagged else ""
        sla = ("OVERDUE " + row.sla.removeprefix("overdue ")) if row.overdue else row.sla
        click.echo(
            f"{row.reference:<12} {row.status:<16} {describe_span(row.age):>8}  {sla or '-':<20} "
            f"{row.requester_address or '-':<32} {row.subject}{flag}"
        )
    more = ""
    if page.last < page.total:
        more = f" (--offset {page.last} for the next page, --all for every one)"
    view = "" if filters.status == "all" else filters.status.replace("_", " ") + " "
    noun = f"{view}case{'s' if page.total != 1 else ''}"
    click.echo(f"showing {page.describe()} {noun}{more}")


@cases_group.command("list")
@_queue_options("open")
@click.option("--q", "q", default="", help="Words, codes or a requester to search for.")
@pass_context
def cases_list(ctx: _Context, q: str, **options: Any) -> None:
    """The queue: oldest waiting first, a page at a time (--limit, --offset, --all)."""
    _print_queue(ctx, q, options)


@cases_group.command("search")
@click.argument("words", nargs=-1, required=True)
@_queue_options("all")
@pass_context
def cases_search(ctx: _Context, words: tuple[str, ...], **options: Any) -> None:
    """Cases whose subject, requester, messages or codes match WORDS, best match first.

    Read like a web search: all words, "a phrase", -word to leave out, a OR b.
    """
    _print_queue(ctx, " ".join(words), options)


@cases_group.command("reindex")
@pass_context
def cases_reindex(ctx: _Context) -> None:
    """Rebuild every case's search text, codes, topics and attachment count from its rows."""
    from consultant.cases.search_index import reindex_all

    click.echo(f"reindexed {reindex_all(ctx.database):,} case(s)")


@cases_group.command("show")
@click.argument("reference")
@click.option("--json", "as_json", is_flag=True)
@click.option(
    "--show-phi",
    is_flag=True,
    help="Print patient details as they came (recorded on the case's timeline).",
)
@click.option("--as", "actor", help="Who looks (default cli:<login>); recorded with --show-phi.")
@pass_context
def cases_show(
    ctx: _Context, reference: str, as_json: bool, show_phi: bool, actor: str | None
) -> None:
    """One case: its messages, draft versions, notes, outgoing mail and timeline.

    Subjects, message text and file names are printed with patient details
    removed unless --show-phi, which the timeline records.
    """
    from consultant.analysis.phi import redact, redact_file_name
    from consultant.cases.events import record
    from consultant.cases.queries import load_case
    from consultant.cases.timeline import describe

    def shown(text: str | None) -> str | None:
        return text if show_phi or text is None else redact(text)

    with ctx.database.session() as session:
        case = load_case(session, reference)
        if case is None:
            raise click.ClickException(f"no case {reference}")
        if show_phi:
            record(session, case, "phi_revealed", _actor(actor), where="cli")
        data = _case_summary(case) | {
            "subject": shown(case.subject),
            "error": case.error,
            "claimed_by": case.claimed_by,
            "claim_expires_at": case.claim_expires_at.isoformat()
            if case.claim_expires_at
            else None,
            "messages": [
                {
                    "id": m.id,
                    "message_id": m.message_id,
                    "from": m.from_address,
                    "route": m.route,
                    "reason": m.route_reason,
                    "error": m.error,
                    "text": shown(m.text),
                    "attachments": [
                        (a["filename"] if show_phi else redact_file_name(a["filename"]))
                        for a in (m.attachments or [])
                    ],
                }
                for m in case.messages
            ],
            "draft": (
                {
                    "version": case.drafts[-1].version,
                    "author": case.drafts[-1].author,
                    "text": case.drafts[-1].body_text,
                }
                if case.drafts
                else None
            ),
            "versions": [
                {
                    "version": d.version,
                    "author": d.author,
                    "at": d.created_at.isoformat(),
                    "based_on": d.base_version,
                }
                for d in case.drafts
            ],
            "notes": [
                {"author": n.author, "at": n.created_at.isoformat(), "text": n.body}
                for n in case.notes
            ],
            "outbound": [
                {
                    "kind": o.kind,
                    "state": o.state,
                    "message_id": o.message_id,
                    "to": o.recipients,
                    "attempts": o.attempts,
                    "reply": o.smtp_reply,
                    "error": o.last_error,
                }
                for o in case.outbound
            ],
            "timeline": [
                {"at": entry.at.isoformat(), "who": entry.who, "what": entry.what}
                for entry in map(describe, case.events)
            ],
        }
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    _print_case(data)


def _print_case(data: dict[str, Any]) -> None:
    click.echo(f"{data['reference']}  {data['status']}  {data['subject']}")
    click.echo(f"from {data['requester']}" + ("  [contains PHI]" if data["phi_flagged"] else ""))
    if data["claimed_by"]:
        click.echo(f"claimed by {data['claimed_by']} until {data['claim_expires_at']}")
    if data["error"]:
        click.echo(f"error: {data['error']}")
    for message in data["messages"]:
        click.echo(f"\n--- message from {message['from'] or 'unknown'} ({message['route']}) ---")
        click.echo(message["text"] or "")
        for name in message["attachments"]:
            click.echo(f"[attachment] {name}")
    if data["draft"]:
        click.echo(f"\n--- draft v{data['draft']['version']} by {data['draft']['author']} ---")
        click.echo(data["draft"]["text"])
        for v in data["versions"]:
            source = f"edited from v{v['based_on']}" if v["based_on"] else "written by the system"
            click.echo(f"v{v['version']}  {v['at']}  {v['author']}  {source}")
    for note in data["notes"]:
        click.echo(f"\n[note by {note['author']} at {note['at']}] {note['text']}")
    click.echo("\n--- timeline ---")
    for entry in data["timeline"]:
        click.echo(f"{entry['at']}  {entry['what']}  ({entry['who']})")


def _review(name: str, *args: Any, **kwargs: Any) -> Any:
    """Run review action ``name``; its refusal becomes a one-line error, not a traceback."""
    from consultant.cases import review
    from consultant.cases.lifecycle import InvalidTransition
    from consultant.db_errors import TransientError

    try:
        return getattr(review, name)(*args, **kwargs)
    except review.DraftConflict as conflict:
        raise click.ClickException(f"{conflict}\n{_conflict_diff(conflict)}") from None
    except (review.ReviewError, InvalidTransition, TransientError) as error:
        raise click.ClickException(str(error)) from None


def _conflict_diff(conflict: Any) -> str:
    """What changed since the version the command was based on, as a unified diff."""
    from consultant.cases.diffs import unified_diff

    base, current = conflict.base, conflict.current
    return unified_diff(
        base.text, current.text, f"v{base.number}", f"v{current.number} ({current.author})"
    )


def _current_draft(ctx: _Context, reference: str) -> tuple[int, str]:
    from consultant.cases.queries import load_case

    with ctx.database.session() as session:
        case = load_case(session, reference)
        if case is None:
            raise click.ClickException(f"no case {reference}")
        if not case.drafts:
            raise click.ClickException(f"{case.reference} has no draft")
        return case.drafts[-1].version, case.drafts[-1].body_text


@cases_group.command("edit")
@click.argument("reference")
@click.option(
    "--file",
    "path",
    type=click.File("r", encoding="utf-8"),
    default="-",
    help="The new draft text (default: standard input).",
)
@click.option(
    "--base-version",
    type=int,
    help="The version your text was edited from; refused if someone saved a newer one.",
)
@click.option("--yes", is_flag=True, help="Save over the current version without asking.")
@click.option("--as", "actor", help="Who edits (default cli:<login>).")
@pass_context
def cases_edit(
    ctx: _Context,
    reference: str,
    path: Any,
    base_version: int | None,
    yes: bool,
    actor: str | None,
) -> None:
    """Save a new version of the draft from a file or standard input."""
    text = path.read()
    if base_version is None:
        current, _ = _current_draft(ctx, reference)
        if not yes:
            if path.name == "<stdin>" or not sys.stdin.isatty():
                raise click.ClickException(
                    f"say which version you edited: --base-version N (the current one is "
                    f"v{current}), or --yes to save over v{current}"
                )
            click.confirm(f"Save as a new version over v{current}?", abort=True)
        base_version = current
    saved = _review(
        "edit_draft", ctx.services, reference, text, _actor(actor), base_version=base_version
    )
    click.echo(f"{reference.upper()}: {saved.describe()}")


@cases_group.command("approve")
@click.argument("reference")
@click.option(
    "--version",
    "version",
    type=int,
    help="The draft version you read and approve; refused if it is no longer the current one.",
)
@click.option("--yes", is_flag=True, help="Send the current version without asking.")
@click.option("--as", "actor", help="Who approves (default cli:<login>).")
@pass_context
def cases_approve(
    ctx: _Context, reference: str, version: int | None, yes: bool, actor: str | None
) -> None:
    """Approve a draft version and send it as the reply.

    Without --version the current version is printed and you are asked
    before it is sent (or --yes).
    """
    if version is None:
        current, text = _current_draft(ctx, reference)
        if not yes:
            click.echo(f"--- draft v{current} ---\n{text}\n---")
            click.confirm(f"Send draft v{current} of {reference.upper()}?", abort=True)
        version = current
    approved = _review("approve", ctx.services, reference, _actor(actor), version=version)
    if approved.already_answered:
        click.echo(
            f"{reference.upper()}: draft v{approved.version} approved; it is the automatic "
            "answer already sent, so no reply is queued"
        )
    else:
        click.echo(f"{reference.upper()}: draft v{approved.version} approved, reply queued")


@cases_group.command("claim")
@click.argument("reference")
@click.option("--take-over", is_flag=True, help="Take the case from whoever holds it (recorded).")
@click.option("--as", "actor", help="Who claims (default cli:<login>).")
@pass_context
def cases_claim(ctx: _Context, reference: str, take_over: bool, actor: str | None) -> None:
    """Make the case yours for CONSULTANT_CLAIM_MINUTES."""
    _review("claim", ctx.services, reference, _actor(actor), take_over=take_over)
    minutes = ctx.services.settings.claim_minutes
    click.echo(f"{reference.upper()}: claimed for {minutes} minutes")


@cases_group.command("release")
@click.argument("reference")
@click.option("--as", "actor", help="Whose claim (default cli:<login>).")
@pass_context
def cases_release(ctx: _Context, reference: str, actor: str | None) -> None:
    """Give up your claim on the case."""
    released = _review("release", ctx.services, reference, _actor(actor))
    click.echo(f"{reference.upper()}: " + ("released" if released else "you did not hold it"))


@cases_group.command("note")
@click.argument("reference")
@click.argument("text")
@click.option("--as", "actor", help="Who writes (default cli:<login>).")
@pass_context
def cases_note(ctx: _Context, reference: str, text: str, actor: str | None) -> None:
    """Add an internal note (for the experts; never sent)."""
    _review("add_note", ctx.services, reference, text, _actor(actor))
    click.echo(f"{reference.upper()}: note added")


@cases_group.command("reject")
@click.argument("reference")
@click.option("--reason", required=True)
@click.option("--as", "actor", help="Who rejects (default cli:<login>).")
@pass_context
def cases_reject(ctx: _Context, reference: str, reason: str, actor: str | None) -> None:
    """Close the case without replying."""
    _review("reject", ctx.services, reference, reason, _actor(actor))
    click.echo(f"{reference.upper()}: rejected")


@cases_group.command("assign")
@click.argument("reference")
@click.argument("email", required=False)
@click.option("--as", "actor", help="Who assigns (default cli:<login>).")
@pass_context
def cases_assign(ctx: _Context, reference: str, email: str | None, actor: str | None) -> None:
    """Assign the case to a reviewer (no EMAIL: unassign)."""
    _review("assign", ctx.services, reference, email, _actor(actor))
    click.echo(f"{reference.upper()}: assigned to {email or 'nobody'}")


@cases_group.command("retry")
@click.argument("reference")
@click.option("--as", "actor", help="Who retries (default cli:<login>).")
@pass_context
def cases_retry(ctx: _Context, reference: str, actor: str | None) -> None:
    """Run a failed case again (send its reply again, or process its message again)."""
    task = _review("retry", ctx.services, reference, _actor(actor))
    click.echo(f"{reference.upper()}: {task} started again")


# -- users -----------------------------------------------------------------


@main.group("users")
def users_group() -> None:
    """Reviewer accounts."""


@users_group.command("create")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.REVIEWER.value,
    show_default=True,
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@pass_context
def users_create(ctx: _Context, email: str, role: str, password_stdin: bool) -> None:
    """Create a login for the review web app."""
    password = _new_password(password_stdin)
    from consultant.users import UserError, create_user

    try:
        create_user(ctx.database, email, password, Role(role))
    except UserError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"user {email.strip().lower()} created with role {role}")


def _new_password(from_stdin: bool) -> str:
    """One line of standard input, or typed twice at a hidden prompt."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


def _set_active(ctx: _Context, email: str, active: bool, actor: str | None) -> int:
    from consultant.users import UserError, set_active

    try:
        return set_active(ctx.database, email, active, _actor(actor))
    except UserError as error:
        raise click.ClickException(str(error)) from None


@users_group.command("disable")
@click.argument("email")
@click.option("--as", "actor", help="Who disables (default cli:<login>).")
@pass_context
def users_disable(ctx: _Context, email: str, actor: str | None) -> None:
    """Stop a user from signing in; their open sessions end at once."""
    ended = _set_active(ctx, email, False, actor)
    click.echo(f"user {email.strip().lower()} disabled; {ended} session(s) ended")


@users_group.command("enable")
@click.argument("email")
@click.option("--as", "actor", help="Who enables (default cli:<login>).")
@pass_context
def users_enable(ctx: _Context, email: str, actor: str | None) -> None:
    """Let a disabled user sign in again."""
    _set_active(ctx, email, True, actor)
    click.echo(f"user {email.strip().lower()} enabled")


@users_group.command("password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--as", "actor", help="Who sets it (default cli:<login>).")
@pass_context
def users_password(ctx: _Context, email: str, password_stdin: bool, actor: str | None) -> None:
    """Set a user's password; their open sessions end and any sign-in wait is lifted."""
    password = _new_password(password_stdin)
    from consultant.users import UserError, reset_password

    try:
        ended = reset_password(ctx.database, email, password, _actor(actor))
    except UserError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"password of {email.strip().lower()} set; {ended} session(s) ended")


@users_group.command("log")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1))
@click.option("--email", help="Only entries for this email.")
@pass_context
def users_log(ctx: _Context, limit: int, email: str | None) -> None:
    """The audit log of sign-ins, failures, refusals, sign-outs and password changes,
    newest first."""
    from consultant.auth_log import describe, recent
    from consultant.users import normalise_email

    wanted = normalise_email(email) if email is not None else None
    for event in recent(ctx.database, limit, email=wanted):
        click.echo(describe(event))


# -- API tokens --------------------------------------------------------------


@main.group("tokens")
def tokens_group() -> None:
    """Personal tokens for the JSON API (/api/v1): shown once, stored hashed, revocable."""


@tokens_group.command("create")
@click.argument("email")
@click.option("--name", default="", help="What the token is for (e.g. the script's name).")
@pass_context
def tokens_create(ctx: _Context, email: str, name: str) -> None:
    """Make a token for EMAIL's account and print it: this is the only time it is shown."""
    from consultant.api_tokens import TokenError, create

    try:
        made = create(ctx.database, email, name, actor=_actor(None))
    except TokenError as error:
        raise click.ClickException(str(error)) from None
    click.echo(made.secret)
    click.echo(
        f"token {made.id} for {made.email} created; it is shown only this once. "
        "Send it as 'Authorization: Bearer <token>'.",
        err=True,
    )


@tokens_group.command("list")
@click.argument("email", required=False)
@pass_context
def tokens_list(ctx: _Context, email: str | None) -> None:
    """Tokens (of EMAIL only, when given): id, prefix, owner, name, created, last used,
    revoked. Never the tokens themselves."""
    from consultant.api_tokens import list_tokens

    def when(moment: Any) -> str:
        return moment.strftime("%Y-%m-%d %H:%M") if moment is not None else "-"

    for token in list_tokens(ctx.database, email):
        revoked = f"revoked {when(token.revoked_at)}" if token.revoked else "active"
        click.echo(
            f"{token.id:<5} {token.prefix}...  {token.email:<32} {token.name or '-':<20} "
            f"created {when(token.created_at)}  last used {when(token.last_used_at)}  {revoked}"
        )


@tokens_group.command("revoke")
@click.argument("token_id", type=int)
@pass_context
def tokens_revoke(ctx: _Context, token_id: int) -> None:
    """Revoke token TOKEN_ID (see `tokens list`): it stops working at once."""
    from consultant.api_tokens import TokenError, revoke

    try:
        token = revoke(ctx.database, token_id, actor=_actor(None))
    except TokenError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"token {token.id} ({token.prefix}..., {token.email}) is revoked")


# -- snippets --------------------------------------------------------------


@main.group("snippets")
def snippets_group() -> None:
    """Reply snippets that reviewers insert by name (kept by admins on the web)."""


def _seed_snippets(database: Database, restore: bool = False) -> list[str]:
    """Add the snippets CaseConsultant ships with: once, or with ``restore`` those deleted."""
    from consultant.cases.snippets import seed_defaults

    with database.session() as session:
        return seed_defaults(session, restore)


@snippets_group.command("seed")
@click.option("--restore", is_flag=True, help="Add back shipped snippets that were deleted.")
@pass_context
def snippets_seed(ctx: _Context, restore: bool) -> None:
    """Add the snippets CaseConsultant ships with (`db upgrade` and `run` do it once)."""
    added = _seed_snippets(ctx.database, restore)
    click.echo(f"added snippets: {', '.join(added)}" if added else "no snippets to add")


@snippets_group.command("list")
@pass_context
def snippets_list(ctx: _Context) -> None:
    """Each snippet's name and first line."""
    from consultant.cases.snippets import list_snippets

    with ctx.database.read_session() as session:
        for snippet in list_snippets(session):
            click.echo(f"{snippet.name:<24} {snippet.body.splitlines()[0]}")


# -- guidance notes --------------------------------------------------------


@main.group("guidance")
def guidance_group() -> None:
    """Experts' guidance notes on a code, a pair, a modifier or a topic, used by drafts."""


def _guidance(ctx: _Context, change: Callable[[Any], Any]) -> Any:
    """Run ``change`` (given a session) and say a refused change in one line."""
    from consultant.cases.guidance import GuidanceError, as_dict

    try:
        with ctx.database.session() as session:
            return as_dict(change(session))
    except GuidanceError as error:
        raise click.ClickException(str(error)) from error


def _note_line(note: dict[str, Any]) -> str:
    state = "" if note["enabled"] else " (disabled)"
    return (
        f"#{note['id']} v{note['version']} {note['kind']} {note['target']}{state}: "
        f"{note['text'].splitlines()[0]}"
    )


_TARGET_OPTIONS = (
    click.option("--code", help="A code the note is about (20956, F17.210)."),
    click.option("--pair", help="Two codes billed together (20956+20902)."),
    click.option("--modifier", help="A modifier (59, XS)."),
    click.option("--topic", help="A topic (ncci, modifier, mue, global, addon, em, ...)."),
)


def _target(code: str | None, pair: str | None, modifier: str | None, topic: str | None) -> Any:
    given = [
        (k, v)
        for k, v in (("code", code), ("pair", pair), ("modifier", modifier), ("topic", topic))
        if v
    ]
    if len(given) != 1:
        raise click.UsageError(
            "say what the note is about: one of --code, --pair, --modifier, --topic"
        )
    return given[0]


def _with_targets(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_TARGET_OPTIONS):
        command = option(command)
    return command


@guidance_group.command("list")
@pass_context
def guidance_list(ctx: _Context) -> None:
    """Every note, enabled or not, by what it is about."""
    from consultant.cases.guidance import as_dict, list_notes

    with ctx.database.read_session() as session:
        for note in list_notes(session):
            click.echo(_note_line(as_dict(note)))


@guidance_group.command("add")
@_with_targets
@click.option("--text", required=True, help="What the draft should say, as the reply says it.")
@click.option("--citation", default="", help="Where it comes from (document, chapter, section).")
@click.option("--as", "actor", help="Who writes it (default cli:<login>).")
@pass_context
def guidance_add(
    ctx: _Context,
    code: str | None,
    pair: str | None,
    modifier: str | None,
    topic: str | None,
    text: str,
    citation: str,
    actor: str | None,
) -> None:
    """Add a note; drafts use it from the next question that names its target."""
    from consultant.cases.guidance import NoteInput, add_note

    kind, target = _target(code, pair, modifier, topic)
    note = _guidance(
        ctx, lambda s: add_note(s, NoteInput(kind, target, text, citation), _actor(actor))
    )
    click.echo(f"added {_note_line(note)}")


@guidance_group.command("edit")
@click.argument("note_id", type=int)
@click.option(
    "--version",
    "version",
    type=int,
    required=True,
    help="The version you changed; refused if someone saved a newer one.",
)
@_with_targets
@click.option("--text", help="The new words (default: as they are).")
@click.option("--citation", help="The new citation (default: as it is).")
@click.option("--as", "actor", help="Who edits (default cli:<login>).")
@pass_context
def guidance_edit(
    ctx: _Context,
    note_id: int,
    version: int,
    code: str | None,
    pair: str | None,
    modifier: str | None,
    topic: str | None,
    text: str | None,
    citation: str | None,
    actor: str | None,
) -> None:
    """Change a note's words, citation or target."""
    from consultant.cases.guidance import NoteInput, edit_note, get_note

    def change(session: Any) -> Any:
        note = get_note(session, note_id)
        kind, target = (
            _target(code, pair, modifier, topic)
            if any((code, pair, modifier, topic))
            else (note.target_kind, note.target)
        )
        given = NoteInput(
            kind,
            target,
            note.text if text is None else text,
            note.citation if citation is None else citation,
        )
        return edit_note(session, note_id, version, given, _actor(actor))

    click.echo(f"saved {_note_line(_guidance(ctx, change))}")


def _switch(ctx: _Context, note_id: int, version: int, enabled: bool, actor: str | None) -> None:
    from consultant.cases.guidance import set_enabled

    note = _guidance(ctx, lambda s: set_enabled(s, note_id, version, enabled, _actor(actor)))
    click.echo(_note_line(note))


_VERSION_READ = click.option(
    "--version",
    "version",
    type=int,
    required=True,
    help="The version you read; refused if it changed since.",
)


@guidance_group.command("enable")
@click.argument("note_id", type=int)
@_VERSION_READ
@click.option("--as", "actor", help="Who (default cli:<login>).")
@pass_context
def guidance_enable(ctx: _Context, note_id: int, version: int, actor: str | None) -> None:
    """Use a note in drafts again."""
    _switch(ctx, note_id, version, True, actor)


@guidance_group.command("disable")
@click.argument("note_id", type=int)
@_VERSION_READ
@click.option("--as", "actor", help="Who (default cli:<login>).")
@pass_context
def guidance_disable(ctx: _Context, note_id: int, version: int, actor: str | None) -> None:
    """Stop using a note in drafts (it is kept, and can be enabled again)."""
    _switch(ctx, note_id, version, False, actor)


main.add_command(codes_group)
