"""HTML mail bodies turned into readable text (inscriptis keeps tables and lists laid out)."""

from __future__ import annotations

from inscriptis import get_text
from inscriptis.model.config import ParserConfig

_CONFIG = ParserConfig(display_links=False, display_images=False)


def html_to_text(html: str) -> str:
    """The visible text of ``html``; scripts and styles are dropped, entities decoded."""
    if not html.strip():
        return ""
    text = get_text(html, _CONFIG)
    return "\n".join(line.rstrip() for line in text.splitlines()).strip("\n") + "\n"
