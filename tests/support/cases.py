"""Making cases the way production does: store mail through the intake, process inline."""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage

from consultant.cases import review
from consultant.mail.intake import FetchedMessage, Intake
from consultant.services import Services

ANSWER = "Dear {name},\n\nThe answer, written by an expert.\n\nKind regards,\nCaseConsultant\n"


def file_messages(services: Services, *raws: bytes, mailbox: str = "test") -> list[int]:
    """Store ``raws`` as delivered mail; processing runs right after the commit."""
    intake = Intake(services.db, services.dispatch)
    return intake.store(mailbox, [FetchedMessage(raw=raw) for raw in raws])


def store_only(services: Services, *raws: bytes, mailbox: str = "test") -> list[int]:
    """Store ``raws`` with a dispatcher whose worker has not picked the tasks up yet."""
    intake = Intake(services.db, lambda task, row_id: None)
    return intake.store(mailbox, [FetchedMessage(raw=raw) for raw in raws])


def outbox_messages(services: Services) -> list[EmailMessage]:
    """What the embedded outbox (a Maildir) holds, oldest first."""
    folder = services.settings.maildir_outbox / "new"
    files = sorted(folder.iterdir()) if folder.exists() else []
    return [
        email.message_from_bytes(path.read_bytes(), policy=policy.default)  # type: ignore[misc]
        for path in files
    ]


def save_draft(services: Services, reference: str, text: str, actor: str) -> review.SavedDraft:
    """Save ``text`` as an expert who is looking at the current version."""
    current = review.current_version(services, reference)
    assert current is not None, f"{reference} has no draft"
    return review.edit_draft(services, reference, text, actor, base_version=current)


def approve_current(services: Services, reference: str, actor: str) -> int:
    """Approve the current version as an expert who is looking at it; the outbox row id."""
    current = review.current_version(services, reference)
    assert current is not None, f"{reference} has no draft"
    return review.approve(services, reference, actor, version=current).outbound_id


def answer_and_approve(
    services: Services, reference: str, actor: str = "expert@example.com"
) -> int:
    """Replace the draft with an expert's text and approve it; the outbox row id."""
    save_draft(services, reference, ANSWER.format(name="colleague"), actor)
    return approve_current(services, reference, actor)


def bounce_of(message_id: str, status: str = "5.1.1", action: str = "failed") -> bytes:
    """A delivery status notification from the requester's server about ``message_id``."""
    return (
        "From: MAILER-DAEMON@mx.clinic.example\r\nTo: consult@caseconsultant.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <b1@mx.clinic.example>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; "
        'boundary="B"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nI could not deliver it.\r\n'
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        f"Final-Recipient: rfc822; dana@clinic.example\r\nAction: {action}\r\n"
        f"Status: {status}\r\nDiagnostic-Code: smtp; 550 5.1.1 <dana@clinic.example>: "
        "Recipient address rejected: User unknown\r\n\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: consult@caseconsultant.example\r\nMessage-ID: {message_id}\r\n--B--\r\n"
    ).encode()
