"""Everything the loaded data says about one code as of a date: the code page, assembled.

The web page and `consultant codes show` both print this. It asks the same
lookups drafts ask (``CodeLookup``) and adds what only a page about one code
needs: its history by release, its parents and children, and every PTP edit
it is in. Each part carries the release it comes from; a part whose data is
not loaded says so (``missing``) rather than saying nothing.

A procedure or supply code's page also shows Medicare coverage (the articles
in force on the date in every jurisdiction, each with its contractor and
states, and the NCDs whose title matches the code's description) and Medicare
payment (the national amounts, and a locality's when one is asked for).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from consultant.codes.choice import choose
from consultant.codes.cms_edits import AddOnResult, MueResult, PfsResult
from consultant.codes.code_status import status_sentence
from consultant.codes.coverage import ARTICLE_KIND, LCD_KIND, NCD_KIND, CoverageResult
from consultant.codes.entries import CodeResult, Status
from consultant.codes.fees import FeeResult
from consultant.codes.lookup import CodeLookup
from consultant.codes.ptp_listing import COLUMNS, PtpListing, edits_of
from consultant.codes.refs import ReleaseRef, as_day, as_dict, read_releases
from consultant.codes.systems import RELEASE_KIND, System, candidates

PROCEDURE_SYSTEMS = (System.CPT, System.HCPCS)
PTP_SETTINGS = ("practitioner", "hospital")
MUE_SETTINGS = ("practitioner", "hospital", "dme")
PTP_PAGE = 100
MAX_CHILDREN = 200
NOTE_LABELS = {
    "includes": "Includes",
    "inclusion_term": "Inclusion terms",
    "excludes1": "Excludes1: never coded together with",
    "excludes2": "Excludes2: not included here; both may be coded when both apply",
    "code_first": "Code first",
    "use_additional_code": "Use additional code",
    "code_also": "Code also",
    "seven_chr_note": "7th character",
    "note": "Notes",
}
_HISTORY = (
    "SELECT release_id, billable, long_description, added, effective, terminated "
    "FROM code_entry WHERE code = ?"
)
_ENTRY = (
    "SELECT parent, long_description, details FROM code_entry WHERE release_id = ? AND code = ?"
)
_CHILDREN = "SELECT code, long_description FROM code_entry WHERE release_id = ? AND parent = ?"
_PFS_MODIFIERS = "SELECT modifier FROM pfs_indicator WHERE release_id = ? AND code = ?"
_LOCALITIES = "SELECT mac, locality, state, name FROM gpci_value WHERE release_id = ?"
# The coverage exports: release kind, what it is called, the import command's kind.
COVERAGE_FILES = (
    (ARTICLE_KIND, "Medicare coverage articles", "mcd-articles"),
    (LCD_KIND, "LCDs", "mcd-lcds"),
    (NCD_KIND, "NCDs", "ncd"),
)


@dataclass
class Reading:
    """Another code system the same characters could be a code of."""

    system: str
    code: str
    found: bool


@dataclass
class HistoryRow:
    """The code in one release of its system (or its absence from it)."""

    release: dict[str, Any]
    listed: bool
    in_force: bool  # the release that answers for the date asked
    description: str | None = None
    billable: bool | None = None
    effective: str | None = None
    terminated: str | None = None


@dataclass
class Lineage:
    """Where the code sits in its release: parents nearest first, and its children."""

    release: dict[str, Any]
    parents: list[dict[str, str]] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)  # ICD-10-CM blocks, narrowest first
    chapter: str | None = None
    children: list[dict[str, str]] = field(default_factory=list)
    children_total: int = 0


@dataclass
class NoteGroup:
    kind: str
    label: str
    notes: list[dict[str, str]]  # source (the code or ancestor it is written under), text


@dataclass
class PtpSection:
    """The PTP edits of one setting's release in force: the code as column 1 and as 2."""

    setting: str
    release: dict[str, Any]
    listings: dict[str, PtpListing]


