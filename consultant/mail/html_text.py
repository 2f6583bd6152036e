"""HTML mail bodies turned into readable text (inscriptis keeps tables and lists laid out).

Layout pads. Each list level indents by four, each table cell is padded to its
column's width and each row to its tallest cell, and an inline style may ask
for 100,000 spaces: a megabyte of hostile HTML can ask for gigabytes. So the
tree is defused before layout: inline lengths are ignored, lists deeper than
``MAX_LIST_LEVELS`` are not indented further, and tables that together would
be padded beyond ``MAX_TABLE_CHARS``, or that hold more than ``MAX_TABLE_CELLS``
cells, are read one cell per line (as is any one-column table, which loses
nothing by it).
"""

from __future__ import annotations

import html as html_entities
import re
from typing import NamedTuple

from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.html_engine import Inscriptis
from inscriptis.html_properties import Display
from inscriptis.model.attribute import DEFAULT_ATTRIBUTE_MAP
from inscriptis.model.config import ParserConfig
from inscriptis.model.css import CssParse
from inscriptis.model.html_element import HtmlElement
from lxml.etree import LxmlError, ParserError
from lxml.html import HtmlElement as HtmlNode
from lxml.html import document_fromstring

MAX_LIST_LEVELS = 8
MAX_TABLE_CHARS = 1_000_000
MAX_TABLE_CELLS = 10_000
# What lxml and inscriptis raise on HTML they cannot read.
_CONVERTER_ERRORS = (
    LxmlError,
    ValueError,
    TypeError,
    LookupError,
    AttributeError,
    RecursionError,
    AssertionError,
)
_KEPT_STYLES = {"display", "white-space"}
_TABLE_TAGS = ("caption", "thead", "tbody", "tfoot", "tr", "td", "th")
_CELL_TAGS = ("td", "th")
_LINE_TAGS = ("br", "p", "div", "li", "tr", "pre", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6")
_XML_DECLARATION = re.compile(r"^<\?xml [^>]+?\?>")
_TAG = re.compile(r"<[^<>]*>")


class HtmlText(NamedTuple):
    text: str
    fallback: str | None = None  # why the tags were stripped instead of laid out, if they were
    limits: tuple[str, ...] = ()  # what was laid out more plainly than written, and why


def _style_without_lengths(style: str, element: HtmlElement) -> None:
    """Inline CSS as inscriptis reads it, but only ``display`` and ``white-space``."""
    kept = [d for d in style.split(";") if d.split(":", 1)[0].strip().lower() in _KEPT_STYLES]
    CssParse.attr_style(";".join(kept), element)


def _config() -> ParserConfig:
    """inscriptis's relaxed profile, but no inline lengths and no indent per ``div``.

    Mail nests divs for layout, not to indent: the relaxed profile's two
    spaces per div would shift a quoted thread ever further right.
    """
    css = {**CSS_PROFILES["relaxed"], "div": HtmlElement(display=Display.block)}
    config = ParserConfig(css=css, display_links=False, display_images=False)
    config.attribute_handler.attribute_mapping = {
        **DEFAULT_ATTRIBUTE_MAP,
        "style": _style_without_lengths,
    }
    return config


_CONFIG = _config()


def _tree(html: str) -> HtmlNode:
    """The document as inscriptis's own ``get_text`` parses it."""
    html = _XML_DECLARATION.sub("", html, count=1)
    try:
        return document_fromstring(html)
    except ParserError:
        return document_fromstring(f"<pre>{html}</pre>")


def _own(table: HtmlNode, *tags: str) -> list[HtmlNode]:
    """The ``tags`` elements of ``table`` itself, not of the tables inside it."""
    return [node for node in table.iter(*tags) if next(node.iterancestors("table")) is table]


def _flatten_deep_lists(tree: HtmlNode) -> bool:
    """Lists inside more than ``MAX_LIST_LEVELS`` lists become blocks; whether any did."""
    deep = [
        node
        for node in tree.iter("ul", "ol")
        if sum(1 for _ in node.iterancestors("ul", "ol")) >= MAX_LIST_LEVELS
    ]
    for node in deep:
        node.tag = "div"
    return bool(deep)


def _padded_size(table: HtmlNode) -> tuple[int, int, int]:
    """Columns, cells, and the characters inscriptis pads ``table`` to, from above.

    The sum of the rows' heights times the sum of the columns' widths, where
    a cell is as tall as its line-breaking elements and as wide as its text.
    """
    widths: list[int] = []
    height = cells = 0
    for row in _own(table, "tr"):
        row_cells = [node for node in row if node.tag in _CELL_TAGS]
        cells += len(row_cells)
        lines = [1 + sum(1 for _ in cell.iter(*_LINE_TAGS)) for cell in row_cells]
        height += max(lines, default=1)
        for column, cell in enumerate(row_cells):
            width = len(cell.text_content()) + 2
            if column == len(widths):
                widths.append(width)
            widths[column] = max(widths[column], width)
    return len(widths), cells, height * sum(widths)


def _flatten_large_tables(tree: HtmlNode) -> bool:
    """Tables beyond the layout budget, and one-column ones, read one cell per line.

    The budgets are for the whole document: a hundred tables just under them
    would together ask for a hundred times as much. Only a table's own rows and
    cells are flattened: a data table inside a layout table keeps its columns.
    Inner tables go first, so that an outer one is measured with its large
    inner ones already flattened. Returns whether a table was flattened for size.
    """
    laid_out = cells_laid_out = 0
    flattened_large = False
    for table in reversed(list(tree.iter("table"))):
        columns, cells, size = _padded_size(table)
        large = laid_out + size > MAX_TABLE_CHARS or cells_laid_out + cells > MAX_TABLE_CELLS
        if large or columns <= 1:
            for node in [table, *_own(table, *_TABLE_TAGS)]:
                node.tag = "div"
            flattened_large = flattened_large or large
        else:
            laid_out += size
            cells_laid_out += cells
    return flattened_large


def _defused(tree: HtmlNode) -> tuple[str, ...]:
    """Take the padding bombs out of ``tree``; say what is laid out more plainly."""
    limits = []
    if _flatten_deep_lists(tree):
        limits.append(f"HTML lists nested deeper than {MAX_LIST_LEVELS} levels: not indented")
    if _flatten_large_tables(tree):
        limits.append(
            f"HTML tables of more than {MAX_TABLE_CHARS:,} characters laid out "
            f"or {MAX_TABLE_CELLS:,} cells: read one cell per line"
        )
    return tuple(limits)


def _tidy(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.splitlines()).strip("\n") + "\n"


def _stripped(html: str) -> str:
    """Tags removed and entities decoded: crude, but it reads any HTML in linear time."""
    return _tidy(html_entities.unescape(_TAG.sub(" ", html)))


def html_to_text(html: str) -> HtmlText:
    """The visible text of ``html``; scripts and styles are dropped, entities decoded.

    lxml gives up on HTML nested deeper than 255 elements and inscriptis then
    finds no text at all; there, and where either raises, the tags are
    stripped instead so that the question's words are not lost.
    """
    if not html.strip():
        return HtmlText("")
    try:
        tree = _tree(html.strip())
        limits = _defused(tree)
        text = Inscriptis(tree, _CONFIG).get_text()
    except _CONVERTER_ERRORS as error:
        reason = f"HTML body unreadable by the HTML converter ({type(error).__name__})"
        return HtmlText(_stripped(html), f"{reason}: tags stripped instead")
    if text.strip():
        return HtmlText(_tidy(text), limits=limits)
    stripped = _stripped(html)
    if stripped.strip():
        return HtmlText(stripped, "HTML converter found no text: tags stripped instead")
    return HtmlText("")
