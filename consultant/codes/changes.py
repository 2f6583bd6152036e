"""What changed between two releases of a code set: the codes added, deleted and revised.

The quarterly HCPCS update and the October ICD-10-CM update change a few
hundred codes out of tens of thousands, so the comparison runs in SQL on the
``(release_id, code)`` key and only the changed rows reach Python. A code
counts in a release when it is listed and not terminated before the release
takes effect: the HCPCS file keeps a discontinued code listed, with its
termination date, and that is its deletion.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from consultant.codes.readonly import Reader
from consultant.codes.refs import KIND_LABELS, ReleaseRef, as_day, read_releases

# The code sets whose releases can be compared, and what each calls a code that may be
# reported on its own (HCPCS and CPT list only such codes: they have no flag).
KINDS = ("icd10cm", "icd10pcs", "hcpcs", "cpt")
FLAG = {"icd10cm": "billable", "icd10pcs": "valid"}
CHANGES = ("added", "deleted", "revised")

_LIVE = "({0}.terminated IS NULL OR {0}.terminated >= ?)"
_ADDED = (
    "SELECT b.code, b.long_description, b.short_description, b.billable, b.terminated "
    "FROM code_entry b LEFT JOIN code_entry a "
    f"ON a.release_id = ? AND a.code = b.code AND {_LIVE.format('a')} "
    f"WHERE b.release_id = ? AND {_LIVE.format('b')} AND a.code IS NULL ORDER BY b.code"
)
_DELETED = (
    "SELECT a.code, a.long_description, a.short_description, a.billable, b.terminated "
    "FROM code_entry a LEFT JOIN code_entry b ON b.release_id = ? AND b.code = a.code "
    f"WHERE a.release_id = ? AND {_LIVE.format('a')} "
    "AND (b.code IS NULL OR b.terminated < ?) ORDER BY a.code"
)
_REVISED = (
    "SELECT b.code, b.long_description, a.long_description, b.short_description, "
    "a.short_description, b.billable, a.billable, b.terminated, a.terminated "
    "FROM code_entry b JOIN code_entry a ON a.release_id = ? AND a.code = b.code "
    f"WHERE b.release_id = ? AND {_LIVE.format('a')} AND {_LIVE.format('b')} "
    "AND (a.long_description <> b.long_description "
    "OR a.short_description <> b.short_description "  # only where both releases have one
    "OR (a.terminated IS NULL) <> (b.terminated IS NULL) OR a.terminated <> b.terminated"
    "{flag}) ORDER BY b.code"
)


class NotComparable(ValueError):
    """The releases asked for cannot be compared; the message says why."""


@dataclass(frozen=True)
class Change:
    """One code that changed: the later release's values, and the earlier ones that differ."""

    change: str  # added, deleted, revised
    code: str
    description: str  # the later release's; for a deleted code, the earlier one's
    previous_description: str | None = None
    short_description: str | None = None
    previous_short_description: str | None = None
    flag: bool | None = None  # billable (ICD-10-CM) or valid (ICD-10-PCS)
    previous_flag: bool | None = None
    terminated: str | None = None  # a deleted code still listed: the date it ended
    previous_terminated: str | None = None
    fields: tuple[str, ...] = ()  # revised: what changed


@dataclass
class Changes:
    """Everything that changed from ``earlier`` to ``later`` (two releases of one kind)."""

    kind: str
    earlier: dict[str, Any]
    later: dict[str, Any]
    flag: str | None
    added: list[Change] = field(default_factory=list)
    deleted: list[Change] = field(default_factory=list)
    revised: list[Change] = field(default_factory=list)

    @property
    def label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in CHANGES}

    def rows(self) -> Iterator[Change]:
        """Every change: the added codes, then the deleted, then the revised, each by code."""
        for name in CHANGES:
            yield from getattr(self, name)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "from": self.earlier,
            "to": self.later,
            "flag": self.flag,
            "counts": self.counts,
            "changes": [asdict(c) for c in self.rows()],
        }


def releases(reader: Reader, kind: str) -> list[ReleaseRef]:
    """The loaded releases of ``kind``, newest first: what can be compared."""
    if kind not in KINDS:
        raise NotComparable(f"{kind!r} is not a code set: one of {', '.join(KINDS)}")
    return read_releases(reader, kind)