@dataclass
class Payment:
    """What Medicare pays for the code on the page's date: the national amounts of the code
    alone and with each modifier the fee schedule has a row for, and a locality's amounts
    when one is asked for, with every loaded locality to choose from."""

    national: list[FeeResult]
    asked: str | None = None  # the locality asked for, as asked
    locality: dict[str, Any] | None = None  # the one locality that answers ``asked``
    local: list[FeeResult] = field(default_factory=list)
    locality_message: str | None = None  # why ``asked`` names no one locality
    choices: list[dict[str, str]] = field(default_factory=list)  # value ("MAC/number"), label
    gpci_release: dict[str, Any] | None = None


@dataclass
class Missing:
    what: str
    reason: str


@dataclass
class CodePage:
    code: str
    system: str
    on: str
    entry: CodeResult
    summary: str  # the status in one careful sentence (``code_status``)
    readings: list[Reading] = field(default_factory=list)
    history: list[HistoryRow] = field(default_factory=list)
    lineage: Lineage | None = None
    notes: list[NoteGroup] = field(default_factory=list)
    notes_release: dict[str, Any] | None = None
    ptp: list[PtpSection] = field(default_factory=list)
    ptp_in_force: bool = True  # False: the listings hold the edits outside their dates
    mue: list[MueResult] = field(default_factory=list)
    addon: AddOnResult | None = None
    pfs: list[PfsResult] = field(default_factory=list)
    coverage: CoverageResult | None = None
    payment: Payment | None = None
    missing: list[Missing] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The code's own lookup at the top (as `codes show --json` always gave), then the rest."""
        page = asdict(self)
        return page.pop("entry") | page


def code_page(
    lookup: CodeLookup,
    text: str,
    on: date | None = None,
    system: str | None = None,
    ptp_offsets: Mapping[str, int] | None = None,
    ptp_in_force: bool = True,
    locality: str | None = None,
) -> CodePage | None:
    """The page of the code ``text`` is (in ``system``, if it can be one); None if no code
    system has codes of its shape. ``ptp_offsets`` pages the PTP lists, keyed
    ``"<setting>-<column>"`` (e.g. ``"practitioner-column2"``); ``locality`` (a
    ``MAC/number``, or anything ``FeeLookups.localities`` takes as a place) adds that
    locality's payment amounts to the national ones."""
    on = on or date.today()
    readings = candidates(text)
    if not readings:
        return None
    results = [lookup.code(s, c, on) for s, c in readings]
    chosen = next((r for r in results if r.system == system), None)
    chosen = chosen or next((r for r in results if r.found), results[0])
    page = CodePage(
        code=chosen.code,
        system=chosen.system,
        on=on.isoformat(),
        entry=chosen,
        summary="",
        readings=[Reading(r.system, r.code, r.found) for r in results if r is not chosen],
        ptp_in_force=ptp_in_force,
    )
    if chosen.status == Status.NO_DATA and chosen.system != System.CPT:  # the status says why
        page.missing.append(Missing(f"{chosen.system} codes", chosen.message or "not loaded"))
    _history(lookup, page, on)
    in_force = next((row.release for row in page.history if row.in_force), None)
    page.summary = status_sentence(chosen, on, in_force)
    _lineage(lookup, page)
    if chosen.system == System.ICD10CM and chosen.found:
        _notes(lookup, page, on)
    if System(chosen.system) in PROCEDURE_SYSTEMS:
        _ptp(lookup, page, on, ptp_offsets or {})
        _mue(lookup, page, on)
        _addon(lookup, page, on)
        _pfs(lookup, page, on)
        _coverage(lookup, page, on)
        _payment(lookup, page, on, locality)
    return page


