"""Which addresses we may write to: plain, printable addr-specs, and whose Reply-To we honour.

Mail headers are hostile input. An address read from one is only ever used as
a recipient after ``clean_address`` accepted it: no control or format
characters (a vertical tab, NEL or CR that would break the header we write),
no whitespace, no quoted local part or source route, one ``@``, a domain of
dot-separated labels, and no more than RFC 5321 allows.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection

MAX_ADDRESS = 254
MAX_LOCAL = 64
_LOCAL = re.compile(r"^[\w!#$%&'*+/=?^`{|}~-]+(\.[\w!#$%&'*+/=?^`{|}~-]+)*$")
_LABEL = re.compile(r"^(?!-)[\w-]{1,63}(?<!-)$")


def _printable(value: str) -> bool:
    """No control, format, separator or surrogate characters anywhere."""
    return all(unicodedata.category(ch)[0] not in "CZ" for ch in value)


def clean_address(value: str | None) -> str | None:
    """``value`` lower-cased if it is an address we may send to; None otherwise."""
    if not value:
        return None
    address = value.strip()
    if len(address) > MAX_ADDRESS or not _printable(address) or address.count("@") != 1:
        return None
    local, domain = address.split("@")
    if not local or len(local) > MAX_LOCAL or not _LOCAL.match(local):
        return None
    labels = domain.rstrip(".").split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return None
    if labels[-1].isdigit():  # a bare IP address is no mail domain
        return None
    return f"{local}@{domain.rstrip('.')}".lower()


def domain_of(address: str) -> str:
    return address.rsplit("@", 1)[-1].lower()


def reply_address(
    from_address: str | None, reply_to: Collection[str], allowed: Collection[str] = ()
) -> str | None:
    """Where an answer goes: the sender, or its Reply-To when that is trusted.

    A Reply-To is honoured only when it is in the sender's own domain or is
    listed (by address or domain) in ``allowed``: anyone can write any
    Reply-To, and an acknowledgment sent to a third party quoting the
    message's subject is spam sent in our name.
    """
    sender = clean_address(from_address)
    if sender is None:
        return None
    for candidate in reply_to:
        target = clean_address(candidate)
        if target is None:
            continue
        if domain_of(target) == domain_of(sender) or target in allowed:
            return target
        if domain_of(target) in allowed:
            return target
    return sender
