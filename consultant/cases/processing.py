"""``process_message``: one stored inbound message becomes a case, a follow-up, or is set aside.

The steps, in order: claim the message (a committed claim, so a second
delivery of the task leaves it alone and a dead run is noticed), parse it
outside any transaction, then in one transaction: set machine mail aside
(ignored, with its reason; a bounce marks the message it names), hold mail
from a sender over the hourly limit, find the case a reply belongs to (or
the case of a reply that was processed first), otherwise hold a question
from a sender nobody allowed (``senders``: held, perhaps with a notice, as
the admins chose) or open a new case; analyse, draft, wait for review, and
queue the acknowledgment. The
transaction happens entirely or not at all, and the acknowledgment is handed
to the dispatcher only after the commit.

Failures are sorted by cause. The database being unwell raises
``TransientError`` (the caller tries again later, on a fresh connection); a
value the database refuses, a bug, a message that breaks a step or runs past
the time limit sets that one message aside on a ``failed`` case with the
error, its raw bytes kept for ``consultant cases retry``.
"""

from __future__ import annotations

import logging
import time
import traceback
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from config.desks import MAIN as MAIN_DESK
from consultant.analysis.phi import PhiFindings, redact, redact_file_name
from consultant.batch_memo import remembered
from consultant.cases import claims, lifecycle, runs, senders, thread_index
from consultant.cases.answering import answer_message, draft_answer, message_phi
from consultant.cases.asking import WEB_MAILBOX, note_answers_seen
from consultant.cases.bounces import apply_bounce
from consultant.cases.claims import Claim, ClaimRefused
from consultant.cases.events import record
from consultant.cases.ignored import READ_AS_QUESTION
from consultant.cases.outbox import queue_outbound
from consultant.cases.references import format_reference
from consultant.cases.search_index import index_message
from consultant.db import advisory_key
from consultant.db_errors import (
    DbErrorKind,
    classify,
    describe,
    raise_if_transient,
)
from consultant.drafting.automatic import AutomaticAnswer, render_answer
from consultant.logs import bound, current, note
from consultant.mail.addresses import reply_address
from consultant.mail.automated import machine_reason
from consultant.mail.parse import MessageParseError, ParsedMessage, ParseLimits, parse_message
from consultant.mail.threads import reference_in_marker, reference_in_subject, references_chain
from consultant.models import (
    Case,
    CaseStatus,
    Draft,
    InboundMessage,
    OutboundKind,
    OutboundMessage,
    Route,
    utcnow,
)
from consultant.services import Services
from consultant.time_limits import is_time_limit

log = logging.getLogger(__name__)

REOPEN_ON_FOLLOW_UP = {CaseStatus.SENT, CaseStatus.REJECTED, CaseStatus.FAILED}
QUESTION_ROUTES = (Route.NEW_CASE, Route.FOLLOW_UP)
SENDER_WINDOW = timedelta(hours=1)
# How long a reply waits for a parent that was stored after it (see ``_parent_pending``).
LATER_PARENT_WAIT = timedelta(seconds=60)
MAX_THREAD_LOCKS = 50


class Outcome(StrEnum):
    NEW_CASE = "new_case"
    FOLLOW_UP = "follow_up"
    JOINED = "joined"
    IGNORED = "ignored"
    FAILED = "failed"
    ALREADY_DONE = "already_done"
    BUSY = "busy"
    DEFERRED = "deferred"


@dataclass
class _Result:
    outcome: Outcome
    to_send: list[int] = field(default_factory=list)
    case: str | None = None  # the case's reference, for the log line after the commit


class _Deferred(Exception):
    """The message this one answers is stored but not processed yet: wait for it."""


class _ClaimLost(Exception):
    """Another run took the message over while this one worked (this one outlived its lease)."""


def process_message(services: Services, inbound_id: int, token: str | None = None) -> Outcome:
    """Process inbound message ``inbound_id``; running it twice changes nothing.

    ``token`` names the run (the Celery task id, which stays the same when the
    broker delivers the task again): a claim whose run is provably gone is
    taken over at once, another once its lease has passed (``claims``).
    """
    with bound(inbound=inbound_id):
        outcome = _process_claimed(services, inbound_id, token or uuid.uuid4().hex)
        log.info("inbound #%s: %s", inbound_id, outcome)
        return outcome


