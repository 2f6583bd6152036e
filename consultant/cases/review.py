"""Review actions on a case: edit the draft, approve, reject, assign, claim, note, retry.

The web app, the API and the CLI all call these; each is one transaction,
records who did what, and starts background work only after its commit.
A save names the version it was based on and an approval the version the
expert is looking at: a stale one is refused with a ``DraftConflict`` that
carries both texts, so nobody's words are overwritten or sent unseen. While
another expert holds the case's claim, saves, approvals and rejections are
refused until the case is taken over explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from consultant.cases import lifecycle, review_claims
from consultant.cases.diffs import unresolved
from consultant.cases.events import record
from consultant.cases.outbox import queue_outbound
from consultant.cases.review_errors import (
    CaseNotFound,
    ClaimedByOther,
    DraftConflict,
    ReviewError,
    Version,
)
from consultant.db_errors import retry_transient
from consultant.drafting.render import open_expert_markers
from consultant.mail.addresses import clean_address
from consultant.models import (
    Case,
    CaseNote,
    CaseStatus,
    Draft,
    InboundMessage,
    OutboundKind,
    OutboundMessage,
    OutboundState,
    Role,
    User,
)
from consultant.services import Services

APPROVED_STATUSES = (CaseStatus.APPROVED, CaseStatus.SENDING, CaseStatus.SENT)


@dataclass(frozen=True)
class SavedDraft:
    version: int  # the case's current draft version after the save
    created: bool  # False when the text was the current version's: nothing was saved

    def describe(self) -> str:
        if self.created:
            return f"Draft v{self.version} saved."
        return f"Nothing changed: draft v{self.version} is the current text."


__all__ = [
    "CaseNotFound",
    "ClaimedByOther",
    "DraftConflict",
    "ReviewError",
    "SavedDraft",
]


def get_case(session: Session, reference: str) -> Case:
    """The case with ``reference`` (any letter case), locked until the transaction ends.

    The lock (FOR UPDATE on PostgreSQL; SQLite's write transactions are serial
    already) makes two reviewers acting at once take turns: the second sees
    what the first did instead of racing it.
    """
    case = session.scalar(
        select(Case).where(Case.reference == reference.strip().upper()).with_for_update()
    )
    if case is None:
        raise CaseNotFound(f"no case {reference}")
    return case


def current_draft(case: Case) -> Draft | None:
    return case.drafts[-1] if case.drafts else None


def _label(status: str) -> str:
    return status.replace("_", " ")


def _require(case: Case, *statuses: CaseStatus) -> None:
    if case.status not in statuses:
        wanted = " or ".join(_label(s) for s in statuses)
        raise ReviewError(f"{case.reference} is {_label(case.status)}, not {wanted}")


def _version(draft: Draft) -> Version:
    return Version(draft.version, draft.body_text, draft.author, draft.created_at)


def _check_current(case: Case, action: str, based_on: int, yours: str | None) -> Draft:
    """The current draft, provided ``based_on`` is its version; else a DraftConflict."""
    draft = current_draft(case)
    if draft is None:
        raise ReviewError(f"{case.reference} has no draft")
    if based_on != draft.version:
        base = next((d for d in case.drafts if d.version == based_on), None)
        if base is None:
            raise ReviewError(
                f"{case.reference} has no draft v{based_on}; the current one is v{draft.version}"
            )
        raise DraftConflict(str(case.reference), action, _version(base), _version(draft), yours)
    return draft


def _add_version(
    services: Services, session: Session, case: Case, previous: Draft, text: str, actor: str
) -> Draft:
    draft = Draft(
        case=case,
        version=previous.version + 1,
        body_text=text,
        body_html=services.renderer.html_for_text(text),
        template=None,
        facts=previous.facts,
        author=actor,
        inbound_message_id=previous.inbound_message_id,
        base_version=previous.version,
    )
    session.add(draft)
    record(session, case, "draft_edited", actor, version=draft.version, based_on=previous.version)
    return draft


@retry_transient
def edit_draft(
    services: Services, reference: str, text: str, actor: str, *, base_version: int
) -> SavedDraft:
    """Save ``text`` as a new draft version, made from version ``base_version``.

    Refused with a DraftConflict when ``base_version`` is no longer the
    current version (someone saved meanwhile), unless the text is already
    the current text. Text identical to the current version saves nothing and
    says so (also what makes a save repeated after a dropped connection
    harmless). Saving renews the editor's claim; another expert's claim refuses it.
    """
    if not text.strip():
        raise ReviewError("the draft is empty")
    with services.db.session() as session:
        case = get_case(session, reference)
        _require(case, CaseStatus.AWAITING_REVIEW)
        review_claims.require_free_or_mine(case, actor)
        current = current_draft(case)
        if current is not None and current.body_text == text:
            return SavedDraft(current.version, created=False)
        previous = _check_current(case, "save", base_version, text)
        review_claims.renew_for_edit(case, actor, services.settings.claim_minutes)
        draft = _add_version(services, session, case, previous, text, actor)
        return SavedDraft(draft.version, created=True)


@dataclass(frozen=True)
class Approved:
    outbound_id: int
    version: int  # the draft version that is being sent
    saved: bool  # True when the text on the screen was saved as that version first
    # True when nothing more is sent: the automatic answer already sent (``outbound_id``)
    # is the draft approved unchanged.
    already_answered: bool = False


def approve(
    services: Services, reference: str, actor: str, *, version: int, text: str | None = None
) -> Approved:
    """Approve draft ``version``, the one the expert is looking at, and start sending it.

    ``text``, when given, is what is on the expert's screen: if it differs
    from ``version`` it is saved as the next version first, in the same
    transaction, and that is what goes out. A ``version`` that is not the
    current one is refused (DraftConflict): nothing is sent that the expert
    did not see.

    When the database connection drops under an approval it is tried again;
    if the first try had in fact committed, the second finds the reply it
    queued and returns it instead of refusing: the expert clicked once.
    """
    tries = 0

    def attempt() -> Approved:
        nonlocal tries
        tries += 1
        return _approve(services, reference, actor, version, text, again=tries > 1)

    return retry_transient(attempt)()


def _approve(
    services: Services, reference: str, actor: str, version: int, text: str | None, again: bool
) -> Approved:
    with services.db.session() as session:
        case = get_case(session, reference)
        done = _reply_of_current_draft(session, case, actor) if again else None
        if again and done is None and case.status == CaseStatus.SENT:
            draft = current_draft(case)
            instant = _instant_answer_of(session, case, draft) if draft else None
            if draft is not None and instant is not None:  # the first try committed
                return Approved(instant, draft.version, saved=False, already_answered=True)
        if done is not None:
            # Its commit went through before the connection dropped; the dispatch did not.
            services.dispatch("send_reply", done[0])
            return Approved(done[0], done[1], saved=False)
        _require(case, CaseStatus.AWAITING_REVIEW)
        review_claims.require_free_or_mine(case, actor)
        if text is not None and not text.strip():
            raise ReviewError("the draft is empty")
        draft = _check_current(case, "approve", version, text)
        saved = text is not None and text != draft.body_text
        if saved:
            assert text is not None
            draft = _add_version(services, session, case, draft, text, actor)
            session.flush()
        if unresolved(draft.body_text):
            raise ReviewError(
                f"draft v{draft.version} of {case.reference} still has merge markers "
                "(<<<<<<< ... >>>>>>>); choose between the two texts before approving"
                + (" (nothing was saved)" if saved else "")
            )
        markers = open_expert_markers(draft.body_text)
        if markers:
            raise ReviewError(
                f"draft v{draft.version} of {case.reference} still has {len(markers)} open "
                f"[expert: ...] note(s), first {markers[0]}; edit the draft before approving"
                + (" (nothing was saved)" if saved else "")
            )
        if clean_address(case.requester_address) is None:
            raise ReviewError(f"{case.reference} has no valid requester address to reply to")
        case.error = None
        lifecycle.move(session, case, CaseStatus.APPROVED, actor, draft_version=draft.version)
        instant = _instant_answer_of(session, case, draft)
        if instant is not None:
            record(
                session,
                case,
                "reply_not_needed",
                actor,
                outbound_id=instant,
                draft_version=draft.version,
            )
            lifecycle.move(session, case, CaseStatus.SENT, actor, outbound_id=instant)
            return Approved(instant, draft.version, saved, already_answered=True)
        row = queue_outbound(
            services,
            session,
            case,
            OutboundKind.REPLY,
            draft.body_text,
            draft.body_html,
            draft=draft,
            actor=actor,
        )
        outbound_id, sent_version = row.id, draft.version
    services.dispatch("send_reply", outbound_id)
    return Approved(outbound_id, sent_version, saved)


def _instant_answer_of(session: Session, case: Case, draft: Draft) -> int | None:
    """The automatic answer made from ``draft`` itself that the server accepted (its outbox
    id): approving that draft unchanged says nothing new, so nothing more is sent. One still
    on its way may yet fail; then the reply goes, and the requester may read the answer twice
    rather than not at all."""
    return session.scalar(
        select(OutboundMessage.id).where(
            OutboundMessage.case_id == case.id,
            OutboundMessage.kind == OutboundKind.INSTANT,
            OutboundMessage.draft_id == draft.id,
            OutboundMessage.state == OutboundState.SENT,
        )
    )


def _reply_of_current_draft(session: Session, case: Case, actor: str) -> tuple[int, int] | None:
    """The reply ``actor`` already queued for the case's current draft (its outbox id and the
    draft version), if the case is approved."""
    draft = current_draft(case)
    if draft is None or case.status not in APPROVED_STATUSES:
        return None
    outbound_id = session.scalar(
        select(OutboundMessage.id)
        .where(
            OutboundMessage.case_id == case.id,
            OutboundMessage.kind == OutboundKind.REPLY,
            OutboundMessage.draft_id == draft.id,
            OutboundMessage.created_by == actor,
        )
        .order_by(OutboundMessage.id.desc())
        .limit(1)
    )
    return None if outbound_id is None else (outbound_id, draft.version)


@retry_transient
def reject(services: Services, reference: str, reason: str, actor: str) -> None:
    """Close the case without a reply; the reason is kept on the timeline."""
    if not reason.strip():
        raise ReviewError("a rejection needs a reason")
    with services.db.session() as session:
        case = get_case(session, reference)
        _require(case, CaseStatus.AWAITING_REVIEW)
        review_claims.require_free_or_mine(case, actor)
        lifecycle.move(session, case, CaseStatus.REJECTED, actor, reason=reason.strip())


@retry_transient
def assign(services: Services, reference: str, assignee_email: str | None, actor: str) -> None:
    """Give the case to a reviewer (or to nobody, with None)."""
    with services.db.session() as session:
        case = get_case(session, reference)
        assignee = None
        if assignee_email:
            assignee = session.scalar(
                select(User).where(
                    User.email == assignee_email.strip().lower(),
                    User.active,
                    User.role != Role.MEMBER,  # a member sees only their own cases
                )
            )
            if assignee is None:
                raise ReviewError(f"no active reviewer or admin {assignee_email}")
        case.assignee = assignee
        record(session, case, "assigned", actor, assignee=assignee.email if assignee else None)


@retry_transient
def claim(services: Services, reference: str, actor: str, *, take_over: bool = False) -> bool:
    """Claim the case for ``actor`` (renewing their own claim); True when the claim is new.

    Someone else's claim in force is refused (ClaimedByOther) unless
    ``take_over``, which the timeline records.
    """
    with services.db.session() as session:
        case = get_case(session, reference)
        _require(case, CaseStatus.AWAITING_REVIEW)
        return review_claims.take(
            session, case, actor, services.settings.claim_minutes, take_over=take_over
        )


@retry_transient
def release(services: Services, reference: str, actor: str) -> bool:
    """Give up ``actor``'s claim; False when they did not hold it."""
    with services.db.session() as session:
        return review_claims.release(session, get_case(session, reference), actor)


