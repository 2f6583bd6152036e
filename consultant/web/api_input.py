"""Reading an API request: query parameters and JSON bodies, checked as the OpenAPI
document states them. Anything else is a 400 that names the parameter, never a value
quietly read as some default: a script with a typo hears about it."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import request
from werkzeug.exceptions import BadRequest

from consultant.cases.review_errors import CaseNotFound
from consultant.codes.search import CodeSet
from consultant.web import openapi
from consultant.web.case_page import REFERENCE

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def bad_request(message: str) -> BadRequest:
    return BadRequest(description=message)


def reference(value: str) -> str:
    """A case reference from the path, upper-cased; a malformed one names no case (404)."""
    upper = value.upper()
    if not REFERENCE.match(upper):
        raise CaseNotFound(f"no case {value[:40]!r}: references look like CC-000123")
    return upper


def unknown_parameters(path: str, method: str) -> list[str]:
    """The query parameters the document does not name for ``method`` on ``path``."""
    return sorted(set(request.args) - openapi.query_parameters(path, method))


def arg(name: str, default: str = "", *, may_be_empty: bool = False) -> str:
    """Query parameter ``name`` (``default`` when absent). Given but empty is refused, as
    for any other value the parameter cannot take, unless it ``may_be_empty``."""
    value = request.args.get(name)
    if value is None:
        return default
    if not value and not may_be_empty:
        raise bad_request(f"{name} is empty; leave it out for the default")
    if "\x00" in value:
        raise bad_request(f"{name} holds a NUL character")
    return value


def search_text() -> str:
    """``q``: longer than the searches read is refused, not cut short silently."""
    value = arg("q", may_be_empty=True)
    if len(value) > openapi.MAX_QUERY_CHARS:
        raise bad_request(f"q may have at most {openapi.MAX_QUERY_CHARS} characters")
    return value


def flag(name: str) -> bool:
    value = arg(name, "false")
    if value not in ("true", "false"):
        raise bad_request(f"{name} must be true or false")
    return value == "true"


def choice(name: str, allowed: tuple[str, ...]) -> str | None:
    value = arg(name) or None
    if value is not None and value not in allowed:
        raise bad_request(f"{name} must be one of {', '.join(allowed)}")
    return value


def _whole(name: str, default: int, highest: int) -> int:
    value = arg(name)
    if not value:
        return default
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= highest:
        raise bad_request(f"{name} must be a whole number from 1 to {highest:,}")
    return int(value)


def paging() -> tuple[int, int]:
    """``page`` (1-based) and ``per_page``."""
    page = _whole("page", 1, openapi.MAX_PAGE)
    return page, _whole("per_page", openapi.DEFAULT_PER_PAGE, openapi.MAX_PER_PAGE)


def on() -> date | None:
    """``on=YYYY-MM-DD`` (None when absent: the lookups take today)."""
    value = arg("on")
    if not value:
        return None
    try:
        if not DATE.match(value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise bad_request(f"on must be a date as YYYY-MM-DD, not {value[:40]!r}") from None


def body(*, optional: bool = False) -> dict[str, Any]:
    """The request's JSON object (``{}`` for an empty body when ``optional``)."""
    if optional and not request.get_data(cache=True):
        return {}
    if not request.is_json:
        raise bad_request("send the body as JSON, with 'Content-Type: application/json'")
    found = request.get_json(silent=True)
    if not isinstance(found, dict):
        raise bad_request("the body must be a JSON object")
    return found


def text(fields: dict[str, Any], name: str) -> str:
    value = fields.get(name)
    if not isinstance(value, str):
        raise bad_request(f"{name} is required and must be a string")
    return value


def optional_text(fields: dict[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value is not None and not isinstance(value, str):
        raise bad_request(f"{name} must be a string or null")
    return value


def version(fields: dict[str, Any], name: str) -> int:
    """A draft version number: a JSON integer (not a string, not true) from 1."""
    value = fields.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"{name} is required and must be the draft version (a whole number)")
    if not 1 <= value <= openapi.MAX_VERSION:
        raise bad_request(f"{name} must be from 1 to {openapi.MAX_VERSION}")
    return value


def boolean(fields: dict[str, Any], name: str) -> bool:
    value = fields.get(name, False)
    if not isinstance(value, bool):
        raise bad_request(f"{name} must be true or false")
    return value


def limited(name: str, longest: int) -> str | None:
    """A text parameter of at most ``longest`` characters (None when absent)."""
    value = arg(name) or None
    if value is not None and len(value) > longest:
        raise bad_request(f"{name} may have at most {longest} characters")
    return value


def matching(name: str, pattern: str, what: str) -> str | None:
    """A parameter that must match ``pattern`` whole (None when absent)."""
    value = arg(name) or None
    if value is not None and not re.fullmatch(pattern, value):
        raise bad_request(f"{name} must be {what}, not {value[:40]!r}")
    return value


def _repeated(name: str, limit: int, pattern: str, what: str) -> list[str]:
    """A query parameter given once per value, each matching ``pattern``."""
    found = request.args.getlist(name)
    if len(found) > limit:
        raise bad_request(f"{name} may be given at most {limit} times")
    for value in found:
        if not re.fullmatch(pattern, value):
            raise bad_request(f"{name} must be {what}, not {value[:40]!r}")
    return found


def diagnoses() -> list[str]:
    """``dx``, repeated: ICD-10-CM codes, with or without their dot."""
    return _repeated(
        "dx", openapi.MAX_DIAGNOSES, openapi.DIAGNOSIS_PATTERN, "an ICD-10-CM code such as M17.11"
    )


def code_sets() -> frozenset[CodeSet]:
    """``set``, repeated: the code sets a code search is limited to (none: all of them)."""
    pattern = "|".join(re.escape(value) for value in CodeSet)
    found = _repeated("set", len(CodeSet), pattern, "one of " + ", ".join(CodeSet))
    return frozenset(CodeSet(value) for value in found)


def macs() -> tuple[str, ...]:
    """``mac``, repeated: Medicare contractor numbers (a Part B and a DME MAC can differ)."""
    return tuple(
        _repeated(
            "mac", openapi.MAX_MACS, openapi.MAC_PATTERN, "a contractor number of five digits"
        )
    )
