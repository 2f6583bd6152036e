"""Rendering replies from ``templates/replies``: a text and an HTML version of each.

HTML templates (``*.html.j2``) are autoescaped: everything that came in an
email is hostile. Undefined variables raise, so a template never sends a
blank where a fact should be.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from consultant.codes.refs import release_name

EXPERT_MARKER = re.compile(r"\[expert:[^\]]*\]", re.I)


@dataclass(frozen=True)
class RenderedBody:
    text: str
    html: str
    template: str


def quote(text: str) -> str:
    """``text`` as an email quote: every line prefixed with ``> ``."""
    lines = text.strip("\n").splitlines() or [""]
    return "\n".join(f"> {line}".rstrip() for line in lines)


def paragraphs(text: str) -> Markup:
    """Plain text as escaped HTML paragraphs, quoted lines as a blockquote."""
    blocks = re.split(r"\n\s*\n", text.strip("\n"))
    html = []
    for block in blocks:
        lines = block.splitlines()
        if lines and all(line.startswith(">") for line in lines):
            inner = "<br>\n".join(escape(line[1:].removeprefix(" ")) for line in lines)
            html.append(f"<blockquote>{inner}</blockquote>")
        else:
            html.append("<p>" + "<br>\n".join(escape(line) for line in lines) + "</p>")
    return Markup("\n".join(html))


def cite(source: dict[str, Any] | None) -> str:
    """``[NCCI PTP edits (practitioner) v323r0, effective 2026-10-01]``: where a fact is from."""
    if not source:
        return ""
    return f"[{release_name(source)}, effective {source['effective']}]"


def item(text: str) -> Markup:
    """A text partial's line as the body of an HTML item: escaped, without its ``- ``.

    Inside an autoescaped template a filter block's body arrives as ``Markup``, though
    the text partial it includes escaped nothing: ``str`` drops that mark, so the text
    (an article title, an LCD's words) is escaped here.
    """
    return escape(str(text).strip().removeprefix("- "))


def series(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    items = [str(i) for i in items]
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def capitalize_first(text: str) -> str:
    """The first letter upper case, the rest as written (codes keep their case)."""
    return text[:1].upper() + text[1:]


def open_expert_markers(text: str) -> list[str]:
    """The ``[expert: ...]`` notes still in a draft; approval refuses to send while any remain."""
    return EXPERT_MARKER.findall(text)


class Renderer:
    """Renders ``replies/<name>.txt.j2`` and ``replies/<name>.html.j2`` with one context."""

    def __init__(self, templates_dir: Path) -> None:
        self.env = Environment(
            loader=FileSystemLoader(templates_dir),
            autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["quote"] = quote
        self.env.filters["paragraphs"] = paragraphs
        self.env.filters["cite"] = cite
        self.env.filters["release_name"] = release_name
        self.env.filters["series"] = series
        self.env.filters["item"] = item
        self.env.filters["capitalize_first"] = capitalize_first

    def render(self, name: str, **context: Any) -> RenderedBody:
        text = self.env.get_template(f"replies/{name}.txt.j2").render(**context)
        html = self.env.get_template(f"replies/{name}.html.j2").render(**context)
        return RenderedBody(text=text, html=html, template=name)

    def html_for_text(self, text: str) -> str:
        """The HTML version of a draft an expert wrote or edited as text."""
        return self.env.get_template("replies/edited.html.j2").render(text=text)
