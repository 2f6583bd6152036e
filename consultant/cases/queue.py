"""The review queue: which cases, in which order, a page at a time, with counts per status.

The web queue, ``consultant cases list`` and the API all ask this one
service. Oldest waiting first in the views of unfinished work, newest first
in the others, best match first when searching; every other order is one
of ``SORTS`` either way. A page is one query for its rows (the columns a
row shows, never drafts or messages) and one for the counts per status
under the same filters, so the tabs say how many each status holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, literal, or_, select, union
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.functions import FunctionElement

from config import Settings
from consultant.analysis.model import TOPICS
from consultant.analysis.phi import redact
from consultant.cases import search
from consultant.cases.sla import Sla, current_sla, describe_due
from consultant.models import Case, CaseStatus, User, utcnow

S = CaseStatus
OPEN_STATUSES = (S.AWAITING_REVIEW, S.FAILED)
# Cases still waiting for their reply: the SLA runs for these.
SLA_STATUSES = (S.AWAITING_REVIEW, S.FAILED)
LIFECYCLE_ORDER = tuple(S)
VIEWS: dict[str, tuple[str, ...]] = {
    "open": OPEN_STATUSES,
    **{str(s): (s,) for s in S},
    "all": (),
}
# Views of finished work list the newest first; the rest, the oldest waiting first.
NEWEST_FIRST_VIEWS = frozenset({"all", S.SENT, S.REJECTED, S.IGNORED})
SORTS = ("age", "due", "requester", "status", "assignee", "relevance")
# The direction each sort starts in: oldest, soonest due, A to Z, lifecycle, best match.
NATURALLY_DESCENDING = frozenset({"age", "relevance"})
DEFAULT_LIMIT = 50
CODE = re.compile(r"^[A-Z0-9][A-Z0-9.\-]{0,15}$")


class QueueError(ValueError):
    """Raised for a view, sort or filter value the queue does not know (the message says which)."""


@dataclass(frozen=True)
class QueueFilter:
    """Which cases: a view (``open``, ``all`` or a status) and the filters, all of which hold."""

    status: str = "open"
    mine: bool = False  # assigned to or claimed by the viewer
    unassigned: bool = False
    claimed: bool = False  # a claim in force
    overdue: bool = False
    phi: bool = False
    attachments: bool = False
    topic: str = ""
    code: str = ""
    q: str = ""
    desk: str = ""  # one desk's cases (config.desks)
    desks: frozenset[str] | None = None  # the desks the viewer may see; None: all

    def __post_init__(self) -> None:
        if self.status not in VIEWS:
            raise QueueError(f"no view {self.status!r}; one of {', '.join(VIEWS)}")
        topic, code = self.topic.strip().lower(), self.code.strip().upper()
        if topic and topic not in TOPICS:
            raise QueueError(f"no topic {self.topic!r}; one of {', '.join(TOPICS)}")
        if code and not CODE.match(code):
            raise QueueError(f"{self.code!r} is not a code (letters, digits, '.' and '-')")
        object.__setattr__(self, "topic", topic)
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "q", " ".join(self.q.split())[: search.MAX_QUERY_CHARS])

    @property
    def searching(self) -> bool:
        return search.has_terms(self.q)


@dataclass(frozen=True)
class QueueOrder:
    """A sort key of ``SORTS`` ("" for the view's default) and its direction (None: natural)."""

    key: str = ""
    descending: bool | None = None

    def __post_init__(self) -> None:
        if self.key and self.key not in SORTS:
            raise QueueError(f"no sort {self.key!r}; one of {', '.join(SORTS)}")

    def resolved(self, filters: QueueFilter) -> tuple[str, bool]:
        """The key and direction in force for ``filters``."""
        key = self.key
        if key == "relevance" and not filters.searching:
            key = ""
        if not key:
            if filters.searching:
                return "relevance", True
            return "age", filters.status not in NEWEST_FIRST_VIEWS
        natural = key in NATURALLY_DESCENDING
        return key, natural if self.descending is None else self.descending


@dataclass(frozen=True)
class QueueRow:
    """One case as a list shows it: plain values, the subject without PHI."""

    reference: str
    status: str
    subject: str
    desk: str
    requester_name: str | None
    requester_address: str | None
    phi_flagged: bool
    assignee: str | None
    claimed_by: str | None  # only while the claim is in force
    claimed_at: datetime | None
    waiting_since: datetime
    updated_at: datetime
    age: timedelta
    attachment_count: int
    codes: tuple[str, ...]
    topics: tuple[str, ...]
    due: datetime | None  # for cases the SLA runs for
    overdue: bool
    sla: str  # "due in 3 h", "overdue by 2 h", or "" when no SLA runs

    def as_json(self) -> dict[str, object]:
        return {
            "reference": self.reference,
            "status": self.status,
            "subject": self.subject,
            "desk": self.desk,
            "requester": self.requester_address,
            "requester_name": self.requester_name,
            "phi_flagged": self.phi_flagged,
            "assignee": self.assignee,
            "claimed_by": self.claimed_by,
            "claimed_at": self.claimed_at.isoformat() if self.claimed_at else None,
            "waiting_since": self.waiting_since.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "attachments": self.attachment_count,
            "codes": list(self.codes),
            "topics": list(self.topics),
            "due_at": self.due.isoformat() if self.due else None,
            "overdue": self.overdue,
        }


@dataclass(frozen=True)
class QueuePage:
    """A page of the queue: its rows, where it stands in the whole, and the counts per view."""

    rows: list[QueueRow]
    total: int
    offset: int
    limit: int | None
    counts: dict[str, int]
    sort: str
    descending: bool
    sla: Sla
    now: datetime
    filters: QueueFilter = field(default_factory=QueueFilter)

    @property
    def first(self) -> int:
        """The position of the first row (1-based), 0 when the page is empty."""
        return self.offset + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.offset + len(self.rows)

    def describe(self) -> str:
        """``1-50 of 1,234`` with an en dash (``0 of 0`` when nothing matches)."""
        if not self.rows:
            return f"0 of {self.total:,}"
        return f"{self.first:,}\u2013{self.last:,} of {self.total:,}"


class _NotFromIndex(FunctionElement[datetime]):
    """A column no index may give the order of: ``+column`` on SQLite, ``coalesce(column,
    column)`` on PostgreSQL; the same values, an expression no index is on."""

    inherit_cache = True
    name = "not_from_index"


@compiles(_NotFromIndex)
def _column(element: _NotFromIndex, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"coalesce({column}, {column})"


@compiles(_NotFromIndex, "sqlite")
def _sqlite_column(element: _NotFromIndex, compiler: Any, **kw: Any) -> str:
    return "+" + str(compiler.process(element.clauses, **kw))


def _contains_word(column: ColumnElement[str], word: str) -> ColumnElement[bool]:
    """``word`` is one of the space-separated words of ``column`` (words hold no wildcards)."""
    return (literal(" ") + column + literal(" ")).like(f"% {word} %")


def _conditions(
    filters: QueueFilter, viewer: str | None, now: datetime, sla: Sla, dialect: str
) -> list[ColumnElement[bool]]:
    """The filters as SQL, the view's statuses aside (the counts are per status)."""
    conditions: list[ColumnElement[bool]] = []
    if filters.mine:
        if not viewer:
            raise QueueError("'mine' needs to know who is asking")
        me = select(User.id).where(User.email == viewer.strip().lower()).scalar_subquery()
        if dialect == "postgresql":  # reads both indexes and ORs the bitmaps
            conditions.append(or_(Case.assignee_id == me, Case.claimed_by == viewer))
        else:  # SQLite reads the whole table for that OR when counting per status
            assigned, claimed = aliased(Case), aliased(Case)
            mine = union(
                select(assigned.id).where(assigned.assignee_id == me),
                select(claimed.id).where(claimed.claimed_by == viewer),
            )
            conditions.append(Case.id.in_(mine))
    if filters.unassigned:
        conditions.append(Case.assignee_id.is_(None))
    if filters.claimed:
        conditions += [Case.claimed_by.is_not(None), Case.claim_expires_at > now]
    if filters.overdue:
        conditions += [Case.status.in_(SLA_STATUSES), Case.waiting_since <= sla.overdue_since(now)]
    if filters.phi:
        conditions.append(Case.phi_flagged.is_(True))
    if filters.attachments:
        conditions.append(Case.attachment_count > 0)
    if filters.topic:
        conditions.append(_contains_word(Case.topics, filters.topic))
    if filters.code:
        conditions.append(_contains_word(Case.codes, filters.code))
    if filters.desk:
        conditions.append(Case.desk == filters.desk)
    if filters.desks is not None:
        conditions.append(Case.desk.in_(filters.desks))
    return conditions


def _by_waiting(oldest_first: bool, by_status: bool) -> list[ColumnElement[Any]]:
    """Waiting time, the id breaking ties in the same direction (so ``ix_case_waiting``
    serves the order read either way).

    ``by_status``: the cases are of a few statuses (open work), best found by
    status and sorted. The databases are then kept from the waiting-time index:
    left to themselves, both walk it from the oldest case of all, through a year
    of finished ones, to the first open one (80 ms at 100,000 cases).
    """
    waiting: ColumnElement[datetime] = Case.waiting_since
    if by_status:
        waiting = _NotFromIndex(Case.waiting_since)
    if oldest_first:
        return [waiting.asc(), Case.id.asc()]
    return [waiting.desc(), Case.id.desc()]


def _order(
    key: str, descending: bool, rank: ColumnElement[float] | None, by_status: bool = False
) -> list[Any]:
    """ORDER BY for ``key``; ties go to the longest waiting, then the first made."""
    tie = _by_waiting(oldest_first=True, by_status=by_status)
    if key == "age":  # the age grows as waiting_since goes back
        return _by_waiting(oldest_first=descending, by_status=by_status)
    if key == "due":
        # The due time grows with waiting_since; cases no SLA runs for come last either way.
        no_sla = case((Case.status.in_(SLA_STATUSES), 0), else_=1)
        return [no_sla, *_by_waiting(oldest_first=not descending, by_status=by_status)]
    if key == "requester":
        name = func.lower(func.coalesce(Case.requester_name, Case.requester_address, ""))
        return [name.desc() if descending else name.asc(), *tie]
    if key == "status":
        position = case(
            {str(s): index for index, s in enumerate(LIFECYCLE_ORDER)}, value=Case.status
        )
        return [position.desc() if descending else position.asc(), *tie]
    if key == "assignee":
        email = select(User.email).where(User.id == Case.assignee_id).scalar_subquery()
        # Unassigned cases come last either way.
        return [email.is_(None), email.desc() if descending else email.asc(), *tie]
    assert key == "relevance" and rank is not None
    return [rank.desc() if descending else rank.asc(), *tie]


ROW_COLUMNS = (
    Case.reference,
    Case.status,
    Case.subject,
    Case.desk,
    Case.requester_name,
    Case.requester_address,
    Case.phi_flagged,
    Case.claimed_by,
    Case.claimed_at,
    Case.claim_expires_at,
    Case.waiting_since,
    Case.created_at,
    Case.updated_at,
    Case.attachment_count,
    Case.codes,
    Case.topics,
)


def _rows_query(
    conditions: list[ColumnElement[bool]],
    matches: Select[tuple[int, float]] | None,
    key: str,
    descending: bool,
    offset: int,
    limit: int | None,
    by_status: bool,
) -> Select[Any]:
    """The page's rows: first the ids of the page, sorted and cut on narrow rows (from an
    index where the order allows), then the columns of those few cases only."""
    ids = select(Case.id.label("id")).where(*conditions)
    rank = None
    if matches is not None:
        found = matches.subquery("found")
        ids = ids.join(found, found.c.case_id == Case.id).add_columns(found.c.rank)
        rank = found.c.rank
    ids = ids.order_by(*_order(key, descending, rank, by_status)).offset(offset)
    if limit is not None:
        ids = ids.limit(limit)
    page = ids.subquery("page")
    assignee = select(User.email).where(User.id == Case.assignee_id).scalar_subquery()
    return (
        select(*ROW_COLUMNS, assignee.label("assignee"))
        .join(page, page.c.id == Case.id)
        .order_by(*_order(key, descending, page.c.rank if rank is not None else None))
    )


def _counts(
    session: Session,
    conditions: list[ColumnElement[bool]],
    matches: Select[tuple[int, float]] | None,
) -> dict[str, int]:
    """How many cases each view holds under the filters."""
    query = select(Case.status, func.count()).where(*conditions).group_by(Case.status)
    if matches is not None:
        found = matches.subquery("found")
        query = query.join(found, found.c.case_id == Case.id)
    per_status: dict[str, int] = {str(status): n for status, n in session.execute(query).all()}
    return {
        view: sum(n for status, n in per_status.items() if not statuses or status in set(statuses))
        for view, statuses in VIEWS.items()
    }


def _row(values: dict[str, object], sla: Sla, now: datetime) -> QueueRow:
    waiting = values["waiting_since"] or values["created_at"]
    assert isinstance(waiting, datetime)
    expires = values["claim_expires_at"]
    claim_holds = bool(values["claimed_by"]) and isinstance(expires, datetime) and expires > now
    due = sla.due(waiting) if values["status"] in SLA_STATUSES else None
    return QueueRow(
        reference=str(values["reference"]),
        status=str(values["status"]),
        subject=redact(str(values["subject"] or "")),
        desk=str(values["desk"]),
        requester_name=values["requester_name"],  # type: ignore[arg-type]
        requester_address=values["requester_address"],  # type: ignore[arg-type]
        phi_flagged=bool(values["phi_flagged"]),
        assignee=values["assignee"],  # type: ignore[arg-type]
        claimed_by=values["claimed_by"] if claim_holds else None,  # type: ignore[arg-type]
        claimed_at=values["claimed_at"] if claim_holds else None,  # type: ignore[arg-type]
        waiting_since=waiting,
        updated_at=values["updated_at"],  # type: ignore[arg-type]
        age=max(now - waiting, timedelta(0)),
        attachment_count=int(values["attachment_count"] or 0),  # type: ignore[call-overload]
        codes=tuple(str(values["codes"] or "").split()),
        topics=tuple(str(values["topics"] or "").split()),
        due=due,
        overdue=due is not None and due <= now,
        sla=describe_due(due, now) if due is not None else "",
    )


def queue_counts(
    session: Session,
    settings: Settings,
    filters: QueueFilter | None = None,
    *,
    viewer: str | None = None,
    now: datetime | None = None,
) -> dict[str, int]:
    """How many cases each view (``VIEWS``) holds under ``filters``, without listing any."""
    filters = filters or QueueFilter()
    now = now or utcnow()
    conditions = _conditions(
        filters, viewer, now, current_sla(session, settings), session.get_bind().dialect.name
    )
    return _counts(session, conditions, search.matches(session, filters.q))


def queue_page(
    session: Session,
    settings: Settings,
    filters: QueueFilter | None = None,
    order: QueueOrder | None = None,
    *,
    offset: int = 0,
    limit: int | None = DEFAULT_LIMIT,
    viewer: str | None = None,
    now: datetime | None = None,
) -> QueuePage:
    """The cases of ``filters`` in ``order``, ``limit`` of them from ``offset`` (None: all).

    ``viewer`` is who asks (an email), for "mine". Raises QueueError for an
    unknown view, sort or filter value.
    """
    filters = filters or QueueFilter()
    order = order or QueueOrder()
    if offset < 0 or (limit is not None and limit < 1):
        raise QueueError("the offset must be 0 or more and the limit 1 or more")
    now = now or utcnow()
    sla = current_sla(session, settings)
    conditions = _conditions(filters, viewer, now, sla, session.get_bind().dialect.name)
    matches = search.matches(session, filters.q)
    counts = _counts(session, conditions, matches)
    key, descending = order.resolved(filters)
    statuses = VIEWS[filters.status]
    view = [Case.status.in_(statuses)] if statuses else []
    by_status = len(statuses) > 1 or filters.overdue
    query = _rows_query([*conditions, *view], matches, key, descending, offset, limit, by_status)
    rows = [_row(dict(r._mapping), sla, now) for r in session.execute(query)]
    return QueuePage(
        rows=rows,
        total=counts[filters.status],
        offset=offset,
        limit=limit,
        counts=counts,
        sort=key,
        descending=descending,
        sla=sla,
        now=now,
        filters=filters,
    )
