"""A case's timeline in plain words: what happened, by whom, without internal ids.

Events keep their details as recorded (for audits and the JSON views); this is
how a person reads them. Subjects and file names pass through the PHI redaction
again, since events written before redaction existed may still hold them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from consultant.analysis.phi import redact, redact_file_name
from consultant.models import CaseEvent

Details = dict[str, Any]


@dataclass(frozen=True)
class Entry:
    at: datetime
    who: str
    what: str


_PHI_WHERE = {"cli": "by the command line", "api": "through the API"}


def _label(value: object) -> str:
    return str(value).replace("_", " ")


def _subject(details: Details) -> str:
    subject = details.get("subject")
    return f' "{redact(str(subject))}"' if subject else ""


def _from(details: Details) -> str:
    sender = details.get("sender")
    return f" from {sender}" if sender else ""


def _received(details: Details) -> str:
    text = f"Message{_from(details)}{_subject(details)} received"
    names = [redact_file_name(str(n)) for n in details.get("attachments") or []]
    if names:
        text += f", with {len(names)} attachment{'s' if len(names) > 1 else ''}: " + ", ".join(
            names
        )
    return text


def _status(details: Details) -> str:
    text = f"Status {_label(details.get('from'))} → {_label(details.get('to'))}"
    for key, label in (("reason", "reason"), ("error", "error"), ("retry", "retry of")):
        if details.get(key):
            text += f" ({label}: {details[key]})"
    if details.get("draft_version"):
        text += f" (draft v{details['draft_version']})"
    return text


def _mail(kind: str, verb: str) -> Callable[[Details], str]:
    noun = {"ack": "Acknowledgment", "reply": "Reply"}.get(kind, kind.capitalize())

    def describe(details: Details) -> str:
        extra = details.get("error") or details.get("reply") or ""
        return f"{noun} {verb}" + (f": {extra}" if extra else "")

    return describe


DESCRIBE: dict[str, Callable[[Details], str]] = {
    "received": _received,
    "follow_up_received": lambda d: "Follow-up " + _received(d)[0].lower() + _received(d)[1:],
    "earlier_message_joined": lambda d: f"Earlier message{_from(d)}{_subject(d)} joined the case",
    "message_ignored": lambda d: (
        f"Message{_from(d)}{_subject(d)} set aside: {_label(d.get('reason', ''))}"
    ),
    "status": _status,
    "draft_created": lambda d: f"Draft v{d.get('version')} written by the system",
    "draft_edited": lambda d: (
        f"Draft v{d.get('version')} saved"
        + (f" (edited from v{d['based_on']})" if d.get("based_on") else "")
    ),
    "phi_flagged": lambda d: (
        "Patient details found ("
        + ", ".join(_label(k) for k in d.get("kinds", []))
        + "); the draft does not repeat them"
    ),
    "phi_revealed": lambda d: (
        "Patient details shown " + _PHI_WHERE.get(str(d.get("where", "")), "on the case page")
    ),
    "attachment_downloaded": lambda d: (
        "Attachment downloaded: " + redact_file_name(str(d.get("filename", "")))
    ),
    "ack_not_sent": lambda d: f"No acknowledgment sent: {d.get('reason', '')}",
    "assigned": lambda d: f"Assigned to {d['assignee']}" if d.get("assignee") else "Unassigned",
    "claimed": lambda d: f"Claimed for {d.get('minutes', '')} minutes",
    "claim_taken_over": lambda d: f"Took the case over from {d.get('previous', '')}",
    "claim_released": lambda d: "Claim released",
    "note_added": lambda d: "Internal note added",
    "limits_reached": lambda d: (
        "Parts of the message were not read: " + "; ".join(str(x) for x in d.get("limits", []))
    ),
    "processing_failed": lambda d: f"Processing failed: {d.get('error', '')}",
    "processing_restarted": lambda d: "Processing started again after an interrupted run",
    "ack_queued": _mail("ack", "queued"),
    "reply_queued": _mail("reply", "queued"),
    "ack_sent": _mail("ack", "sent"),
    "reply_sent": _mail("reply", "sent"),
    "ack_failed": _mail("ack", "could not be sent"),
    "reply_failed": _mail("reply", "could not be sent"),
    "ack_bounced": _mail("ack", "bounced"),
    "reply_bounced": _mail("reply", "bounced"),
    "delivery_delayed": lambda d: "The receiving server reports a delay",
    "send_deferred": lambda d: (
        "Sending deferred; it will be tried again" + (f": {d['error']}" if d.get("error") else "")
    ),
    "send_outcome_unknown": lambda d: (
        "The mail server did not confirm a send; it will be sent again with the same Message-ID"
    ),
    "send_outcome_resolved": lambda d: "The unconfirmed send was resolved",
    "sent_copy_filed": lambda d: "Copy filed in the Sent folder",
    "sent_copy_failed": lambda d: f"Copy not filed in the Sent folder: {d.get('error', '')}",
}


def describe(event: CaseEvent) -> Entry:
    """One timeline line; an event kind without a sentence shows its name and no ids."""
    details = event.details or {}
    sentence = DESCRIBE.get(event.kind)
    what = sentence(details) if sentence else _label(event.kind).capitalize()
    return Entry(event.at, event.actor, what)
