"""The error a message with nothing usable raises, and the errors caught from the stdlib."""

from __future__ import annotations

from email.errors import HeaderParseError


class MessageParseError(Exception):
    """Raised when a message has nothing usable.

    No bytes; no subject, no text and no attachment; or a truncated multipart
    with no readable text part. A missing sender is no reason: see ``from_address``.
    """


# What the stdlib's header, MIME and codec code raises on input it cannot read.
STDLIB_ERRORS = (
    IndexError,
    ValueError,
    TypeError,
    AttributeError,
    LookupError,
    RecursionError,
    HeaderParseError,
    UnicodeError,
    AssertionError,
    OverflowError,
)
