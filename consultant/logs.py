"""Log lines that say which case they are about, as text or as JSON, in every process.

Work on a message or a reply runs inside ``bound(inbound=…)`` or
``bound(outbound=…)``; once the work knows its case it calls
``note(case="CC-000123")``. Every record made meanwhile, by this project's
loggers or a library's, carries ``case`` (``-`` when there is none),
``inbound``, ``outbound`` and ``task``, because the fields are added where
records are made (the log record factory), not by one handler: Celery's, the
web server's and pytest's handlers see them too. With
``CONSULTANT_LOG_FORMAT=json`` each line is one JSON object for a log
pipeline to index; subjects, addresses and text never go into these fields.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal

from pythonjsonlogger.json import JsonFormatter

LogFormat = Literal["text", "json"]
FIELDS = ("case", "inbound", "outbound", "task")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s case=%(case)s: %(message)s"
JSON_FIELDS = (
    "%(asctime)s %(levelname)s %(name)s %(case)s %(inbound)s %(outbound)s %(task)s %(message)s"
)
JSON_NAMES = {"asctime": "time", "levelname": "level", "name": "logger"}

# The enclosing ``bound`` blocks, outermost first; each a dict of its fields.
_scopes: ContextVar[tuple[dict[str, Any], ...]] = ContextVar("consultant_log_scopes", default=())


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Add ``fields`` to every record made inside the block (this thread or task only)."""
    token = _scopes.set((*_scopes.get(), dict(fields)))
    try:
        yield
    finally:
        _scopes.reset(token)


def note(**fields: Any) -> None:
    """Add ``fields`` to every enclosing ``bound`` block: the case, once the work knows it.

    The enclosing blocks keep it after the inner one ends, so that a Celery
    task's closing line ("succeeded in 0.02 s") names the case its job found.
    Outside any block it does nothing: nothing lingers on a worker thread.
    """
    for scope in _scopes.get():
        scope.update(fields)


def current() -> dict[str, Any]:
    """The fields in force here, inner blocks over outer ones."""
    merged: dict[str, Any] = {}
    for scope in _scopes.get():
        merged.update(scope)
    return merged


def _with_context(base: Any) -> Any:
    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = base(*args, **kwargs)
        context = current()
        for name in FIELDS:
            setattr(record, name, context.get(name))
        if record.case is None:
            record.case = "-"
        return record

    make_record.consultant_context = True  # type: ignore[attr-defined]
    return make_record


def install_context() -> None:
    """Make every log record carry the context's fields (once per process)."""
    base = logging.getLogRecordFactory()
    if not getattr(base, "consultant_context", False):
        logging.setLogRecordFactory(_with_context(base))


def formatter(log_format: LogFormat) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter(JSON_FIELDS, rename_fields=JSON_NAMES, datefmt="%Y-%m-%dT%H:%M:%S%z")
    return logging.Formatter(TEXT_FORMAT)


def configure_logging(
    level: str, log_format: LogFormat, debug: str = "", stream: Any = None
) -> None:
    """The root logger of this process: one handler on stderr in ``log_format``.

    Where the root logger has handlers already (an embedding host, pytest) they
    are kept and only the record fields are added. ``debug``: comma-separated
    logger names logged at DEBUG whatever ``level`` says.
    """
    for name in filter(None, (part.strip() for part in debug.split(","))):
        logging.getLogger(name).setLevel(logging.DEBUG)
    install_context()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(log_format))
    logging.basicConfig(level=level.upper(), handlers=[handler])
