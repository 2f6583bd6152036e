"""Message-IDs, References chains, case references in subjects, reply subjects.

Replies must land in the requester's thread in every mail client: Outlook
threads by subject, Gmail by subject and References, Apple Mail by
References. So a reply carries In-Reply-To, a References chain and a subject
``Re: <original subject> [CC-000123]``.
"""

from __future__ import annotations

import re
import uuid

_MESSAGE_ID = re.compile(r"<([^<>]+)>")
# What an id may not keep: whitespace of any kind, C0 and C1 controls (NUL, U+0085 ...),
# the Unicode line and paragraph separators, and lone surrogates (undecodable header bytes).
_NOT_IN_AN_ID = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_REPLY_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|wg|sv|vs|antw|tr|rv)\s*(\[\d+\])?\s*:\s*)+", re.I)
MAX_REFERENCES = 20
MAX_SUBJECT_CHARS = 150  # of the sender's subject in ours: one line of a mail client
# Real ids are far shorter (RFC 5322 keeps a line under 998 bytes); a longer one is
# hostile and, as an index key, longer than PostgreSQL accepts (2,704 bytes a key).
MAX_ID_BYTES = 500


def _clean_id(text: str) -> str | None:
    """``<text>`` without what no id may contain; None if nothing is left, or too much.

    An id is a key: in the database (PostgreSQL refuses NUL), in log lines and
    in the References of our replies. A control character or a space in it is
    damage, never meaning, so it is dropped rather than kept or refused.
    """
    cleaned = _NOT_IN_AN_ID.sub("", text)
    if not cleaned or len(cleaned.encode("utf-8", "replace")) > MAX_ID_BYTES:
        return None
    return f"<{cleaned}>"


def normalise_message_id(value: str | None) -> str | None:
    """``<id@host>`` from a header value, tolerating missing brackets; None if absent."""
    if not value:
        return None
    found = _MESSAGE_ID.search(value)
    if found:
        return _clean_id(found.group(1))
    tokens = value.split()
    token = tokens[0].strip("<>") if tokens else ""
    return _clean_id(token) if "@" in token else None


def message_ids_in(value: str | None) -> tuple[str, ...]:
    """Every ``<id>`` in an In-Reply-To or References header, in order, without repeats."""
    if not value:
        return ()
    cleaned = (_clean_id(found) for found in _MESSAGE_ID.findall(value))
    return tuple(dict.fromkeys(found for found in cleaned if found))


def make_message_id(domain: str) -> str:
    """A new, unguessable Message-ID on our own domain."""
    return f"<{uuid.uuid4().hex}@{domain}>"


def reference_pattern(prefix: str) -> re.Pattern[str]:
    """Matches ``[CC-000123]`` and ``[Case CC-000123]`` in a subject."""
    return re.compile(rf"\[(?:case\s+)?({re.escape(prefix)}-\d{{6,}})\]", re.I)


def reference_in_subject(subject: str, prefix: str) -> str | None:
    """The case reference a subject carries, upper-cased, or None."""
    found = reference_pattern(prefix).search(subject or "")
    return found.group(1).upper() if found else None


def reference_in_marker(text: str, prefix: str) -> str | None:
    """The case reference of the first ``[ref:CC-000123]`` marker in a body (ours, quoted)."""
    found = re.search(rf"\[ref:({re.escape(prefix)}-\d{{6,}})\]", text or "", re.I)
    return found.group(1).upper() if found else None


def normalised_subject(subject: str, prefix: str) -> str:
    """The subject without reply prefixes and our reference: Outlook's conversation topic."""
    clean = reference_pattern(prefix).sub("", subject or "")
    return " ".join(_REPLY_PREFIX.sub("", clean).split())


def reply_subject(subject: str, reference: str, prefix: str) -> str:
    """``Re: <subject> [CC-000123]`` without stacking ``Re:`` or repeating the reference.

    The subject is cut at a word to fit one line of a mail client (with an
    ellipsis): a sender's subject can be as long as they like, ours is not.
    """
    clean = normalised_subject(subject, prefix)
    if len(clean) > MAX_SUBJECT_CHARS:
        cut = clean[:MAX_SUBJECT_CHARS]
        clean = (cut.rsplit(" ", 1)[0] or cut).rstrip(" ,;:-") + "…"
    return f"Re: {clean or 'your question'} [{reference}]"


def references_chain(ids: list[str]) -> list[str]:
    """A References header value, trimmed to the first and the latest ids as RFC 5322 suggests."""
    unique = list(dict.fromkeys(ids))
    if len(unique) <= MAX_REFERENCES:
        return unique
    return [unique[0], *unique[-(MAX_REFERENCES - 1) :]]
