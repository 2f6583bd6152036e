"""Template helpers of the web pages: sizes, our own HTML made safe, links to code pages."""

from __future__ import annotations

from flask import Flask, url_for
from markupsafe import Markup, escape
from werkzeug.routing import BuildError

from consultant.mail.message_parts import safe_html


def filesize(size: int | None) -> str:
    if size is None:
        return "size unknown"
    for unit in ("bytes", "KB", "MB"):
        if size < 1024 or unit == "MB":
            return f"{size:,} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return f"{size} bytes"


def sanitized(html: str | None) -> Markup:
    """HTML we rendered (a draft's HTML version), passed through the sanitiser all the same."""
    return Markup(safe_html(html or ""))


def code_link(code: str) -> Markup:
    """A code as a link to its code page (plain text while no code pages are served)."""
    try:
        target = url_for("codes.show", code=code)
    except BuildError:
        return Markup(escape(code))
    return Markup('<a class="code" href="{}">{}</a>').format(target, code)


def init_app(app: Flask) -> None:
    app.add_template_filter(filesize)
    app.add_template_filter(sanitized)
    app.add_template_global(code_link)
