"""Everything the case page shows, gathered in one read: the thread, the draft and its
history, claim and presence, notes, similar answers, the timeline in plain words."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from consultant.analysis.phi import redact, redact_file_name, segments
from consultant.cases import presence, review_claims
from consultant.cases.diffs import Merged, Row, merge, side_by_side
from consultant.cases.review_errors import DraftConflict
from consultant.cases.similar import Similar, similar_cases
from consultant.cases.timeline import Entry, describe
from consultant.drafting.render import open_expert_markers
from consultant.models import (
    Case,
    CaseStatus,
    Draft,
    InboundMessage,
    OutboundKind,
    OutboundMessage,
    OutboundState,
)

PHI_LABELS = {
    "patient_name": "patient name",
    "dob": "date of birth",
    "mrn": "medical record number",
    "ssn": "social security number",
    "member_id": "member ID",
    "phone": "phone number",
}


THREAD_LABELS = {
    OutboundKind.REPLY: "reply",
    OutboundKind.ACK: "acknowledgment",
    OutboundKind.INSTANT: "automatic answer (sent at once; approving its draft unchanged sends "
    "nothing more)",
}


def phi_label(kind: str) -> str:
    return PHI_LABELS.get(kind, kind.replace("_", " "))


@dataclass(frozen=True)
class ThreadItem:
    """One message of the thread, theirs or ours, in the order they happened."""

    at: datetime
    ours: bool
    who: str
    heading: str
    pieces: list[tuple[str, str | None]]  # text with PHI spans marked by kind
    message_id: int | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""


@dataclass(frozen=True)
class Conflict:
    """A refused save or approval, as the page shows it: what changed, and a merge to start."""

    refused: DraftConflict
    theirs: list[Row]  # the version the expert saw -> the current version
    yours: list[Row]  # the current version -> the expert's text
    merged: Merged


def conflict_view(refused: DraftConflict) -> Conflict:
    yours = refused.yours if refused.yours is not None else refused.base.text
    label = f"v{refused.current.number} by {refused.current.author}"
    return Conflict(
        refused=refused,
        theirs=side_by_side(refused.base.text, refused.current.text),
        yours=side_by_side(refused.current.text, yours),
        merged=merge(refused.base.text, yours, refused.current.text, label),
    )


def _message_text(message: InboundMessage) -> str:
    """The text stored when the message was processed; pages never parse mail again."""
    if message.text is not None:
        return message.text
    if message.processed_at is None:
        return "(not processed yet)"
    return "(no readable text)"


def _route(message: InboundMessage) -> str:
    if message.route is None:
        return "not processed yet"
    words = message.route.replace("_", " ")
    return f"{words} ({message.route_reason})" if message.route_reason else words


def _delivery(outbound: OutboundMessage) -> str:
    """What the mail server said about one of our messages, labelled for a reader."""
    if outbound.state == OutboundState.FAILED:
        return f"Not delivered: {outbound.last_error or outbound.smtp_reply or 'no reason given'}"
    if outbound.state == OutboundState.BOUNCED:
        said = " ".join(p for p in (outbound.bounce_status, outbound.bounce_text) if p)
        return f"Bounced: {said or 'returned by the receiving server'}"
    if outbound.last_error and outbound.state != OutboundState.SENT:
        return f"Not delivered yet: {outbound.last_error}"
    return f"Mail server's answer: {outbound.smtp_reply}" if outbound.smtp_reply else ""


def thread(case: Case) -> list[ThreadItem]:
    items = [
        ThreadItem(
            at=m.received_at,
            ours=False,
            who=m.from_address or "unknown sender",
            heading=_route(m),
            pieces=segments(_message_text(m)),
            message_id=m.id,
            attachments=[
                a | {"shown_name": redact_file_name(str(a.get("filename", "")))}
                for a in (m.attachments or [])
            ],
        )
        for m in case.messages
    ]
    items += [
        ThreadItem(
            at=o.sent_at or o.created_at,
            ours=True,
            who=o.created_by,
            heading=f"{THREAD_LABELS.get(o.kind, o.kind)} · {o.state}",
            pieces=[(o.body_text, None)],
            note=_delivery(o),
        )
        for o in case.outbound
    ]
    return sorted(items, key=lambda item: item.at)


@dataclass(frozen=True)
class ClaimView:
    holder: str | None
    since: datetime | None
    until: datetime | None
    mine: bool


def claim_view(case: Case, viewer: str) -> ClaimView:
    holder = review_claims.holder(case)
    return ClaimView(
        holder=holder,
        since=case.claimed_at if holder else None,
        until=case.claim_expires_at if holder else None,
        mine=holder == viewer,
    )


@dataclass
class CaseView:
    case: Case
    subject: str  # PHI marked or shown, as the viewer chose
    draft: Draft | None
    markers: list[str]
    thread: list[ThreadItem]
    claim: ClaimView
    others: list[presence.Viewer]
    timeline: list[Entry]
    similar: list[Similar]
    phi_kinds: list[str]
    revealed: bool
    can_review: bool
    can_retry: bool
    can_claim: bool


def build(session: Session, case: Case, viewer: str, revealed: bool) -> CaseView:
    draft = case.drafts[-1] if case.drafts else None
    kinds = sorted({kind for _, kind in segments(case.subject) if kind})
    for message in case.messages:
        kinds += [kind for _, kind in segments(message.text or "") if kind]
    if draft is not None:
        kinds += list(draft.facts.get("phi_kinds", []))
    return CaseView(
        case=case,
        subject=case.subject if revealed else redact(case.subject),
        draft=draft,
        markers=open_expert_markers(draft.body_text) if draft else [],
        thread=thread(case),
        claim=claim_view(case, viewer),
        others=presence.others(session, case.id, viewer),
        timeline=[describe(event) for event in case.events],
        similar=similar_cases(session, case) if case.status == CaseStatus.AWAITING_REVIEW else [],
        phi_kinds=sorted({phi_label(kind) for kind in kinds}),
        revealed=revealed,
        can_review=case.status == CaseStatus.AWAITING_REVIEW,
        can_retry=case.status in (CaseStatus.FAILED, CaseStatus.IGNORED),
        can_claim=case.status == CaseStatus.AWAITING_REVIEW,
    )
