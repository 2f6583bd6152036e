"""A code page as lines of text, for `consultant codes show`: the same facts as the web page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from consultant.codes.code_page import CodePage
from consultant.codes.medicare_text import coverage_lines, fee_lines
from consultant.codes.ptp_listing import PtpListing

INDICATORS = (
    ("status", "status"),
    ("global_days", "global days"),
    ("multiple_procedure", "multiple procedures"),
    ("bilateral", "bilateral surgery"),
    ("assistant", "assistant at surgery"),
    ("co_surgeon", "co-surgeons"),
    ("team_surgery", "team surgery"),
    ("pctc", "PC/TC"),
    ("work_rvu", "work RVU"),
    ("conversion_factor", "conversion factor"),
)


def source(release: dict[str, Any] | None, on: str) -> str:
    """``source: ncci-ptp practitioner v323r0, effective 2026-10-01 (ccipra-v323r0-f1.TXT)``."""
    if not release:
        return "source: none loaded"
    setting = f" {release['setting']}" if release.get("setting") else ""
    later = f"; starts after {on}, not in force then" if release["effective"] > on else ""
    return (
        f"source: {release['kind']}{setting} {release['version']}, effective "
        f"{release['effective']} ({release['source']}){later}"
    )


def lines(page: CodePage) -> Iterator[str]:
    entry = page.entry
    yield f"{page.system} {page.code}: {entry.status.replace('_', ' ')} (as of {page.on})"
    if entry.description:
        yield f"  {entry.description}"
    yield f"  {page.summary}"
    if entry.release:
        yield f"  {source(entry.release, page.on)}"
    for reading in page.readings:
        yield f"  also readable as {reading.system} {reading.code}"
    for missing in page.missing:
        yield f"  not loaded: {missing.what}: {missing.reason}"
    yield from _lineage(page)
    if page.notes:
        yield "ICD-10-CM notes"
        for group in page.notes:
            for note in group.notes:
                under = f" (under {note['source']})" if note["source"] != page.code else ""
                yield f"  {group.label}: {note['text']}{under}"
        yield f"  {source(page.notes_release, page.on)}"
    for section in page.ptp:
        yield f"NCCI PTP edits, {section.setting}"
        for listing in section.listings.values():
            yield from _ptp(page, listing)
        yield f"  {source(section.release, page.on)}"
    yield from _cms(page)
    yield from _medicare(page)
    if page.history:
        yield "History by release"
        for row in page.history:
            release = row.release
            mark = " (answers for the date)" if row.in_force else ""
            said = row.description if row.listed else "not listed in this release"
            yield f"  {release['version']} from {release['effective']}{mark}: {said}"


def _lineage(page: CodePage) -> Iterator[str]:
    lineage = page.lineage
    if lineage is None:
        return
    for parent in lineage.parents:
        yield f"  parent {parent['code']}  {parent['description']}"
    for section in lineage.sections:
        yield f"  in block {section}"
    if lineage.chapter:
        yield f"  in chapter {lineage.chapter}"
    if lineage.children_total:
        yield f"  {lineage.children_total} code(s) directly below:"
        for child in lineage.children:
            yield f"    {child['code']:<9} {child['description']}"
        if len(lineage.children) < lineage.children_total:
            yield f"    ... and {lineage.children_total - len(lineage.children)} more"


def _ptp(page: CodePage, listing: PtpListing) -> Iterator[str]:
    other = "column2" if listing.column == "column1" else "column1"
    yield (
        f"  {page.code} as {listing.column.replace('column', 'column ')}: {listing.total} "
        f"edit(s) in force on {page.on}"
        + (f", {listing.outside_dates} more outside their dates" if listing.outside_dates else "")
    )
    for edit in listing.edits:
        deleted = f", deleted {edit.deletion}" if edit.deletion else ""
        yield (
            f"    {getattr(edit, other):<6} modifier indicator {edit.modifier_indicator}; "
            f"effective {edit.effective}{deleted}; {edit.rationale}"
        )
    if len(listing.edits) < listing.total:
        left = listing.total - len(listing.edits)
        yield f"    ... and {left} more (the code page lists them all)"


def _cms(page: CodePage) -> Iterator[str]:
    for mue in page.mue:
        said = (
            f"{mue.value} unit(s); adjudication {mue.adjudication_indicator} "
            f"({mue.adjudication_meaning}); rationale {mue.rationale}"
            if mue.found
            else mue.message
        )
        yield f"MUE, {mue.setting}: {said}"
        yield f"  {source(mue.release, page.on)}"
    if page.addon is not None:
        addon = page.addon
        if addon.is_addon:
            yield f"Add-on code: {'; '.join(addon.edit_type_meanings)}"
            if addon.primaries:
                yield f"  primary codes: {', '.join(addon.primaries)}"
        if addon.addons:
            yield f"Add-on codes with {page.code} as primary: {', '.join(addon.addons)}"
        if not addon.is_addon and not addon.addons:
            yield f"Add-on code edits: none in force with {page.code}"
        yield f"  {source(addon.release, page.on)}"
    for pfs in page.pfs:
        label = page.code + (f"-{pfs.modifier}" if pfs.modifier else "")
        if not pfs.found:
            yield f"Fee schedule: {pfs.message}"
            continue
        yield f"Fee schedule indicators of {label}"
        for name, title in INDICATORS:
            value = pfs.indicators.get(name)
            if value is not None:
                meaning = pfs.meanings.get(name)
                yield f"  {title}: {value}" + (f" ({meaning})" if meaning else "")
    if page.pfs:
        yield f"  {source(page.pfs[0].release, page.on)}"


def _medicare(page: CodePage) -> Iterator[str]:
    if page.coverage is not None:
        yield from coverage_lines(page.coverage)
    payment = page.payment
    if payment is None:
        return
    for result in payment.national:
        yield from fee_lines(result)
    if payment.locality_message:
        yield f"Locality {payment.asked}: {payment.locality_message}"
    for result in payment.local:
        yield from fee_lines(result)
