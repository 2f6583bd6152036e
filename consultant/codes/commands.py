"""``consultant codes ...``: import official files, list releases, look codes and edits up.

Every command prints a table for people and, with ``--json``, JSON for
scripts. Heavy modules are imported inside the commands so that a lookup
answers quickly.
"""

from __future__ import annotations

import json
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from consultant.codes.changes import KINDS as CODE_SETS
from consultant.codes.importers import IMPORTERS

SETTINGS = ("practitioner", "hospital", "dme")
DATE = click.DateTime(formats=["%Y-%m-%d"])


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


@click.group("codes")
def codes_group() -> None:
    """Official code data: import releases, look codes and edits up."""


@codes_group.command("import")
@click.argument("kind", type=click.Choice(sorted(IMPORTERS)))
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--version", help="Release label, when the file name does not say it.")
@click.option("--effective", type=DATE, help="First day the release applies (YYYY-MM-DD).")
@click.option("--setting", type=click.Choice(SETTINGS), help="For NCCI PTP and MUE files.")
@click.pass_obj
def import_command(
    obj: Any,
    kind: str,
    paths: tuple[Path, ...],
    version: str | None,
    effective: datetime | None,
    setting: str | None,
) -> None:
    """Import an official file (its zip, or the file in it) as a release of KIND.

    Without PATH, `icd10cm` loads the April 2026 tabular that ships with the
    simple-icd-10-cm package.
    """
    from tqdm import tqdm

    from consultant.codes.importers import importer_for
    from consultant.codes.importing import ImportOptions, import_release
    from consultant.codes.sources import CodeImportError

    files = list(paths)
    options = ImportOptions(version=version, effective=_day(effective), setting=setting)
    started = time.perf_counter()
    with tqdm(desc=f"{kind}", unit=" rows", unit_scale=True, disable=None, leave=False) as bar:
        try:
            if not files:
                files = [_default_file(kind)]
            result = import_release(obj.database, importer_for(kind), files, options, bar.update)
        except CodeImportError as error:
            raise click.ClickException(str(error)) from None
    release = result.release
    label = f"{kind} {release['version']}" + (
        f" ({release['setting']})" if release["setting"] else ""
    )
    if result.already_loaded:
        click.echo(
            f"{label} is already loaded as release {release['id']} from {release['source']}; "
            "nothing changed"
        )
        return
    seconds = time.perf_counter() - started
    click.echo(
        f"loaded {label}, effective {release['effective']}: {result.rows:,} rows in "
        f"{seconds:.1f} s (release {release['id']})"
    )


def _default_file(kind: str) -> Path:
    """The file a kind loads when none is named: only ICD-10-CM has one (from its package)."""
    if kind != "icd10cm":
        raise click.UsageError(f"give the {kind} file to import")
    from consultant.codes.importers.icd10cm import default_tabular

    return default_tabular()


@codes_group.command("releases")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def releases_command(obj: Any, as_json: bool) -> None:
    """Every loaded release: kind, setting, version, effective date, rows, source."""
    from consultant.codes.releases import all_releases

    with obj.database.session() as session:
        releases = all_releases(session)
        rows = [
            r.describe()
            | {
                "until": until.isoformat() if (until := _next_start(r, releases)) else None,
                "rows": r.row_count,
                "sha256": r.sha256,
                "imported_at": r.imported_at.isoformat(),
            }
            for r in releases
        ]
    if as_json:
        _print_json(rows)
        return
    if not rows:
        click.echo("no code data loaded; `consultant codes import KIND FILE` loads some")
    for row in rows:
        until = f"until {row['until']}" if row["until"] else ""
        click.echo(
            f"{row['id']:>4}  {row['kind']:<9} {row['setting'] or '':<13} {row['version']:<18} "
            f"from {row['effective']} {until:<16} {row['rows']:>10,} rows  {row['source']}"
        )


def _next_start(release: Any, releases: list[Any]) -> date | None:
    """The day the next release of the same kind and setting takes over, if one is loaded."""
    later = [
        r.effective_from
        for r in releases
        if (r.kind, r.setting) == (release.kind, release.setting)
        and r.effective_from > release.effective_from
    ]
    return min(later, default=None)


