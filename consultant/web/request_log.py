"""Every log line made while answering a request about a case names that case.

A route with a ``<reference>`` (the case pages and the API's case routes)
runs inside ``logs.bound(case=…)``: the approval's send, a refused stale
save and an error deep in a service all say which case they were about.
The reference is only that text as it came in the URL, never a subject.
"""

from __future__ import annotations

import re
from contextlib import ExitStack

from flask import Flask, g, request

from consultant.logs import bound

# A case reference as ``format_reference`` makes it; anything else in the URL is not logged.
_REFERENCE = re.compile(r"[A-Z][A-Z0-9]{0,9}-\d{6,12}")


def install(app: Flask) -> None:
    app.before_request(_enter)
    app.teardown_request(_leave)


def _enter() -> None:
    reference = (request.view_args or {}).get("reference")
    if isinstance(reference, str) and _REFERENCE.fullmatch(reference):
        g.log_scope = ExitStack()
        g.log_scope.enter_context(bound(case=reference))


def _leave(_: BaseException | None) -> None:
    scope = g.pop("log_scope", None)
    if scope is not None:
        scope.close()