def _process_claimed(services: Services, inbound_id: int, token: str) -> Outcome:
    try:
        held = claims.claim(services.db, inbound_id, token, runs.lease_seconds(services.settings))
    except Exception as error:
        raise_if_transient(error)
        raise
    if isinstance(held, ClaimRefused):
        return Outcome.ALREADY_DONE if held is ClaimRefused.DONE else Outcome.BUSY
    parsed = _parsed_or_set_aside(services, held, ParseLimits.from_settings(services.settings))
    if isinstance(parsed, Outcome):
        return parsed
    try:
        with services.db.session() as session:
            limit = services.settings.task_soft_time_limit_seconds
            _serialise_thread(session, [parsed], limit)
            result = _process(services, session, held, parsed)
    except _Deferred:
        _release_quietly(services, held)
        return Outcome.DEFERRED
    except _ClaimLost:
        return Outcome.BUSY
    except Exception as error:
        if classify(error) is DbErrorKind.TRANSIENT:
            _release_quietly(services, held)
            raise_if_transient(error)
        return _set_aside(services, held, _explain(services, error), parsed)
    for outbound_id in result.to_send:
        services.dispatch("send_reply", outbound_id)
    return result.outcome


def process_messages(
    services: Services, inbound_ids: Sequence[int], token: str | None = None
) -> dict[int, Outcome]:
    """Process a batch of stored messages in one transaction; running it twice changes nothing.

    What a message costs is mostly its commits and round trips, so a batch is
    claimed in one commit, parsed outside any transaction, and processed in
    one transaction, each message in a savepoint of its own: a message that
    fails is rolled back alone and set aside after the commit, the rest
    commit. A message some earlier run claimed and never released (that run
    may have died on it) is processed alone, after the batch. Every message's
    outcome is logged with its case.
    """
    token = token or uuid.uuid4().hex
    try:
        claimed = claims.claim_free(services.db, inbound_ids, token)
    except Exception as error:
        raise_if_transient(error)
        raise
    outcomes: dict[int, Outcome] = {}
    for inbound_id, refused in claimed.refused.items():
        done = Outcome.ALREADY_DONE if refused is ClaimRefused.DONE else Outcome.BUSY
        outcomes[inbound_id] = _logged(inbound_id, done)
    work: list[tuple[Claim, ParsedMessage]] = []
    limits = ParseLimits.from_settings(services.settings)
    for held in claimed.held:
        with bound(inbound=held.inbound_id, case=None):
            parsed = _parsed_or_set_aside(services, held, limits)
            if isinstance(parsed, Outcome):
                outcomes[held.inbound_id] = _logged(held.inbound_id, parsed)
            else:
                work.append((held, parsed))
    if work:
        outcomes |= _process_batch(services, token, work)
    for inbound_id in claimed.held_before:
        outcomes[inbound_id] = process_message(services, inbound_id, token)
    return outcomes


def _parsed_or_set_aside(
    services: Services, held: Claim, limits: ParseLimits
) -> ParsedMessage | Outcome:
    """The claimed message parsed, or the outcome of setting it aside unprocessed.

    A message earlier runs kept dying on, or one that cannot be parsed, is
    set aside before it costs a transaction (or, in a batch, the others theirs).
    """
    if held.unfinished_runs >= services.settings.process_max_attempts:
        return _set_aside(services, held, _too_many_runs(held), None)
    try:
        return parse_message(held.raw, limits)
    except MessageParseError as error:
        return _set_aside(services, held, str(error), None, parse_error=True)
    except Exception as error:
        return _set_aside(services, held, _explain(services, error), None)


def _logged(inbound_id: int, outcome: Outcome, case: str | None = None) -> Outcome:
    """Log a message's outcome, naming its case when it has one; return the outcome."""
    with bound(inbound=inbound_id, **({"case": case} if case else {})):
        log.info("inbound #%s: %s", inbound_id, outcome)
    return outcome


def _process_batch(
    services: Services, token: str, work: list[tuple[Claim, ParsedMessage]]
) -> dict[int, Outcome]:
    """Process parsed, claimed messages in one transaction, then set aside those that failed."""
    try:
        with remembered():  # sender rules, guidance notes ...: read once for the batch
            run = _run_batch(services, token, work)
    except Exception as error:
        if classify(error) is DbErrorKind.TRANSIENT:
            for held, _ in work:
                _release_quietly(services, held)
            raise_if_transient(error)
        # The commit itself was refused, so no one message is to blame: one at a time.
        log.warning("a batch of %s failed (%s); one message at a time", len(work), describe(error))
        return {
            held.inbound_id: process_message(services, held.inbound_id, token) for held, _ in work
        }
    outcomes = {
        inbound_id: _logged(inbound_id, result.outcome, result.case)
        for inbound_id, result in run.done.items()
    }
    for inbound_id in run.lost:
        outcomes[inbound_id] = _logged(inbound_id, Outcome.BUSY)
    for inbound_id in run.waiting:
        outcomes[inbound_id] = _logged(inbound_id, Outcome.DEFERRED)
    for held, parsed, error in run.failed:
        with bound(inbound=held.inbound_id, case=None):
            aside = _set_aside(services, held, _explain(services, error), parsed)
            outcomes[held.inbound_id] = _logged(held.inbound_id, aside)
    to_send = [outbound_id for result in run.done.values() for outbound_id in result.to_send]
    if to_send:
        services.dispatch("send_replies", to_send)
    return outcomes