@codes_group.command("show")
@click.argument("code")
@click.option("--on", "on", type=DATE, help="Date of service (default today).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def show_command(obj: Any, code: str, on: datetime | None, as_json: bool) -> None:
    """Everything the loaded data says about a code as of a date (its code page): status,
    history, parents and children, notes, PTP edits, MUE, add-on and fee schedule."""
    from consultant.codes.code_page import code_page
    from consultant.codes.code_page_text import lines
    from consultant.codes.lookup import CodeLookup

    page = code_page(CodeLookup(obj.database), code, _day(on))
    if page is None:
        raise click.ClickException(f"{code!r} has the shape of no code system")
    if as_json:
        _print_json(page.as_dict())
        return
    for line in lines(page):
        click.echo(line)


@codes_group.command("pair")
@click.argument("first")
@click.argument("second")
@click.option("--on", "on", type=DATE, help="Date of service (default today).")
@click.option(
    "--setting", type=click.Choice(SETTINGS[:2]), default="practitioner", show_default=True
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def pair_command(
    obj: Any, first: str, second: str, on: datetime | None, setting: str, as_json: bool
) -> None:
    """NCCI PTP edits between two codes, in either order, in force on a date."""
    from consultant.codes.cms_edits import CmsEditLookups

    result = CmsEditLookups(obj.database).ptp(first.upper(), second.upper(), _day(on), setting)
    if as_json:
        _print_json(result.as_dict())
        return
    if result.message:
        click.echo(result.message)
        return
    if not result.edits:
        click.echo(f"no PTP edit between {first} and {second} on {result.on} ({setting})")
    for edit in result.edits:
        click.echo(
            f"column 1 {edit.column1}, column 2 {edit.column2}: modifier indicator "
            f"{edit.modifier_indicator} ({edit.modifier_meaning})"
        )
        click.echo(
            f"  {edit.rationale}; effective {edit.effective}"
            + (f", deleted {edit.deletion}" if edit.deletion else "")
        )
    release = result.release or {}
    click.echo(f"source: NCCI PTP {setting} {release.get('version')} ({release.get('source')})")


def _show(result: Any, as_json: bool) -> None:
    data = result.as_dict()
    if as_json:
        _print_json(data)
        return
    for key, value in data.items():
        if value not in (None, [], {}, ""):
            click.echo(f"{key}: {value}")


@codes_group.command("mue")
@click.argument("code")
@click.option("--on", "on", type=DATE, help="Date of service (default today).")
@click.option("--setting", type=click.Choice(SETTINGS), default="practitioner", show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def mue_command(obj: Any, code: str, on: datetime | None, setting: str, as_json: bool) -> None:
    """The Medically Unlikely Edit of a code."""
    from consultant.codes.cms_edits import CmsEditLookups

    _show(CmsEditLookups(obj.database).mue(code.upper(), _day(on), setting), as_json)


@codes_group.command("addon")
@click.argument("code")
@click.option("--on", "on", type=DATE, help="Date of service (default today).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def addon_command(obj: Any, code: str, on: datetime | None, as_json: bool) -> None:
    """Add-on code edits: a code's primaries, or the add-ons it allows."""
    from consultant.codes.cms_edits import CmsEditLookups

    _show(CmsEditLookups(obj.database).addon(code.upper(), _day(on)), as_json)


@codes_group.command("pfs")
@click.argument("code")
@click.option("--modifier", default="", help="e.g. 26 or TC")
@click.option("--on", "on", type=DATE, help="Date of service (default today).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def pfs_command(obj: Any, code: str, modifier: str, on: datetime | None, as_json: bool) -> None:
    """Fee schedule indicators: status, global days, multiple/bilateral/assistant/co/team."""
    from consultant.codes.cms_edits import CmsEditLookups

    _show(CmsEditLookups(obj.database).pfs(code.upper(), modifier.upper(), _day(on)), as_json)


def _procedure_code(code: str) -> str:
    """``code`` upper-cased, if it has the shape of a CPT or HCPCS code (what coverage
    articles and the fee schedules list); a usage error otherwise."""
    from consultant.codes.systems import System, candidates

    if not any(s in (System.CPT, System.HCPCS) for s, _ in candidates(code)):
        raise click.BadParameter(
            f"{code!r} is not a CPT or HCPCS code: coverage and fees are for procedure, "
            "supply and drug codes",
            param_hint="CODE",
        )
    return code.strip().upper()


@codes_group.command("fee")
@click.argument("code")
@click.option("--modifier", default="", help="e.g. 26 or TC")
@click.option(
    "--locality",
    help="A payment locality: MAC/number (99101/04), its number, or a locality or county name.",
)
@click.option("--state", help="The state (code or name), with --county when it has several.")
@click.option("--county", help="The county, with --state.")
@click.option("--on", "on", type=DATE, help="Date of service (default today).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def fee_command(
    obj: Any,
    code: str,
    modifier: str,
    locality: str | None,
    state: str | None,
    county: str | None,
    on: datetime | None,
    as_json: bool,
) -> None:
    """What Medicare pays for a code on a date: the physician fee schedule amount, in an
    office (non-facility) and in a facility, with its formula, in a locality (national
    without one), and the clinical lab fee schedule rate."""
    from consultant.codes.lookup import CodeLookup
    from consultant.codes.medicare_text import fee_lines

    code = _procedure_code(code)
    if locality and county:
        raise click.UsageError("give --locality, or --state and --county, not both")
    day = _day(on) or date.today()
    lookup = CodeLookup(obj.database)
    place = None
    if locality or state or county:
        found = lookup.fees.localities(day, place=locality, state=state, county=county)
        if found.message or len(found.found) != 1:
            _no_one_locality(found, locality or county or state or "", as_json)
        place = found.found[0]
    result = lookup.fees.fee(code, modifier.strip(), place, day)
    if as_json:
        _print_json(result.as_dict())
        return
    for line in fee_lines(result):
        click.echo(line)
    if result.release is None and result.clfs is None:
        click.echo("  `consultant codes import pfs FILE` (and gpci, locality, clfs) loads them")


def _no_one_locality(found: Any, asked: str, as_json: bool) -> None:
    """Stop with the reason no single locality answers; the candidates, if several, to
    choose from."""
    from consultant.codes.medicare_text import locality_choice

    if len(found.found) > 1:
        if found.message:  # a state of several localities
            message = f"{found.message} with --county, or choose one with --locality MAC/NUMBER:"
        else:
            message = (
                f"{asked!r} matches {len(found.found)} localities; "
                "choose one with --locality MAC/NUMBER:"
            )
    else:
        message = found.message or f"no locality matches {asked!r}"
    if as_json:
        _print_json({"error": message, "localities": [loc.describe() for loc in found.found]})
        raise SystemExit(1)
    lines = [message, *(f"  {locality_choice(loc)}" for loc in found.found)]
    raise click.ClickException("\n".join(lines))


@codes_group.command("coverage")
@click.argument("code")
@click.argument("diagnoses", nargs=-1, metavar="[DX]...")
@click.option("--state", help="Where the patient is treated (code or name).")
@click.option(
    "--mac",
    "macs",
    multiple=True,
    help="A Medicare contractor by number; repeat for a Part B and a DME MAC.",
)
@click.option("--on", "on", type=DATE, help="Date of service (default today).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def coverage_command(
    obj: Any,
    code: str,
    diagnoses: tuple[str, ...],
    state: str | None,
    macs: tuple[str, ...],
    on: datetime | None,
    as_json: bool,
) -> None:
    """Medicare coverage of a procedure or supply code with the diagnoses given (DX...), on
    a date: the articles in force where asked (every jurisdiction without --state or
    --mac), each diagnosis covered, listed as not covered, or not listed, the modifiers
    the article lists, its LCDs, and the NCDs whose title matches the code's description."""
    from consultant.codes.coverage import Jurisdiction
    from consultant.codes.lookup import CodeLookup
    from consultant.codes.medicare_text import coverage_lines
    from consultant.codes.states import state_code
    from consultant.codes.systems import System, candidates

    code = _procedure_code(code)
    if state and macs:
        raise click.UsageError("give --state or --mac, not both")
    for diagnosis in diagnoses:
        if not any(s == System.ICD10CM for s, _ in candidates(diagnosis)):
            raise click.BadParameter(f"{diagnosis!r} is not an ICD-10-CM code", param_hint="DX")
    where = state_code(state) if state else None
    if state and where is None:
        raise click.BadParameter(f"{state!r} is not a US state or territory", param_hint="--state")
    day = _day(on) or date.today()
    lookup = CodeLookup(obj.database)
    known = lookup.coverage.macs(day)
    unknown = [m for m in macs if m not in known]
    if known and unknown:
        listed = ", ".join(f"{number} ({name})" for number, name in sorted(known.items()))
        raise click.BadParameter(
            f"no contractor numbered {unknown[0]!r} in the coverage data for {day}; "
            f"these are: {listed}",
            param_hint="--mac",
        )
    jurisdiction = Jurisdiction(where, tuple(macs), "asked" if where or macs else "")
    entry = lookup.find(code, day)
    result = lookup.coverage.coverage(
        code, list(diagnoses), day, jurisdiction, description=entry.description if entry else None
    )
    if as_json:
        _print_json(result.as_dict())
        return
    for line in coverage_lines(result):
        click.echo(line)
    if result.release is None:
        click.echo(
            "  `consultant codes import mcd-articles FILE.zip` (and mcd-lcds, ncd) loads them"
        )


@codes_group.command("changes")
@click.argument("kind", type=click.Choice(CODE_SETS))
@click.option("--from", "earlier", help="The earlier release: its id or version.")
@click.option("--to", "later", help="The later release: its id or version (default the newest).")
@click.option("--csv", "as_csv", is_flag=True, help="CSV for a spreadsheet.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def changes_command(
    obj: Any, kind: str, earlier: str | None, later: str | None, as_csv: bool, as_json: bool
) -> None:
    """The codes added, deleted and revised between two releases of a code set (by default
    the newest two): descriptions, and billable or valid where the code set has it."""
    from consultant.codes import changes
    from consultant.codes.changes_csv import csv_lines
    from consultant.codes.readonly import Reader

    reader = Reader(obj.database.url)
    try:
        found = changes.compare(reader, *changes.pair(reader, kind, earlier, later))
    except changes.NotComparable as error:
        raise click.ClickException(str(error)) from None
    finally:
        reader.close()
    if as_json:
        _print_json(found.as_dict())
        return
    if as_csv:
        for line in csv_lines(found):
            click.echo(line, nl=False)
        return
    counts = ", ".join(f"{n:,} {name}" for name, n in found.counts.items())
    click.echo(f"{found.label} {found.earlier['version']} -> {found.later['version']}: {counts}")
    for change in found.rows():
        what = f" ({'; '.join(change.fields)})" if change.fields else ""
        click.echo(f"  {change.change:<8} {change.code:<8} {change.description}{what}")
