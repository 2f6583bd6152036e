"""Reading a bounce: which of our messages it is about, and what the receiving server said.

A delivery status notification (RFC 3464) carries the status per recipient
in a ``message/delivery-status`` part and the original message, or its
headers, in another part. Servers differ in what they include, so the
Message-IDs are looked for in the whole bounce, and only ids on our own
domain, in the shape we make them, are taken: a bounce cannot point at
anybody else's message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

STATUS = re.compile(rb"^Status:\s*([245]\.\d{1,3}\.\d{1,3})", re.I | re.M)
ACTION = re.compile(rb"^Action:\s*(failed|delayed|delivered|relayed|expanded)", re.I | re.M)
DIAGNOSTIC = re.compile(rb"^Diagnostic-Code:\s*(.+(?:\r?\n[ \t].+)*)", re.I | re.M)
MAX_TEXT = 500
MAX_SCANNED = 1_000_000  # the status and the original's headers come first


@dataclass(frozen=True)
class Bounce:
    """What a bounce says about our messages."""

    message_ids: tuple[str, ...]
    status: str | None  # the enhanced status code, e.g. 5.1.1
    action: str | None  # failed or delayed, per RFC 3464
    diagnostic: str | None  # the receiving server's words

    @property
    def permanent(self) -> bool:
        """The message was not delivered and will not be: failed, or a 5.x.x status."""
        if self.action is not None:
            return self.action == "failed"
        return self.status is not None and self.status.startswith("5")


def our_message_ids(raw: bytes, domain: str) -> tuple[str, ...]:
    """Message-IDs we made (``<32 hex digits@domain>``) found anywhere in ``raw``."""
    pattern = re.compile(rb"<([0-9a-f]{32})@" + re.escape(domain.encode()) + rb">", re.I)
    found = (f"<{m.group(1).decode().lower()}@{domain}>" for m in pattern.finditer(raw))
    return tuple(dict.fromkeys(found))


def _first(pattern: re.Pattern[bytes], raw: bytes) -> str | None:
    match = pattern.search(raw)
    if match is None:
        return None
    text = " ".join(match.group(1).decode("utf-8", "replace").split())
    return "".join(ch for ch in text if ch.isprintable())[:MAX_TEXT] or None


def read_bounce(raw: bytes, domain: str) -> Bounce:
    """The bounce in ``raw`` as far as it concerns messages sent from ``domain``."""
    head = raw[:MAX_SCANNED]
    action = _first(ACTION, head)
    return Bounce(
        message_ids=our_message_ids(head, domain),
        status=_first(STATUS, head),
        action=action.lower() if action else None,
        diagnostic=_first(DIAGNOSTIC, head),
    )
