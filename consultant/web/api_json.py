"""What the JSON API answers, made from what the services return: plain dicts, PHI removed
where lists and summaries show it, times as ISO 8601 (the caller's encoder writes them)."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy.orm import Session

from config import Settings
from consultant.analysis.phi import redact, redact_file_name
from consultant.cases import review_claims
from consultant.cases.diffs import unified_diff
from consultant.cases.queue import SLA_STATUSES, QueuePage
from consultant.cases.review_errors import DraftConflict
from consultant.cases.sla import current_sla
from consultant.cases.timeline import describe
from consultant.drafting.render import cite, open_expert_markers
from consultant.models import Case, Draft, InboundMessage, OutboundMessage, utcnow


def queue(found: QueuePage, page: int, per_page: int) -> dict[str, Any]:
    """A page of the queue and where it stands: the total, and the counts per view."""
    return {
        "total": found.total,
        "page": page,
        "per_page": per_page,
        "pages": math.ceil(found.total / per_page),
        "status": found.filters.status,
        "sort": found.sort,
        "order": "desc" if found.descending else "asc",
        "counts": found.counts,
        "cases": [row.as_json() for row in found.rows],
    }


def conflict(refused: DraftConflict) -> dict[str, Any]:
    """A refused save or approval: the current version (text, who, when) and what changed
    since the caller's version, and what the caller's text would change in the current one."""
    base, current = refused.base, refused.current
    current_label = f"v{current.number} ({current.author})"
    return {
        "action": refused.action,
        "base_version": base.number,
        "current": {
            "version": current.number,
            "author": current.author,
            "at": current.at,
            "text": current.text,
        },
        "changes_since_base": unified_diff(
            base.text, current.text, f"v{base.number}", current_label
        ),
        "your_changes": (
            unified_diff(current.text, refused.yours, current_label, "yours")
            if refused.yours is not None
            else None
        ),
    }


def claim(case: Case) -> dict[str, Any] | None:
    """The claim in force (who, since, until), or None."""
    holder = review_claims.holder(case)
    if holder is None:
        return None
    return {"holder": holder, "since": case.claimed_at, "until": case.claim_expires_at}


def _facts(draft: Draft) -> dict[str, Any] | None:
    """Why the draft says what it says: the codes read, the facts with their citations."""
    facts = draft.facts or {}
    if not facts.get("facts") and not facts.get("analysis"):
        return None
    analysis = facts.get("analysis") or {}
    return {
        "on": facts.get("on"),
        "setting": facts.get("setting"),
        "codes": [code.get("code") for code in analysis.get("codes", [])],
        "modifiers": list(analysis.get("modifiers", [])),
        "topics": list(analysis.get("topics", [])),
        "dates_of_service": list(analysis.get("dates_of_service", [])),
        "facts": [
            {
                "kind": fact.get("kind"),
                "codes": list(fact.get("codes", [])),
                "citation": cite(fact.get("source")) or None,
                "source": fact.get("source"),
            }
            for fact in facts.get("facts", [])
        ],
        "limits": list(facts.get("limits", [])),
    }


def _message(message: InboundMessage, show_phi: bool) -> dict[str, Any]:
    def shown(text: str | None) -> str | None:
        return text if show_phi or text is None else redact(text)

    return {
        "id": message.id,
        "from": message.from_address,
        "received_at": message.received_at,
        "subject": shown(message.subject),
        "route": message.route,
        "route_reason": message.route_reason,
        "text": shown(message.text),
        "attachments": [
            {
                "filename": str(a.get("filename", ""))
                if show_phi
                else redact_file_name(str(a.get("filename", ""))),
                "content_type": a.get("content_type"),
                "size": a.get("size"),
            }
            for a in (message.attachments or [])
        ],
    }


def _outbound(message: OutboundMessage) -> dict[str, Any]:
    return {
        "kind": message.kind,
        "state": message.state,
        "created_by": message.created_by,
        "created_at": message.created_at,
        "sent_at": message.sent_at,
        "text": message.body_text,
    }


def case(session: Session, settings: Settings, case: Case, show_phi: bool) -> dict[str, Any]:
    """One case: its current draft's ``version`` and ``text`` (what a save or an approval
    names), the facts, the messages and replies, the claim and the timeline."""
    draft = case.drafts[-1] if case.drafts else None
    waiting = case.waiting_since or case.created_at
    due = current_sla(session, settings).due(waiting) if case.status in SLA_STATUSES else None
    return {
        "reference": case.reference,
        "status": case.status,
        "subject": case.subject if show_phi else redact(case.subject),
        "requester": case.requester_address,
        "requester_name": case.requester_name,
        "phi_flagged": case.phi_flagged,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "waiting_since": waiting,
        "due_at": due,
        "overdue": due is not None and due <= utcnow(),
        "assignee": case.assignee.email if case.assignee else None,
        "claim": claim(case),
        "codes": case.codes.split(),
        "topics": case.topics.split(),
        "error": case.error,
        "version": draft.version if draft else None,
        "text": draft.body_text if draft else None,
        "draft": (
            {
                "author": draft.author,
                "created_at": draft.created_at,
                "based_on": draft.base_version,
                "expert_notes": open_expert_markers(draft.body_text),
            }
            if draft
            else None
        ),
        "facts": _facts(draft) if draft else None,
        "messages": [_message(m, show_phi) for m in case.messages],
        "replies": [_outbound(o) for o in case.outbound],
        "notes": [{"author": n.author, "at": n.created_at, "text": n.body} for n in case.notes],
        "timeline": [
            {"at": entry.at, "who": entry.who, "what": entry.what}
            for entry in map(describe, case.events)
        ],
    }