def _history(lookup: CodeLookup, page: CodePage, on: date) -> None:
    releases = read_releases(lookup.reader, RELEASE_KIND[System(page.system)])
    current = choose(releases, on)
    rows = {row[0]: row for row in lookup.reader.rows(_HISTORY, (page.code,))}
    for release in releases:
        row = rows.get(release.id)
        item = HistoryRow(release.describe(), row is not None, release is current)
        if row is not None:
            _, billable, description, added, effective, terminated = row
            starts = as_day(effective) or as_day(added)
            ends = as_day(terminated)
            item.description, item.billable = description, bool(billable)
            item.effective = starts.isoformat() if starts else None
            item.terminated = ends.isoformat() if ends else None
        page.history.append(item)


def _lineage(lookup: CodeLookup, page: CodePage) -> None:
    """Parents up the ``parent`` chain and the children, from the release the code is in."""
    release = page.entry.release
    if not page.entry.found or release is None:
        return
    rid, reader = release["id"], lookup.reader
    lineage = Lineage(release)
    found = reader.rows(_ENTRY, (rid, page.code))
    parent, details = (found[0][0], found[0][2]) if found else (None, None)
    seen = {page.code}
    while parent is not None and parent not in seen:
        seen.add(parent)
        above = reader.rows(_ENTRY, (rid, parent))
        if not above:
            lineage.parents.append({"code": parent, "description": ""})
            break
        lineage.parents.append({"code": parent, "description": above[0][1]})
        parent, details = above[0][0], above[0][2]
    top = as_dict(details)
    lineage.sections, lineage.chapter = list(top.get("sections", [])), top.get("chapter")
    children = sorted(reader.rows(_CHILDREN, (rid, page.code)))
    lineage.children_total = len(children)
    lineage.children = [{"code": c, "description": d} for c, d in children[:MAX_CHILDREN]]
    if lineage.parents or lineage.sections or lineage.chapter or lineage.children_total:
        page.lineage = lineage


def _notes(lookup: CodeLookup, page: CodePage, on: date) -> None:
    found = lookup.icd10cm_notes(page.code, on)
    page.notes_release = found.release
    grouped: dict[str, list[dict[str, str]]] = {}
    for note in found.notes:
        grouped.setdefault(note.kind, []).append({"source": note.source, "text": note.text})
    order = list(NOTE_LABELS)
    for kind in sorted(grouped, key=lambda k: order.index(k) if k in order else len(order)):
        page.notes.append(NoteGroup(kind, NOTE_LABELS.get(kind, kind), grouped[kind]))


def _ptp(lookup: CodeLookup, page: CodePage, on: date, offsets: Mapping[str, int]) -> None:
    for setting in PTP_SETTINGS:
        release: ReleaseRef | None = choose(read_releases(lookup.reader, "ncci-ptp", setting), on)
        if release is None:
            page.missing.append(
                Missing(f"NCCI PTP edits ({setting})", f"no {setting} PTP file is loaded")
            )
            continue
        listings = {
            column: edits_of(
                lookup.reader,
                release,
                page.code,
                column,
                on,
                limit=PTP_PAGE,
                offset=max(0, offsets.get(f"{setting}-{column}", 0)),
                in_force=page.ptp_in_force,
            )
            for column in COLUMNS
        }
        page.ptp.append(PtpSection(setting, release.describe(), listings))


def _mue(lookup: CodeLookup, page: CodePage, on: date) -> None:
    for setting in MUE_SETTINGS:
        result = lookup.mue(page.code, on, setting)
        if result.release is not None:
            page.mue.append(result)
    if not page.mue:
        page.missing.append(Missing("MUE values", "no MUE file is loaded"))


def _addon(lookup: CodeLookup, page: CodePage, on: date) -> None:
    result = lookup.addon(page.code, on)
    if result.release is None:
        page.missing.append(Missing("add-on code edits", result.message or "not loaded"))
    else:
        page.addon = result


def _pfs(lookup: CodeLookup, page: CodePage, on: date) -> None:
    """The code's fee schedule rows: on its own, and with each modifier it has a row for."""
    alone = lookup.pfs(page.code, "", on)
    if alone.release is None:
        page.missing.append(
            Missing("physician fee schedule indicators", alone.message or "not loaded")
        )
        return
    modifiers = sorted(
        m for (m,) in lookup.reader.rows(_PFS_MODIFIERS, (alone.release["id"], page.code)) if m
    )
    page.pfs = [alone, *(lookup.pfs(page.code, m, on) for m in modifiers)]