@dataclass
class _BatchRun:
    done: dict[int, _Result] = field(default_factory=dict)
    failed: list[tuple[Claim, ParsedMessage, Exception]] = field(default_factory=list)
    lost: list[int] = field(default_factory=list)  # another run took them over
    waiting: list[int] = field(default_factory=list)  # released: to be tried again later


def _run_batch(
    services: Services, token: str, work: list[tuple[Claim, ParsedMessage]]
) -> _BatchRun:
    """The batch's transaction: every message in a savepoint, in order of arrival.

    A reply processed before the message it answers waits, and is tried again
    once the rest of the batch is done (the parent may be in it); so does a
    message that met a passing database error. A batch ends early, what is
    done committed and the rest released to be tried again, when it has used
    half its time limit, or a message reached the limit: however slow one
    message is, it never costs the others their run.
    """
    run = _BatchRun()
    soft_limit = services.settings.task_soft_time_limit_seconds
    budget_ends = time.monotonic() + soft_limit / 2
    with services.db.session() as session:
        _serialise_thread(session, [parsed for _, parsed in work], soft_limit)
        pending, waiting = work, []
        while pending:
            waiting = []
            for index, (held, parsed) in enumerate(pending):
                if run.done and time.monotonic() > budget_ends:
                    log.warning(
                        "a batch used half its time limit; %s messages are left for a next run",
                        len(pending) - index + len(waiting),
                    )
                    waiting.extend(pending[index:])
                    break
                stopped = _run_one(services, session, run, held, parsed, waiting)
                if stopped:
                    waiting.extend(pending[index + 1 :])
                    break
            else:
                if len(waiting) < len(pending):
                    pending = waiting
                    continue
            break
        run.waiting = [held.inbound_id for held, _ in waiting]
        if run.waiting:
            claims.release_in(session, run.waiting, token)
    return run


def _run_one(
    services: Services,
    session: Session,
    run: _BatchRun,
    held: Claim,
    parsed: ParsedMessage,
    waiting: list[tuple[Claim, ParsedMessage]],
) -> bool:
    """Process one message of a batch in a savepoint; True when the batch must stop here."""
    try:
        with bound(inbound=held.inbound_id, case=None), session.begin_nested():
            result = _process(services, session, held, parsed)
            result.case = current().get("case")
        run.done[held.inbound_id] = result  # only once its savepoint is released
    except _Deferred:
        waiting.append((held, parsed))
    except _ClaimLost:
        run.lost.append(held.inbound_id)
    except Exception as error:
        if classify(error) is DbErrorKind.TRANSIENT:
            # A lock wait or a refused statement, the connection still good: this
            # message waits. A lost connection fails the batch's commit instead.
            log.warning("inbound #%s: %s; tried again later", held.inbound_id, describe(error))
            waiting.append((held, parsed))
            return False
        run.failed.append((held, parsed, error))
        return is_time_limit(error)
    return False


def rehearse_in(
    services: Services, session: Session, held: Claim, parsed: ParsedMessage
) -> Outcome:
    """Process a claimed message in the caller's transaction, nothing dispatched (``rehearsal``)."""
    with remembered():
        return _process(services, session, held, parsed).outcome


def _too_many_runs(held: Claim) -> str:
    return (
        f"processing was started {held.unfinished_runs + 1} times and never finished "
        "(the worker died or reached its time limit each time); set aside"
    )


def _explain(services: Services, error: Exception) -> str:
    if is_time_limit(error):
        limit = services.settings.task_soft_time_limit_seconds
        return f"processing took longer than {limit:.0f} s and was stopped"
    if classify(error) is DbErrorKind.DATA:
        return f"the database refused a value of this message: {describe(error)}"
    log.error(
        "processing failed with %s; where (the message is on the case, not here):\n%s",
        type(error).__name__,
        "".join(traceback.format_tb(error.__traceback__)),
    )
    return f"internal error while processing: {describe(error)}"


def _release_quietly(services: Services, held: Claim) -> None:
    """Give the claim back; if the database is down too, the lease runs out instead."""
    try:
        claims.release(services.db, held.inbound_id, held.token)
    except Exception as error:  # the same outage; the claim expires with its lease
        log.warning(
            "inbound #%s: could not release its claim: %s", held.inbound_id, describe(error)
        )


