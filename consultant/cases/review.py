"""Review actions on a case: edit the draft, approve, reject, assign, retry.

The web app and the CLI both call these; each is one transaction, records
who did what, and starts background work only after its commit.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from consultant.cases import lifecycle
from consultant.cases.events import record
from consultant.cases.outbox import queue_outbound
from consultant.db_errors import retry_transient
from consultant.drafting.render import open_expert_markers
from consultant.mail.addresses import clean_address
from consultant.models import (
    Case,
    CaseStatus,
    Draft,
    InboundMessage,
    OutboundKind,
    OutboundMessage,
    OutboundState,
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


class ReviewError(Exception):
    """Raised when a review action cannot be done; the message says why, for the reviewer."""


class CaseNotFound(ReviewError):
    """Raised when no case has the given reference."""


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


@retry_transient
def edit_draft(services: Services, reference: str, text: str, actor: str) -> SavedDraft:
    """Save ``text`` as the case's new draft version.

    Text identical to the current version saves nothing and says so (also
    what makes a save repeated after a dropped connection harmless).
    """
    if not text.strip():
        raise ReviewError("the draft is empty")
    with services.db.session() as session:
        case = get_case(session, reference)
        _require(case, CaseStatus.AWAITING_REVIEW)
        previous = current_draft(case)
        if previous is not None and previous.body_text == text:
            return SavedDraft(previous.version, created=False)
        version = (previous.version if previous else 0) + 1
        session.add(
            Draft(
                case=case,
                version=version,
                body_text=text,
                body_html=services.renderer.html_for_text(text),
                template=None,
                facts=previous.facts if previous else {},
                author=actor,
                inbound_message_id=previous.inbound_message_id if previous else None,
            )
        )
        record(session, case, "draft_edited", actor, version=version)
        return SavedDraft(version, created=True)


def approve(services: Services, reference: str, actor: str) -> int:
    """Approve the current draft: queue the reply and start sending it; returns the outbox id.

    When the database connection drops under an approval it is tried again;
    if the first try had in fact committed, the second finds the reply it
    queued and returns it instead of refusing: the expert clicked once.
    """
    tries = 0

    def attempt() -> int:
        nonlocal tries
        tries += 1
        return _approve(services, reference, actor, again=tries > 1)

    return retry_transient(attempt)()


def _approve(services: Services, reference: str, actor: str, again: bool) -> int:
    with services.db.session() as session:
        case = get_case(session, reference)
        done = _reply_of_current_draft(session, case, actor) if again else None
        if done is not None:
            # Its commit went through before the connection dropped; the dispatch did not.
            services.dispatch("send_reply", done)
            return done
        _require(case, CaseStatus.AWAITING_REVIEW)
        draft = current_draft(case)
        if draft is None:
            raise ReviewError(f"{case.reference} has no draft to approve")
        markers = open_expert_markers(draft.body_text)
        if markers:
            raise ReviewError(
                f"draft v{draft.version} of {case.reference} still has {len(markers)} open "
                f"[expert: ...] note(s), first {markers[0]}; edit the draft before approving"
            )
        if clean_address(case.requester_address) is None:
            raise ReviewError(f"{case.reference} has no valid requester address to reply to")
        case.error = None
        lifecycle.move(session, case, CaseStatus.APPROVED, actor, draft_version=draft.version)
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
        outbound_id = row.id
    services.dispatch("send_reply", outbound_id)
    return outbound_id


def _reply_of_current_draft(session: Session, case: Case, actor: str) -> int | None:
    """The reply ``actor`` already queued for the case's current draft, if it is approved."""
    draft = current_draft(case)
    if draft is None or case.status not in APPROVED_STATUSES:
        return None
    return session.scalar(
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


@retry_transient
def reject(services: Services, reference: str, reason: str, actor: str) -> None:
    """Close the case without a reply; the reason is kept on the timeline."""
    if not reason.strip():
        raise ReviewError("a rejection needs a reason")
    with services.db.session() as session:
        case = get_case(session, reference)
        _require(case, CaseStatus.AWAITING_REVIEW)
        lifecycle.move(session, case, CaseStatus.REJECTED, actor, reason=reason.strip())


@retry_transient
def assign(services: Services, reference: str, assignee_email: str | None, actor: str) -> None:
    """Give the case to a reviewer (or to nobody, with None)."""
    with services.db.session() as session:
        case = get_case(session, reference)
        assignee = None
        if assignee_email:
            assignee = session.scalar(
                select(User).where(User.email == assignee_email.strip().lower(), User.active)
            )
            if assignee is None:
                raise ReviewError(f"no active user {assignee_email}")
        case.assignee = assignee
        record(session, case, "assigned", actor, assignee=assignee.email if assignee else None)


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