def _coverage(lookup: CodeLookup, page: CodePage, on: date) -> None:
    """The articles in force listing the code, in every jurisdiction, and the NCDs whose
    title matches its description; each export that is not loaded, named."""
    absent = [(label, kind) for k, label, kind in COVERAGE_FILES if lookup.in_force(k, on) is None]
    if len(absent) == len(COVERAGE_FILES):
        page.missing.append(
            Missing(
                "Medicare coverage",
                f"no Medicare Coverage Database export (articles, LCDs, NCDs) is loaded for "
                f"{on}; `consultant codes import mcd-articles|mcd-lcds|ncd FILE.zip` loads them",
            )
        )
        return
    for label, kind in absent:
        page.missing.append(
            Missing(
                label,
                f"no export is loaded for {on}; `consultant codes import {kind} FILE.zip` loads it",
            )
        )
    page.coverage = lookup.coverage.coverage(page.code, (), on, description=page.entry.description)


def _payment(lookup: CodeLookup, page: CodePage, on: date, asked: str | None) -> None:
    """The national fee schedule amounts (the code alone and with each modifier it has a
    row for), the lab fee schedule rate, and a locality's amounts when one is asked for."""
    modifiers = [p.modifier for p in page.pfs] or [""]
    national = [lookup.fees.fee(page.code, m, None, on) for m in modifiers]
    pfs = lookup.in_force("pfs", on)
    gpci = lookup.fees.current("gpci", on)  # another year's GPCIs give no amount
    clfs = lookup.in_force("clfs", on)
    clfs_current = lookup.fees.current("clfs", on) is not None
    if pfs is None and gpci is None and not clfs_current:
        page.missing.append(
            Missing(
                "Medicare payment",
                f"no physician fee schedule, GPCI or lab fee schedule file is loaded for {on}; "
                "`consultant codes import pfs|gpci|locality|clfs FILE` loads them",
            )
        )
        return
    if pfs is None:
        page.missing.append(
            Missing(
                "Medicare payment amounts",
                f"no physician fee schedule file is loaded for {on}; "
                "`consultant codes import pfs FILE` loads one",
            )
        )
    if gpci is None:
        page.missing.append(
            Missing(
                "payment localities",
                f"no GPCI file for {on.year} is loaded, so only national amounts are shown; "
                "`consultant codes import gpci FILE` loads one",
            )
        )
    if clfs is None:
        page.missing.append(
            Missing(
                "clinical lab fee schedule",
                f"no CLFS file is loaded for {on}; `consultant codes import clfs FILE` loads one",
            )
        )
    elif not clfs_current:
        page.missing.append(
            Missing(
                "clinical lab fee schedule",
                f"the CLFS loaded ({clfs.version}, from {clfs.effective_from}) is not the "
                f"quarter of {on}",
            )
        )
    payment = Payment(national, asked=asked or None)
    if gpci is not None:
        payment.gpci_release = gpci.describe()
        rows = sorted(lookup.reader.rows(_LOCALITIES, (gpci.id,)), key=lambda r: (r[2], r[3]))
        payment.choices = [
            {
                "value": f"{mac}/{number}",
                "label": f"{state}: {name} (locality {number} of MAC {mac})",
            }
            for mac, number, state, name in rows
        ]
    if asked:
        found = lookup.fees.localities(on, place=asked)
        if len(found.found) == 1 and not found.message:
            place = found.found[0]
            payment.locality = place.describe()
            payment.local = [lookup.fees.fee(page.code, m, place, on) for m in modifiers]
        elif found.found:
            payment.locality_message = (
                f"{asked!r} matches {len(found.found)} localities: choose one"
            )
        else:
            payment.locality_message = found.message or f"no locality matches {asked!r}"
    page.payment = payment