def _process(services: Services, session: Session, held: Claim, parsed: ParsedMessage) -> _Result:
    inbound = claims.finish(session, held.inbound_id, held.token)
    if inbound is None:
        raise _ClaimLost
    lifecycle.opened(session, None)  # a case opened for the message before this one is not
    set_committed_value(inbound, "raw", held.raw)  # read with the claim already
    inbound.from_address = parsed.from_address or None
    inbound.subject = parsed.subject
    inbound.text = parsed.text
    inbound.attachments = [
        {"index": i, "filename": a.filename, "content_type": a.content_type, "size": a.size}
        for i, a in enumerate(parsed.attachments)
    ]
    retried_case = inbound.case  # set only when a failed case is processed again
    if retried_case is not None:
        note(case=retried_case.reference)

    # Asked before the thread's case: a parent that commits in between is then found.
    parent_pending = _parent_pending(session, inbound, parsed)
    # An expert read this message as a question (the ignored view): it is not set aside again.
    reason = (
        None
        if inbound.route_reason == READ_AS_QUESTION
        else _machine_reason(services, session, parsed)
    )
    if reason == "bounce":
        bounced_case = apply_bounce(
            session, held.raw, services.settings.message_id_domain, inbound.id
        )
        thread_case = bounced_case or _thread_case(services, session, parsed)
    else:
        thread_case = _thread_case(services, session, parsed)
    if thread_case is not None:
        note(case=thread_case.reference)
    # A message an expert retries is not held again: someone decided it should be read.
    if (
        reason is None
        and retried_case is None
        and _over_hourly_limit(services, session, inbound, parsed)
    ):
        limit = services.settings.sender_hourly_limit
        held_reason = f"held: more than {limit} messages in an hour from this sender"
        _hold(services, session, inbound, parsed, held_reason, thread_case)
        return _Result(Outcome.IGNORED)
    if reason:
        _close_retried(session, retried_case, f"ignored: {reason}")
        _ignore(session, inbound, parsed, reason, thread_case)
        return _Result(Outcome.IGNORED)
    if thread_case is None and parent_pending:
        raise _Deferred
    if thread_case is not None and thread_case is not retried_case:
        _close_retried(session, retried_case, f"message belongs to {thread_case.reference}")
        return _follow_up(services, session, held, inbound, parsed, thread_case)
    if thread_case is None:
        citing = [
            case
            for case in thread_index.cases_citing(session, parsed.message_id)
            if case is not retried_case
        ]
        if citing:
            _close_retried(session, retried_case, f"message belongs to {citing[0].reference}")
            return _join_as_earlier(session, held, inbound, parsed, citing)
    # Like the hourly limit: a message an expert retries is read as the question it is.
    policy = (
        senders.policy_for_sender(session, services.settings, parsed.from_address)
        if retried_case is None
        else None
    )
    if policy is not None:
        return _hold_unknown_sender(services, session, inbound, parsed, policy)
    return _new_case(services, session, held, inbound, parsed)


