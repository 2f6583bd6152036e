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
