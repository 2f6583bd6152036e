"""The CMS/CDC "order file" layout shared by ICD-10-CM and ICD-10-PCS.

Each line is fixed width: columns 1-5 the order number, 7-13 the code
(without a dot, left-justified), 15 a flag (0 header, 1 valid on a claim),
17-76 the short title, 78 onward the long title. Copies made for tests carry
comment lines starting with ``#``; the official files have none, so skipping
them costs nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from consultant.codes.sources import CodeImportError, SourceFile

# What a data line starts with: order number, code, flag.
LAYOUT = re.compile(r"^\d{5} [0-9A-Z ]{7} [01] ")
_CODE = re.compile(r"^[0-9A-Z]{3,7}$")
# The order file's name inside a CMS zip (which also holds the addenda and the codes file).
ORDER_NAME = r"order[-_](?!addenda)[^/]*\.txt$"
MEMBER = re.compile(ORDER_NAME, re.IGNORECASE)


@dataclass(frozen=True)
class OrderLine:
    line: int
    code: str
    billable: bool
    short: str
    long: str


def _text(line: str) -> str:
    """The line as UTF-8 when it is (re-serialised copies), as read (latin-1) otherwise."""
    try:
        return line.encode("latin-1").decode("utf-8")
    except UnicodeDecodeError:
        return line


def parse_line(source: str, number: int, line: str) -> OrderLine:
    """One data line, or CodeImportError saying which part of the layout it breaks."""
    if len(line) < 78 or not LAYOUT.match(line):
        raise CodeImportError(
            source,
            "not an order-file line (expected: 5-digit order number, code in columns 7-13, "
            f"flag 0/1 in column 15, titles from columns 17 and 78): {line[:40]!r}",
            number,
        )
    code = line[6:13].strip()
    if not _CODE.match(code):
        raise CodeImportError(source, f"code {line[6:13]!r} is not 3 to 7 letters/digits", number)
    long = line[77:].strip()
    if not long:
        raise CodeImportError(source, f"code {code} has no long title (column 78 on)", number)
    return OrderLine(number, code, line[14] == "1", _text(line[16:76].strip()), _text(long))


def read_order_file(source: SourceFile) -> Iterator[OrderLine]:
    """Every data line of an order file, skipping blank and comment lines."""
    for number, raw in source.lines("latin-1"):
        line = raw.rstrip()
        if line and not line.startswith("#"):
            yield parse_line(source.name, number, line)


def looks_like_order_file(head: str) -> bool:
    """Whether the first data line of ``head`` (the start of a file) has the layout."""
    for line in head.splitlines():
        if line.strip() and not line.startswith("#"):
            return bool(LAYOUT.match(line))
    return False