def _serialise_thread(session: Session, batch: list[ParsedMessage], soft_limit: float) -> None:
    """Make messages of one thread decide their case one after the other (PostgreSQL).

    A reply and its parent processed at the same moment by two workers would
    each see no case for the other and open two. Each transaction takes a
    lock per Message-ID it is or cites (in one order, so two never wait on
    each other); the second sees what the first committed. A batch takes the
    locks of all its messages at once, before any is processed, so that two
    batches never hold one lock each that the other wants. SQLite's write
    transactions are serial already.

    The wait is bounded for every lock of the transaction (``lock_timeout``).
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    # Waiting behind a busy thread must not use up the time limit: past a quarter of
    # it the wait ends (a transient error) and the message is tried again later.
    session.execute(
        text("SELECT set_config('lock_timeout', :wait, true)"),
        {"wait": f"{int(soft_limit * 1000 / 4)}ms"},
    )
    ids = [
        m
        for parsed in batch
        for m in [m for m in (parsed.message_id, *parsed.thread_ids) if m][:MAX_THREAD_LOCKS]
    ]
    if not ids:
        return
    # One statement; the keys in one order, so that two transactions never wait on each other.
    session.execute(
        text(
            "SELECT pg_advisory_xact_lock(k) "
            "FROM (SELECT unnest(CAST(:keys AS bigint[])) AS k ORDER BY 1) AS s"
        ),
        {"keys": sorted({advisory_key(m) for m in ids})},
    )


def _close_retried(session: Session, case: Case | None, reason: str) -> None:
    """A failed case processed again whose message turns out not to open a case."""
    if case is not None:
        lifecycle.move(session, case, CaseStatus.IGNORED, reason=reason)


def _machine_reason(services: Services, session: Session, parsed: ParsedMessage) -> str | None:
    """Machine mail, including a message that carries one of our own Message-IDs."""
    reason = machine_reason(parsed, set(services.settings.desks.addresses))
    if reason is None and parsed.message_id:
        ours = session.scalar(
            select(OutboundMessage.id).where(OutboundMessage.message_id == parsed.message_id)
        )
        reason = "loop" if ours else None
    return reason


def _over_hourly_limit(
    services: Services, session: Session, inbound: InboundMessage, parsed: ParsedMessage
) -> bool:
    """True when the sender already sent the hourly limit of messages in the past hour."""
    if not parsed.from_address:
        return False
    since = utcnow() - SENDER_WINDOW
    earlier = session.scalar(
        select(func.count(InboundMessage.id)).where(
            InboundMessage.from_address == parsed.from_address,
            InboundMessage.received_at >= since,
            InboundMessage.processed_at.is_not(None),
            InboundMessage.id != inbound.id,
        )
    )
    return (earlier or 0) >= services.settings.sender_hourly_limit


def _thread_case(services: Services, session: Session, parsed: ParsedMessage) -> Case | None:
    """The case this message answers: by In-Reply-To/References, else by the reference in the
    subject, else by the marker our body carries (``[ref:CC-000123]``, quoted in the reply)."""
    case = thread_index.case_of(session, parsed.thread_ids)
    if case is not None:
        return case
    # A sibling: another reply of this sender to a message we do not hold (yet).
    for sibling in thread_index.cases_citing_any(session, parsed.thread_ids):
        if parsed.from_address and parsed.from_address in _case_addresses(sibling):
            return sibling
    prefix = services.settings.case_prefix
    reference = reference_in_subject(parsed.subject, prefix) or reference_in_marker(
        parsed.text, prefix
    )
    if reference is None:
        return None
    case = session.scalar(select(Case).where(Case.reference == reference))
    # A reference is easy to type or forward; only the requester may use it to join.
    if case is not None and parsed.from_address and parsed.from_address in _case_addresses(case):
        return case
    return None


def _case_addresses(case: Case) -> set[str]:
    """Who took part in the case: the requester and the senders of its questions.

    Senders of ignored mail (an auto-responder that quoted our subject) do not count.
    """
    senders = {
        m.from_address for m in case.messages if m.from_address and m.route in QUESTION_ROUTES
    }
    return senders | ({case.requester_address} if case.requester_address else set())


def _parent_pending(session: Session, inbound: InboundMessage, parsed: ParsedMessage) -> bool:
    """True while a stored message this one answers is not processed yet: wait for it.

    A parent stored before this message is waited for however late this runs
    (a worker was down, the queue was flushed): the parent opens the case and
    the reply joins it. A parent stored after it (delivered out of order) is
    waited for only briefly after arrival, so that messages citing each other
    cannot wait for each other forever; past that, the reply opens the case
    and the parent joins it when it is processed (``_join_as_earlier``).
    """
    if not parsed.thread_ids:
        return False
    recently = utcnow() - inbound.received_at <= LATER_PARENT_WAIT
    pending = session.scalar(
        select(InboundMessage.id)
        .where(
            InboundMessage.message_id.in_(list(parsed.thread_ids)),
            InboundMessage.processed_at.is_(None),
            InboundMessage.id != inbound.id,
            *([] if recently else [InboundMessage.id < inbound.id]),
        )
        .limit(1)
    )
    return pending is not None


def _ignore(
    session: Session,
    inbound: InboundMessage,
    parsed: ParsedMessage,
    reason: str,
    thread_case: Case | None,
) -> None:
    inbound.route, inbound.route_reason = Route.IGNORED, reason
    log.info("inbound #%s from %s ignored: %s", inbound.id, parsed.from_address, reason)
    if thread_case is not None:
        inbound.case = thread_case
        _record_message(session, thread_case, "message_ignored", inbound, parsed, reason=reason)


def _hold(
    services: Services,
    session: Session,
    inbound: InboundMessage,
    parsed: ParsedMessage,
    reason: str,
    thread_case: Case | None,
) -> None:
    """Keep mail from a sender over the hourly limit where an expert sees it, unanswered.

    On its thread's case if it has one (like ignored mail), else on a case of
    its own in ``ignored`` with the reason: ``consultant cases retry`` reads it
    as a question after all.
    """
    if thread_case is not None:
        _ignore(session, inbound, parsed, reason, thread_case)
        return
    inbound.route, inbound.route_reason = Route.IGNORED, reason
    case = _requesters_case(services, session, inbound, parsed)
    _record_message(session, case, "received", inbound, parsed, reply_to=case.requester_address)
    lifecycle.move(session, case, CaseStatus.IGNORED, reason=reason)
    log.info("inbound #%s from %s held on %s", inbound.id, parsed.from_address, case.reference)


def _hold_unknown_sender(
    services: Services,
    session: Session,
    inbound: InboundMessage,
    parsed: ParsedMessage,
    policy: senders.UnknownSenders,
) -> _Result:
    """A new question from a sender nobody allowed: held, and with ``notice`` the sender told.

    Machine mail never gets here (it was set aside above), and the notice is
    refused for the same reasons as an acknowledgment, and to a sender told
    within the past day.
    """
    _hold(services, session, inbound, parsed, senders.UNKNOWN_SENDER_REASON, None)
    case = inbound.case
    assert case is not None  # _hold put it on a case of its own
    if policy is not senders.UnknownSenders.NOTICE:
        return _Result(Outcome.IGNORED)
    why_not = _why_no_acknowledgment(services, case, parsed)
    if why_not is None and senders.notified_recently(session, case.requester_address or ""):
        why_not = "the sender was told they are not registered within the past day"
    if why_not:
        record(session, case, "notice_not_sent", reason=why_not)
        return _Result(Outcome.IGNORED)
    body = services.renderer.render(
        "unknown_sender",
        requester_name=case.requester_name,
        subject=redact(case.subject),
        reference=case.reference,
        display_name=services.settings.desks.get(case.desk).display_name,
    )
    notice = queue_outbound(services, session, case, OutboundKind.ACK, body.text, body.html)
    return _Result(Outcome.IGNORED, [notice.id])


def _open_case(
    services: Services,
    session: Session,
    inbound: InboundMessage,
    parsed: ParsedMessage | None = None,
) -> Case:
    """The inbound message's own case (when it is being retried) or a new one.

    A new case belongs to the desk whose folder the message came from, or
    else to the desk it was written to (the main desk when none is named).
    """
    if inbound.case is not None:
        return inbound.case
    desks = services.settings.desks
    desk = inbound.desk or (desks.by_recipient(parsed.recipients).key if parsed else MAIN_DESK)
    case = Case(status=CaseStatus.RECEIVED, desk=desk)
    session.add(case)
    session.flush()
    case.reference = format_reference(services.settings.case_prefix, case.id)
    inbound.case = case
    # What a new case holds is known: no query needs to load it.
    set_committed_value(case, "messages", [inbound])
    set_committed_value(case, "drafts", [])
    lifecycle.opened(session, case)
    note(case=case.reference)
    return case


def _requesters_case(
    services: Services, session: Session, inbound: InboundMessage, parsed: ParsedMessage
) -> Case:
    """The message's case, with who asked and what about, and whom we may answer."""
    case = _open_case(services, session, inbound, parsed)
    case.requester_address = reply_address(
        parsed.from_address,
        parsed.reply_to,
        senders.allowed_patterns(session, services.settings),
    )
    case.requester_name = parsed.from_name or None
    case.subject = parsed.subject
    return case