def _named(loaded: list[ReleaseRef], name: str) -> ReleaseRef:
    """The release ``name`` names: its id, or its version (the newest of that version)."""
    name = name.strip()
    found = [r for r in loaded if str(r.id) == name] or [r for r in loaded if r.version == name]
    if not found:
        kind = KIND_LABELS.get(loaded[0].kind, loaded[0].kind)
        versions = ", ".join(r.version for r in loaded)
        raise NotComparable(f"no {kind} release {name!r} is loaded; these are: {versions}")
    return found[0]


def pair(
    reader: Reader, kind: str, earlier: str | None = None, later: str | None = None
) -> tuple[ReleaseRef, ReleaseRef]:
    """The two releases to compare, each named by id or version; by default the newest and
    the one before it (before ``later``, when only that is named)."""
    loaded = releases(reader, kind)
    if len(loaded) < 2:
        what = KIND_LABELS.get(kind, kind)
        have = f"only {what} {loaded[0].version} is" if loaded else f"no {what} release is"
        raise NotComparable(f"{have} loaded: there is nothing to compare")
    to = _named(loaded, later) if later else loaded[0]
    if earlier:
        return _named(loaded, earlier), to
    before = loaded[loaded.index(to) + 1 :]
    if not before:
        raise NotComparable(
            f"no release older than {to.version} is loaded: name the one to compare"
        )
    return before[0], to


def _day(reader: Reader, value: date) -> date | str:
    """A date as the driver compares it with a date column (SQLite stores ISO text)."""
    return value if reader.postgres else value.isoformat()


def _iso(value: Any) -> str | None:
    day = as_day(value)
    return day.isoformat() if day else None


def _flag(kind: str, value: Any) -> bool | None:
    return bool(value) if kind in FLAG else None


def compare(reader: Reader, earlier: ReleaseRef, later: ReleaseRef) -> Changes:
    """The codes added, deleted and revised from ``earlier`` to ``later``."""
    if earlier.kind != later.kind or earlier.kind not in KINDS:
        raise NotComparable("compare two releases of the same code set")
    if earlier.id == later.id:
        raise NotComparable("choose two different releases")
    kind = earlier.kind
    since, until = _day(reader, earlier.effective_from), _day(reader, later.effective_from)
    found = Changes(kind, earlier.describe(), later.describe(), FLAG.get(kind))
    for row in reader.rows(_ADDED, (earlier.id, since, later.id, until)):
        found.added.append(_listed("added", kind, row))
    for row in reader.rows(_DELETED, (later.id, earlier.id, since, until)):
        found.deleted.append(_listed("deleted", kind, row))
    revised = _REVISED.format(flag=" OR a.billable <> b.billable" if kind in FLAG else "")
    for row in reader.rows(revised, (earlier.id, later.id, since, until)):
        found.revised.append(_revision(kind, row))
    return found


def _listed(change: str, kind: str, row: tuple[Any, ...]) -> Change:
    """An added code as the later release lists it, or a deleted one as the earlier did."""
    code, long, short, flag, ends = row
    return Change(
        change, code, long, short_description=short, flag=_flag(kind, flag), terminated=_iso(ends)
    )


def _revision(kind: str, row: tuple[Any, ...]) -> Change:
    code, long, was_long, short, was_short, flag, was_flag, ends, was_ends = row
    ends, was_ends = _iso(ends), _iso(was_ends)
    fields = []
    if long != was_long:
        fields.append("description")
    if short is not None and was_short is not None and short != was_short:
        fields.append("short description")
    if kind in FLAG and bool(flag) != bool(was_flag):
        fields.append(FLAG[kind])
    if ends != was_ends:
        fields.append("termination date")
    return Change(
        "revised",
        code,
        long,
        previous_description=was_long if long != was_long else None,
        short_description=short,
        previous_short_description=was_short if "short description" in fields else None,
        flag=_flag(kind, flag),
        previous_flag=_flag(kind, was_flag),
        terminated=ends,
        previous_terminated=was_ends,
        fields=tuple(fields),
    )