@retry_transient
def add_note(services: Services, reference: str, body: str, actor: str) -> int:
    """Keep an internal note on the case (for the experts; never part of a reply)."""
    body = body.strip()
    if not body:
        raise ReviewError("the note is empty")
    with services.db.session() as session:
        case = get_case(session, reference)
        note = CaseNote(case_id=case.id, author=actor, body=body)
        session.add(note)
        session.flush()
        record(session, case, "note_added", actor)
        return note.id


@retry_transient
def current_version(services: Services, reference: str) -> int | None:
    """The case's current draft version (None without a draft), for callers that must name it."""
    with services.db.read_session() as session:
        case = session.scalar(select(Case).where(Case.reference == reference.strip().upper()))
        if case is None:
            raise CaseNotFound(f"no case {reference}")
        draft = current_draft(case)
        return draft.version if draft else None


@retry_transient
def retry(services: Services, reference: str, actor: str) -> str:
    """Run a failed or ignored case again: send its failed reply, or process its message."""
    with services.db.session() as session:
        case = get_case(session, reference)
        _require(case, CaseStatus.FAILED, CaseStatus.IGNORED)
        failed_reply = (
            session.scalar(
                select(OutboundMessage)
                .where(
                    OutboundMessage.case_id == case.id,
                    OutboundMessage.kind == OutboundKind.REPLY,
                    OutboundMessage.state == OutboundState.FAILED,
                )
                .order_by(OutboundMessage.id.desc())
            )
            if case.status == CaseStatus.FAILED
            else None
        )
        case.error = None
        if failed_reply is not None:
            failed_reply.state, failed_reply.next_attempt_at = OutboundState.QUEUED, None
            failed_reply.attempts = 0
            lifecycle.move(session, case, CaseStatus.APPROVED, actor, retry="send")
            task, row_id = "send_reply", failed_reply.id
        else:
            inbound_id = session.scalar(
                select(InboundMessage.id)
                .where(InboundMessage.case_id == case.id)
                .order_by(InboundMessage.id)
            )
            if inbound_id is None:
                raise ReviewError(f"{case.reference} has no message to process again")
            session.execute(
                update(InboundMessage)
                .where(InboundMessage.id == inbound_id)
                .values(
                    processed_at=None,
                    route=None,
                    error=None,
                    claim_token=None,
                    claimed_at=None,
                    unfinished_runs=0,
                )
            )
            lifecycle.move(session, case, CaseStatus.RECEIVED, actor, retry="process")
            task, row_id = "process_message", inbound_id
    services.dispatch(task, row_id)
    return task