def _record_message(
    session: Session,
    case: Case,
    kind: str,
    inbound: InboundMessage,
    parsed: ParsedMessage,
    **more: object,
) -> None:
    """A timeline entry about a message: which, from whom, its subject with no patient in it."""
    record(
        session,
        case,
        kind,
        inbound_id=inbound.id,
        message_id=parsed.message_id,
        sender=parsed.from_address or None,
        subject=redact(parsed.subject),
        **more,
    )


def _new_case(
    services: Services,
    session: Session,
    held: Claim,
    inbound: InboundMessage,
    parsed: ParsedMessage,
) -> _Result:
    case = _requesters_case(services, session, inbound, parsed)
    case.error = None
    case.thread_message_ids = references_chain(
        [*parsed.references, *([parsed.message_id] if parsed.message_id else [])]
    )
    thread_index.link(
        session,
        case,
        own=[parsed.message_id] if parsed.message_id else [],
        cited=parsed.thread_ids,
        fresh=lifecycle.is_fresh(session, case),
    )
    inbound.route = Route.NEW_CASE
    _record_message(
        session,
        case,
        "received",
        inbound,
        parsed,
        reply_to=case.requester_address,
        attachments=[redact_file_name(a.filename) for a in parsed.attachments],
        text_from_html=parsed.text_from_html,
        defects=list(parsed.defects),
    )
    _record_restarts(session, case, held)
    lifecycle.move(session, case, CaseStatus.ANALYZING)
    phi = _flag_phi(session, case, parsed)
    # A question sent from the Ask page was answered there: the expert sees what it said.
    from_web = inbound.mailbox == WEB_MAILBOX
    instant = services.settings.instant_reply == "confident" and not from_web
    draft, automatic = _draft(services, session, case, inbound, parsed, phi, instant)
    if from_web:
        note_answers_seen(session, case.id, inbound.id)
    index_message(session, case, parsed, draft.facts, opens_case=True)
    lifecycle.move(session, case, CaseStatus.AWAITING_REVIEW)
    to_send = []
    settings = services.settings
    resend = phi.found and settings.phi_resend_request
    why_not = _why_no_acknowledgment(services, case, parsed)
    if automatic is not None:
        instant = _instant_answer(services, session, case, draft, automatic, why_not, resend)
        if instant is not None:
            to_send.append(instant.id)
            return _Result(Outcome.NEW_CASE, to_send)  # it carries the reference: no ack
    if settings.send_acknowledgments or resend:
        if why_not:
            record(session, case, "ack_not_sent", reason=why_not)
        else:
            ack = _acknowledge(services, session, case, inbound, phi, resend)
            to_send.append(ack.id)
    return _Result(Outcome.NEW_CASE, to_send)


