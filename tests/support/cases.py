"""Making cases the way production does: store mail through the intake, process inline."""

from __future__ import annotations

from consultant.cases import review
from consultant.mail.intake import FetchedMessage, Intake
from consultant.services import Services

ANSWER = "Dear {name},\n\nThe answer, written by an expert.\n\nKind regards,\nCaseConsultant\n"


def file_messages(services: Services, *raws: bytes, mailbox: str = "test") -> list[int]:
    """Store ``raws`` as delivered mail; processing runs right after the commit."""
    intake = Intake(services.db, services.dispatch)
    return intake.store(mailbox, [FetchedMessage(raw=raw) for raw in raws])


def answer_and_approve(
    services: Services, reference: str, actor: str = "expert@example.com"
) -> int:
    """Replace the draft with an expert's text and approve it; the outbox row id."""
    review.edit_draft(services, reference, ANSWER.format(name="colleague"), actor)
    return review.approve(services, reference, actor)
