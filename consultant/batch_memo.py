"""Remembering what a batch reads again and again, for as long as the batch runs.

Processing a batch of mail reads the same few things for every message: the
admins' sender rules, the unknown-senders policy, the enabled guidance
notes, the plain-language descriptions of the codes the mail names. Inside
``remembered()`` a reader asks ``memo(key, load)`` and ``load`` runs once;
outside it (a web request, an admin's change) every call reads afresh. A
batch takes well under a second, and what it remembers is what was in force
when it began, as if the batch were one message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")
_remembered: ContextVar[dict[Any, Any] | None] = ContextVar("batch_memo", default=None)


@contextmanager
def remembered() -> Iterator[None]:
    """Remember what ``memo`` loads until the block ends (this thread or task only)."""
    token = _remembered.set({})
    try:
        yield
    finally:
        _remembered.reset(token)


def remembering() -> bool:
    """True inside ``remembered()``: a reader may load more at once, to be asked less."""
    return _remembered.get() is not None


def memo(key: Any, load: Callable[[], T]) -> T:
    """``load()``, run once per ``key`` inside ``remembered()``, every time outside it."""
    cache = _remembered.get()
    if cache is None:
        return load()
    if key not in cache:
        cache[key] = load()
    return cache[key]  # type: ignore[no-any-return]