def _instant_answer(
    services: Services,
    session: Session,
    case: Case,
    draft: Draft,
    automatic: AutomaticAnswer,
    why_not: str | None,
    resend: bool,
) -> OutboundMessage | None:
    """The automatic answer by email at once (CONSULTANT_INSTANT_REPLY=confident), when it is
    sure of itself and nothing stops an automatic mail; else None, with the reason recorded.

    The case still waits for review: the expert's reply follows if they change the answer.
    """
    reason = why_not
    if reason is None and resend:
        reason = "the question holds patient details: the acknowledgment asks for it again"
    if reason is None and not automatic.confident:
        reason = "the answer leaves something to an expert"
    if reason is not None:
        record(session, case, "instant_answer_not_sent", reason=reason)
        return None
    session.flush()  # the draft's id, which the outbox row names
    desk = services.settings.desks.get(case.desk)
    body = render_answer(services.renderer, automatic, case.reference, desk.display_name)
    return queue_outbound(
        services, session, case, OutboundKind.INSTANT, body.text, body.html, draft=draft
    )


def _why_no_acknowledgment(services: Services, case: Case, parsed: ParsedMessage) -> str | None:
    """Why this new case gets no automatic answer, or None when it may.

    Mail that carries one of our case references comes from someone who got
    mail from us: an automatic answer to it is how loops with auto-responders
    start, and the expert answers it anyway.
    """
    if case.requester_address is None:
        return "no valid address to reply to"
    if case.requester_address in services.settings.desks.addresses:
        return "the sender is our own address"
    if reference_in_subject(parsed.subject, services.settings.case_prefix):
        return "the subject names one of our case references"
    if reference_in_marker(parsed.text, services.settings.case_prefix):
        return "the body quotes one of our messages"
    return None


def _follow_up(
    services: Services,
    session: Session,
    held: Claim,
    inbound: InboundMessage,
    parsed: ParsedMessage,
    case: Case,
) -> _Result:
    inbound.case, inbound.route = case, Route.FOLLOW_UP
    if parsed.message_id:
        case.thread_message_ids = references_chain([*case.thread_message_ids, parsed.message_id])
    thread_index.link(
        session, case, own=[parsed.message_id] if parsed.message_id else [], cited=parsed.thread_ids
    )
    _record_message(
        session,
        case,
        "follow_up_received",
        inbound,
        parsed,
        attachments=[redact_file_name(a.filename) for a in parsed.attachments],
    )
    _record_restarts(session, case, held)
    phi = _flag_phi(session, case, parsed)
    draft, _ = _draft(services, session, case, inbound, parsed, phi, instant=False)
    index_message(session, case, parsed, draft.facts, opens_case=False)
    if case.status in REOPEN_ON_FOLLOW_UP:
        lifecycle.move(session, case, CaseStatus.AWAITING_REVIEW, reason="follow-up received")
    return _Result(Outcome.FOLLOW_UP)


def _join_as_earlier(
    session: Session,
    held: Claim,
    inbound: InboundMessage,
    parsed: ParsedMessage,
    citing: list[Case],
) -> _Result:
    """A message processed after a reply to it: it joins the case that reply opened.

    The requester already has that case's reference, so no new case, draft or
    acknowledgment is made; the timeline says what happened.
    """
    case = citing[0]
    note(case=case.reference)
    inbound.case, inbound.route = case, Route.EARLIER
    assert parsed.message_id is not None  # found by it
    thread_index.link(session, case, own=[parsed.message_id], cited=parsed.thread_ids)
    _record_message(
        session,
        case,
        "earlier_message_joined",
        inbound,
        parsed,
        other_cases_citing_it=[c.reference for c in citing[1:]],
    )
    _record_restarts(session, case, held)
    _record_limits(session, case, inbound, list(parsed.limits))
    _flag_phi(session, case, parsed)
    index_message(session, case, parsed, {}, opens_case=False)
    return _Result(Outcome.JOINED)


def _record_limits(
    session: Session, case: Case, inbound: InboundMessage, limits: list[str]
) -> None:
    """Which bounds the message reached (parsing it, analysing it), in one timeline entry."""
    if limits:
        record(session, case, "limits_reached", inbound_id=inbound.id, limits=limits)


