"""Rules that recognise mail written by a machine, so that we never answer one.

Each rule returns a reason or None; ``machine_reason`` runs them in order and
the first reason wins. Answering an auto-responder, a bounce or a mailing
list is how mail loops start, so the order puts the strongest signals first:
our own address, then bounces, then bulk mail, then auto-replies.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from consultant.mail.parse import ParsedMessage

BOUNCE_SENDERS = {"mailer-daemon", "postmaster"}
BULK_PRECEDENCE = {"bulk", "junk", "list"}

Rule = Callable[[ParsedMessage, Collection[str]], str | None]


def from_ourselves(msg: ParsedMessage, our_addresses: Collection[str]) -> str | None:
    """Mail sent from our own address, or carrying our X-Loop marker."""
    if msg.from_address in our_addresses:
        return "loop"
    loop_marks = msg.headers.get("x-loop", "").lower()
    if any(address in loop_marks for address in our_addresses):
        return "loop"
    return None


def is_bounce(msg: ParsedMessage, _our: Collection[str]) -> str | None:
    """Delivery status notifications: MAILER-DAEMON, postmaster, null return path, DSN body."""
    local_part = msg.from_address.split("@", 1)[0]
    if local_part in BOUNCE_SENDERS:
        return "bounce"
    if msg.headers.get("return-path", "").replace(" ", "") == "<>":
        return "bounce"
    if msg.content_type == "multipart/report":
        return "bounce"
    return None


def is_bulk(msg: ParsedMessage, _our: Collection[str]) -> str | None:
    """Mailing lists and newsletters: Precedence bulk/junk/list or a List-Id."""
    if msg.headers.get("precedence", "").strip().lower() in BULK_PRECEDENCE:
        return "bulk"
    if msg.headers.get("list-id"):
        return "bulk"
    return None


def is_auto_reply(msg: ParsedMessage, _our: Collection[str]) -> str | None:
    """Auto-Submitted other than ``no`` (RFC 3834), or the older X-Autoreply markers."""
    auto_submitted = msg.headers.get("auto-submitted", "").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return "auto-reply"
    if msg.headers.get("x-autoreply") or msg.headers.get("x-autorespond"):
        return "auto-reply"
    return None


RULES: tuple[Rule, ...] = (from_ourselves, is_bounce, is_bulk, is_auto_reply)


def machine_reason(msg: ParsedMessage, our_addresses: Collection[str]) -> str | None:
    """Why ``msg`` must not be answered, or None when a person wrote it."""
    for rule in RULES:
        reason = rule(msg, our_addresses)
        if reason:
            return reason
    return None
