"""The message class the MIME parser builds: a part that knows its depth and stops nesting."""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import EmailPolicy
from typing import Any

from consultant.mail.parse_errors import STDLIB_ERRORS
from consultant.mail.parse_limits import DEFAULT_LIMITS
from consultant.mail.parse_notes import Notes

CONTAINER_TYPES = ("multipart", "message")


class ParsePolicy(EmailPolicy):
    """``policy.default`` carrying the depth cap and the notes of one parse to its parts."""

    max_mime_depth: int = DEFAULT_LIMITS.max_mime_depth
    notes: Notes | None = None


class Part(EmailMessage):
    """A message or part that knows its MIME depth, so that the parser stops nesting at the cap.

    The stdlib's parser recurses once per level of nesting (RecursionError at
    about a thousand) and walks every level. A multipart or message part at the
    cap reports itself as opaque data, so the parser keeps its content as one
    block and never opens it.
    """

    mime_depth = 0
    policy: ParsePolicy

    def attach(self, payload: Any) -> None:
        payload.mime_depth = self.mime_depth + 1
        if self.policy.notes is not None:
            self.policy.notes.parts_made += 1
        super().attach(payload)

    @property
    def too_deep(self) -> bool:
        if self.mime_depth < self.policy.max_mime_depth:
            return False
        return super().get_content_type().split("/")[0] in CONTAINER_TYPES

    def get_content_type(self) -> str:
        """The declared type; an invalid one (``/``, ``text/``) is text/plain, as RFC 2045 says."""
        if self.too_deep:
            return "application/octet-stream"
        declared = super().get_content_type()
        maintype, _, subtype = declared.partition("/")
        return declared if maintype and subtype else "text/plain"

    def get_boundary(self, failobj: Any = None) -> Any:
        """The boundary; an RFC 2231 one in a charset the stdlib cannot decode is taken raw."""
        try:
            return super().get_boundary(failobj)
        except STDLIB_ERRORS:
            if self.policy.notes is not None:
                self.policy.notes.defect("multipart boundary unreadable: its raw text was used")
            value = self.get_param("boundary")
            return value[2].rstrip() if isinstance(value, tuple) else failobj

    def encoded_size(self) -> int:
        """The decoded size estimated from the encoded payload, without decoding it.

        ``get_payload()`` cannot tell: it re-decodes 8-bit text with the declared
        charset, so the undecoded payload is read directly.
        """
        payload = self._payload  # type: ignore[attr-defined]
        if not isinstance(payload, str):
            return 0
        encoding = str(self.get("content-transfer-encoding", "")).strip().lower()
        if encoding == "base64":
            return (len(payload) - sum(map(payload.count, " \t\r\n"))) * 3 // 4
        if encoding == "quoted-printable":
            return max(0, len(payload) - 2 * payload.count("="))
        return len(payload)