def _record_restarts(session: Session, case: Case, held: Claim) -> None:
    """Lost and restarted work, so that an expert can see why the case waited."""
    if held.restarts or held.unfinished_runs:
        record(
            session,
            case,
            "processing_restarted",
            inbound_id=held.inbound_id,
            restarted_by_sweep=held.restarts,
            unfinished_runs=held.unfinished_runs,
            waited_seconds=round((utcnow() - held.received_at).total_seconds(), 1),
        )


def _flag_phi(session: Session, case: Case, parsed: ParsedMessage) -> PhiFindings:
    """Flag the case for PHI anywhere in the message, quoted parts included.

    The analysis looks at the new text only; a patient named in an earlier,
    quoted message is still PHI on this case.
    """
    phi = message_phi(parsed)
    if phi.found:
        case.phi_flagged = True
        record(session, case, "phi_flagged", kinds=phi.kinds)
    return phi


def _draft(
    services: Services,
    session: Session,
    case: Case,
    inbound: InboundMessage,
    parsed: ParsedMessage,
    phi: PhiFindings,
    instant: bool,
) -> tuple[Draft, AutomaticAnswer | None]:
    """The case's next draft (made by the system), and the automatic answer when ``instant``
    (a new case, with instant replies on; a follow-up is always left to the expert)."""
    automatic = None
    if instant:
        answer, automatic = answer_message(services, parsed, case.reference, desk=case.desk)
    else:
        answer = draft_answer(services, parsed, case.reference, desk=case.desk)
    body = answer.body
    version = len(case.drafts) + 1
    draft = Draft(
        case=case,
        version=version,
        body_text=body.text,
        body_html=body.html,
        template=body.template,
        facts=answer.record | {"phi_kinds": phi.kinds},
        author="system",
        inbound_message_id=inbound.id,
    )
    session.add(draft)
    record(session, case, "draft_created", version=version, template=body.template)
    _record_limits(session, case, inbound, [*parsed.limits, *answer.record.get("limits", [])])
    return draft, automatic


def _acknowledge(
    services: Services,
    session: Session,
    case: Case,
    inbound: InboundMessage,
    phi: PhiFindings,
    resend: bool,
) -> OutboundMessage:
    """The acknowledgment, which asks for the question again without PHI when ``resend``."""
    body = services.renderer.render(
        "ack",
        requester_name=case.requester_name,
        subject=redact(case.subject),
        reference=case.reference,
        phi_removed=phi.found,
        phi_resend_request=resend,
        display_name=services.settings.desks.get(case.desk).display_name,
    )
    return queue_outbound(services, session, case, OutboundKind.ACK, body.text, body.html)


def _fail(services: Services, session: Session, inbound: InboundMessage, error: str) -> Case:
    """Keep the message on a failed case with the error, so an expert sees it."""
    case = _open_case(services, session, inbound)
    case.requester_address = case.requester_address or reply_address(inbound.from_address, ())
    case.subject = case.subject or inbound.subject or ""
    inbound.route, inbound.error = Route.FAILED, error
    case.error = error
    record(session, case, "received", inbound_id=inbound.id, message_id=inbound.message_id)
    lifecycle.move(session, case, CaseStatus.FAILED, error=error)
    # The error may quote the message (a value, a header): it is on the case, not in the log.
    log.warning("inbound #%s kept on failed case %s", inbound.id, case.reference)
    return case


def _set_aside(
    services: Services,
    held: Claim,
    error: str,
    parsed: ParsedMessage | None,
    parse_error: bool = False,
) -> Outcome:
    """Mark the message processed, on a failed case with the error (its bytes stay kept).

    What parsing found (sender, subject, text) is kept when it can be; if the
    database refuses even that, the case is made without it.
    """
    for keep_parsed in (parsed is not None, False):
        try:
            with services.db.session() as session:
                inbound = claims.finish(session, held.inbound_id, held.token)
                if inbound is None:
                    return Outcome.BUSY
                if keep_parsed and parsed is not None:
                    inbound.from_address = parsed.from_address or None
                    inbound.subject, inbound.text = parsed.subject, parsed.text
                case = inbound.case
                if case is not None and not lifecycle.can_move(case.status, CaseStatus.FAILED):
                    inbound.route, inbound.error = Route.FAILED, error
                    record(session, case, "processing_failed", inbound_id=inbound.id, error=error)
                    return Outcome.FAILED
                message = error if parse_error else f"set aside: {error}"
                _record_restarts(session, _fail(services, session, inbound, message), held)
            return Outcome.FAILED
        except Exception as failure:
            raise_if_transient(failure)
            if classify(failure) is not DbErrorKind.DATA or not keep_parsed:
                raise
    return Outcome.FAILED
