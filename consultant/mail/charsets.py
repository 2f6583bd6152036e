"""Decode the bytes of a part or header strictly, in the first character set that fits."""

from __future__ import annotations

import codecs
import re

FALLBACK_CHARSETS = ("utf-8", "cp1252")
# Codecs that are no character set: decoding with them invents text, and
# punycode takes seconds on a megabyte. A part declaring one reads as undeclared.
NOT_CHARSETS = {"punycode", "idna", "unicode-escape", "raw-unicode-escape"}

_SURROGATE = re.compile("[\ud800-\udfff]")
_STRAY_SURROGATES = re.compile("[\ud800-\udc7f\udd00-\udfff]+")  # not an escaped 8-bit byte


def _decode_as(payload: bytes, charset: str, cut: bool) -> str:
    """``payload`` decoded strictly; when ``cut``, a character split at the end is dropped."""
    try:
        return payload.decode(charset)
    except UnicodeDecodeError as error:
        if cut and error.end == len(payload) and error.start > 0:
            return payload[: error.start].decode(charset)
        raise


def decode_bytes(payload: bytes, declared: str | None = None, *, cut: bool = False) -> str:
    """``payload`` in the first charset that decodes it strictly: declared, UTF-8, cp1252.

    latin-1 decodes any byte, so the result is always text. It holds no
    surrogate escapes; a lone surrogate that a codec itself produces (UTF-7
    can) is removed by the cleaning of headers and text.
    """
    for charset in (declared, *FALLBACK_CHARSETS):
        if not charset:
            continue
        try:
            if codecs.lookup(charset).name not in NOT_CHARSETS:
                return _decode_as(payload, charset, cut)
        except (LookupError, UnicodeError, ValueError, TypeError):
            continue
    return payload.decode("latin-1")


def decode_8bit(value: str) -> str:
    """``value`` with raw 8-bit bytes (kept by ``email`` as surrogate escapes) decoded.

    A header such as ``From: José <...>`` written in Latin-1 without encoded
    words parses to a string with lone surrogates, which neither PostgreSQL
    nor SQLite accepts: storing it would fail the whole message.
    """
    if not _SURROGATE.search(value):
        return value
    value = _STRAY_SURROGATES.sub(" ", value)
    return decode_bytes(value.encode("utf-8", "surrogateescape"))
