"""The reply templates filled in for a sample case, as the admins' preview page shows them.

Each preview is made the way the real mail is: the answer by the same
analysis, lookups and template as a new case (against the code data loaded
here), the acknowledgment and the not-registered notice with the context
processing gives them, an expert's edited text through ``edited.html.j2``.
The HTML goes through the sanitiser before it is shown: the page never
trusts markup, even our own. A template that fails to render is shown with
its error instead of breaking the page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage

import nh3
from jinja2 import TemplateError
from markupsafe import Markup

from consultant.cases.answering import answer_message, draft_answer
from consultant.drafting.automatic import render_answer
from consultant.drafting.render import RenderedBody
from consultant.mail.parse import parse_message
from consultant.services import Services

REFERENCE = "CC-000123"
REQUESTER = "Dana Reyes"
SUBJECT = "29880 and 29877 on the same knee"
QUESTION = (
    "Hello,\n\nCan 29880 and 29877 be billed together for the same knee on the same day?\n"
    "Do we need modifier 59 on 29877?\n\nThanks,\nDana\n"
)
EDITED = (
    f"Dear {REQUESTER},\n\nNo: 29877 is bundled into 29880 in the same knee. Modifier 59 (or XS)\n"
    "applies only when the op note documents a separate compartment.\n\n"
    "> Can 29880 and 29877 be billed together?\n\nKind regards,\nCaseConsultant"
)


@dataclass(frozen=True)
class Preview:
    name: str
    purpose: str
    text: str
    html: Markup | None
    error: str | None = None


def _sample(services: Services) -> bytes:
    message = EmailMessage()
    message["From"] = f"{REQUESTER} <dana@clinic.example>"
    message["To"] = services.settings.consult_address
    message["Subject"] = SUBJECT
    message["Message-ID"] = "<sample@clinic.example>"
    message.set_content(QUESTION)
    return bytes(message)


def _answer(services: Services) -> RenderedBody:
    return draft_answer(services, parse_message(_sample(services)), REFERENCE).body


def _ack(services: Services) -> RenderedBody:
    return services.renderer.render(
        "ack",
        requester_name=REQUESTER,
        subject=SUBJECT,
        reference=REFERENCE,
        phi_removed=False,
        phi_resend_request=False,
        display_name=services.settings.display_name,
    )


def _unknown_sender(services: Services) -> RenderedBody:
    return services.renderer.render(
        "unknown_sender",
        requester_name=REQUESTER,
        subject=SUBJECT,
        reference=REFERENCE,
        display_name=services.settings.display_name,
    )


def _not_coding(services: Services) -> RenderedBody:
    return services.renderer.render(
        "not_coding",
        purpose="thanks",
        requester_name=REQUESTER,
        subject="Thanks!",
        question="Thank you, that got our claim paid.",
        phi_removed=False,
        display_name=services.settings.display_name,
    )


def _automatic(services: Services) -> RenderedBody:
    _, automatic = answer_message(services, parse_message(_sample(services)), REFERENCE)
    return render_answer(services.renderer, automatic, REFERENCE, services.settings.display_name)


def _edited(services: Services) -> RenderedBody:
    return RenderedBody(EDITED, services.renderer.html_for_text(EDITED), "edited")


SAMPLES: dict[str, tuple[str, Callable[[Services], RenderedBody]]] = {
    "answer": ("The draft made for every new question, before an expert edits it.", _answer),
    "ack": ("The automatic acknowledgment of a new question.", _ack),
    "automatic": (
        "The automatic answer: on the Ask page, and by email at once when "
        "CONSULTANT_INSTANT_REPLY=confident and it is sure of itself.",
        _automatic,
    ),
    "edited": ("An expert's edited reply: the text as written, and its HTML version.", _edited),
    "unknown_sender": (
        "The notice to a sender who is not registered (when unknown senders get a notice).",
        _unknown_sender,
    ),
    "not_coding": (
        "The draft for a message that asks no coding question (here a thank-you).",
        _not_coding,
    ),
}


def reply_previews(services: Services) -> list[Preview]:
    """Every reply template with a sample, then any template there is no sample for."""
    folder = services.settings.templates_dir / "replies"
    present = {p.name.split(".")[0] for p in folder.glob("*.j2") if not p.name.startswith("_")}
    previews = [_preview(services, name) for name in SAMPLES if name in present]
    previews += [
        Preview(name, "No sample case for this template yet.", "", None)
        for name in sorted(present - set(SAMPLES))
    ]
    return previews


def _preview(services: Services, name: str) -> Preview:
    purpose, make = SAMPLES[name]
    try:
        body = make(services)
    except TemplateError as error:
        return Preview(name, purpose, "", None, f"{type(error).__name__}: {error}")
    return Preview(name, purpose, body.text, Markup(nh3.clean(body.html)))
