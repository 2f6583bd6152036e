"""Build the exact bytes of a message we send, once, before it is queued.

The bytes are stored on the outbox row, so a retry, the Maildir outbox and
the copy in the Sent folder are the same message with the same Message-ID.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime


@dataclass(frozen=True)
class Outgoing:
    """Everything that goes into one outgoing message."""

    sender_name: str
    sender_address: str
    recipients: tuple[str, ...]
    subject: str
    message_id: str
    date: datetime
    text: str
    html: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    auto_reply: bool = False
    # Outlook's threading (mail.conversation_index): the topic and the base64 index.
    thread_topic: str | None = None
    thread_index: str | None = None
    # The case's reference, written into the body too (see ``case_marker``).
    case_reference: str | None = None


def _address(name: str, address: str) -> Address:
    username, domain = address.rsplit("@", 1)
    return Address(display_name=name, username=username, domain=domain)


# 7-bit bodies (quoted-printable where needed): aiosmtplib sends stored bytes without
# BODY=8BITMIME, and a relay that does not offer 8BITMIME may refuse or mangle 8-bit data.
SEND_POLICY = policy.SMTP.clone(cte_type="7bit")


def case_marker(reference: str) -> str:
    """``[ref:CC-000123]``: found in a quoted reply when the headers and subject lost the thread.

    Some providers rewrite Message-IDs and some requesters change the subject;
    a reply still quotes our body. The HTML part carries the marker hidden,
    the text part as its last line.
    """
    return f"[ref:{reference}]"


HIDDEN = "display:none;font-size:0;line-height:0;max-height:0;overflow:hidden;mso-hide:all"


def compose(out: Outgoing) -> bytes:
    """The RFC 5322 bytes (CRLF line ends, 7-bit) of ``out``, text with an HTML alternative."""
    msg = EmailMessage(policy=SEND_POLICY)
    msg["From"] = _address(out.sender_name, out.sender_address)
    msg["To"] = ", ".join(out.recipients)
    msg["Subject"] = out.subject
    msg["Date"] = format_datetime(out.date)
    msg["Message-ID"] = out.message_id
    if out.in_reply_to:
        msg["In-Reply-To"] = out.in_reply_to
    if out.references:
        msg["References"] = " ".join(out.references)
    if out.thread_topic:
        msg["Thread-Topic"] = out.thread_topic
    if out.thread_index:
        msg["Thread-Index"] = out.thread_index
    # Our own marker: mail that comes back carrying it is a loop (see mail.automated).
    msg["X-Loop"] = out.sender_address
    if out.auto_reply:
        msg["Auto-Submitted"] = "auto-replied"
        msg["X-Auto-Response-Suppress"] = "All"
    text, html = out.text, out.html
    if out.case_reference:
        marker = case_marker(out.case_reference)
        text = f"{text.rstrip()}\n\n{marker}\n"
        html = None if html is None else _with_hidden(html, marker)
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg.as_bytes()


def _with_hidden(html: str, marker: str) -> str:
    """``html`` with ``marker`` in a hidden block at the end of its body."""
    block = f'<div style="{HIDDEN}">{marker}</div>'
    at = html.lower().rfind("</body>")
    return html + block if at < 0 else html[:at] + block + html[at:]
