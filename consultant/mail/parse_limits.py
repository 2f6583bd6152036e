"""The bounds on how much of one message parsing reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from config import Settings


@dataclass(frozen=True)
class ParseLimits:
    """How much of one message parsing reads; what lies beyond is skipped, never decoded."""

    max_text_chars: int = 50_000
    max_html_bytes: int = 1_000_000
    max_mime_depth: int = 20
    max_mime_parts: int = 500
    max_attachment_bytes: int = 25_000_000
    max_header_chars: int = 8_000

    @classmethod
    def from_settings(cls, settings: Settings) -> ParseLimits:
        """The limits an operator set (``CONSULTANT_MAX_*``), validated by ``Settings``."""
        return cls(
            max_text_chars=settings.max_text_chars,
            max_html_bytes=settings.max_html_bytes,
            max_mime_depth=settings.max_mime_depth,
            max_mime_parts=settings.max_mime_parts,
            max_attachment_bytes=settings.max_attachment_bytes,
            max_header_chars=settings.max_header_chars,
        )


DEFAULT_LIMITS = ParseLimits()
