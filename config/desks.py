"""Consult desks: several consult addresses or folders served by one deployment.

The main desk is the one the settings always had (``CONSULTANT_CONSULT_ADDRESS``,
``_DISPLAY_NAME``, ``_IMAP_FOLDER``). ``CONSULTANT_DESKS_FILE`` names a TOML
file adding more, each with its own address, display name and team::

    [desks.billing]
    address = "billing-consult@example.org"
    display_name = "Billing Consult Desk"
    folder = "Billing"     # optional: an IMAP folder of its own (embedded: var/mail/desks/billing)
    team = ["ana@example.org", "bo@example.org"]   # optional: the reviewers who work it

A question comes to a desk by the folder it was delivered to, or, in the
main folder, by the desk address it was sent to (any desk's). The desk's address and name
sign everything sent on its cases; its team (when given) are the only
reviewers who see them, besides administrators. A desk without a team is
open to every reviewer, as the main desk is.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

MAIN = "main"
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
FIELDS = frozenset({"address", "display_name", "folder", "team"})


class DeskError(ValueError):
    """A desks file that cannot be used; the message names the file, the desk and the field."""


@dataclass(frozen=True)
class Desk:
    """One consult address: who it is, where its mail arrives, who works it."""

    key: str
    address: str
    display_name: str
    folder: str | None = None  # its own folder, besides mail to its address in the main one
    team: frozenset[str] = field(default_factory=frozenset)

    def open_to(self, login: str) -> bool:
        """Whether the reviewer who signs in as ``login`` (their address) works this desk."""
        return not self.team or login.lower() in self.team


@dataclass(frozen=True)
class Desks:
    """The deployment's desks, the main desk first."""

    main: Desk
    others: tuple[Desk, ...] = ()

    def __iter__(self) -> Iterator[Desk]:
        yield self.main
        yield from self.others

    def __len__(self) -> int:
        return 1 + len(self.others)

    def get(self, key: str | None) -> Desk:
        """The desk ``key`` (the main desk for an unknown or absent key: removed from the file)."""
        return next((desk for desk in self if desk.key == key), self.main)

    @property
    def addresses(self) -> frozenset[str]:
        """Every desk's address, lower-case: mail from one of them is our own."""
        return frozenset(desk.address.lower() for desk in self)

    def by_recipient(self, recipients: Iterable[str]) -> Desk:
        """The first desk but the main one that one of ``recipients`` names, else the main one."""
        wanted = [address.lower() for address in recipients]
        for address in wanted:
            for desk in self.others:
                if desk.address.lower() == address:
                    return desk
        return self.main

    def open_to(self, login: str) -> frozenset[str] | None:
        """The keys of the desks ``login`` works; None when that is every desk."""
        keys = frozenset(desk.key for desk in self if desk.open_to(login))
        return None if len(keys) == len(self) else keys


def load_desks(path: Path | None, main: Desk) -> Desks:
    """The desks of ``path`` (a TOML file) after ``main``; only ``main`` without a file."""
    if path is None:
        return Desks(main)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise DeskError(f"{path}: cannot be read ({error.strerror or error})") from error
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise DeskError(f"{path}: not valid TOML ({error})") from error
    unknown = set(data) - {"desks"}
    if unknown:
        first = sorted(unknown)[0]
        raise DeskError(f"{path}: unknown section {first!r}; desks go in [desks.<key>]")
    tables = data.get("desks", {})
    if not isinstance(tables, dict):
        raise DeskError(f"{path}: 'desks' must be a table of [desks.<key>] tables")
    others = tuple(_desk(path, key, table) for key, table in tables.items())
    _check_unique(path, main, others)
    return Desks(main, others)


def _desk(path: Path, key: str, table: object) -> Desk:
    where = f"{path}: [desks.{key}]"
    if not KEY_PATTERN.match(key) or key == MAIN:
        raise DeskError(
            f"{where}: the key must be lower-case letters, digits, '-' or '_' "
            f"(at most 40), and not {MAIN!r}"
        )
    if not isinstance(table, dict):
        raise DeskError(f"{where}: must be a table")
    unknown = set(table) - FIELDS
    if unknown:
        raise DeskError(f"{where}: unknown field {sorted(unknown)[0]!r}")
    address = table.get("address")
    if not isinstance(address, str) or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", address):
        raise DeskError(f"{where}: address must be a plain address like billing@example.org")
    name = table.get("display_name", "")
    if not isinstance(name, str) or not name.strip() or any(c in name for c in '\r\n<>"'):
        raise DeskError(f'{where}: display_name must be a name on one line, without < > or "')
    folder = table.get("folder")
    if folder is not None and (not isinstance(folder, str) or not folder.strip()):
        raise DeskError(f"{where}: folder must be a folder name")
    team = table.get("team", [])
    if not isinstance(team, list) or not all(isinstance(m, str) and m.strip() for m in team):
        raise DeskError(f"{where}: team must be a list of reviewers' sign-in addresses")
    return Desk(
        key=key,
        address=address,
        display_name=name.strip(),
        folder=folder.strip() if folder else None,
        team=frozenset(member.strip().lower() for member in team),
    )


def _check_unique(path: Path, main: Desk, others: tuple[Desk, ...]) -> None:
    seen_addresses = {main.address.lower(): MAIN}
    seen_folders = {main.folder: MAIN}
    for desk in others:
        first = seen_addresses.setdefault(desk.address.lower(), desk.key)
        if first != desk.key:
            raise DeskError(f"{path}: [desks.{desk.key}]: address is also desk {first!r}'s")
        if desk.folder is not None:
            first = seen_folders.setdefault(desk.folder, desk.key)
            if first != desk.key:
                raise DeskError(f"{path}: [desks.{desk.key}]: folder is also desk {first!r}'s")
