"""Reading official files as CMS and the CDC distribute them: a zip, or the file inside it.

Files are streamed, never read whole: a quarter of NCCI PTP edits is
millions of lines. An importer names the zip member it wants by a pattern on
its name; a plain file is read as is. Errors name the file and, where there
is one, the line, so an operator can open the file and look.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import IO

CHUNK = 1 << 20


class CodeImportError(Exception):
    """Raised when an official file cannot be imported; the message names file and line."""

    def __init__(self, source: str, message: str, line: int | None = None) -> None:
        where = f"{source} line {line}" if line is not None else source
        super().__init__(f"{where}: {message}")
        self.source, self.line = source, line


@dataclass(frozen=True)
class SourceFile:
    """One official file: a plain file, or one member of a zip."""

    path: Path
    member: str | None = None

    @property
    def name(self) -> str:
        """The name to cite: the file itself, not the zip around it."""
        return Path(self.member).name if self.member else self.path.name

    @property
    def size(self) -> int:
        if self.member is None:
            return self.path.stat().st_size
        with zipfile.ZipFile(self.path) as archive:
            return archive.getinfo(self.member).file_size

    @contextmanager
    def open_binary(self) -> Iterator[IO[bytes]]:
        try:
            if self.member is None:
                with self.path.open("rb") as handle:
                    yield handle
            else:
                with zipfile.ZipFile(self.path) as archive, archive.open(self.member) as handle:
                    yield handle
        except (zipfile.BadZipFile, EOFError) as error:
            raise CodeImportError(self.name, f"damaged zip file: {error}") from None

    @cached_property
    def sha256(self) -> str:
        """The checksum of the file's content (the same whether it came zipped or not)."""
        digest = hashlib.sha256()
        with self.open_binary() as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    def read_bytes(self) -> bytes:
        with self.open_binary() as handle:
            return handle.read()

    def lines(self, encoding: str = "latin-1") -> Iterator[tuple[int, str]]:
        """(line number, line without its line end), streamed; CR/LF or LF alike."""
        with self.open_binary() as handle:
            text = io.TextIOWrapper(handle, encoding=encoding, newline=None)
            number = 0
            try:
                for number, line in enumerate(text, start=1):
                    yield number, line.rstrip("\n")
            except UnicodeDecodeError as error:
                raise CodeImportError(
                    self.name, f"not {encoding} text ({error.reason})", number + 1
                ) from None


def expect_content(source: SourceFile, marker: str, what: str, within: int = 40) -> None:
    """Refuse a file of the wrong kind before anything is loaded from it.

    ``marker`` must appear (case and spacing aside) in the first ``within``
    lines, where every file of the kind has its header.
    """
    wanted = " ".join(marker.upper().split())
    for number, line in source.lines():
        if wanted in " ".join(line.upper().split()):
            return
        if number >= within:
            break
    header = " ".join(marker.split())
    raise CodeImportError(source.name, f"this is not {what} (no {header!r} header near the top)")


def open_source(path: Path, member: re.Pattern[str] | None = None) -> SourceFile:
    """The official file at ``path``; inside a zip, the one member matching ``member``."""
    if not path.is_file():
        raise CodeImportError(str(path), "no such file")
    # An Excel workbook is a zip too, but it is the file itself, not an archive of files.
    if path.suffix.lower() == ".xlsx" or not zipfile.is_zipfile(path):
        return SourceFile(path)
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]
    except (zipfile.BadZipFile, OSError) as error:
        raise CodeImportError(path.name, f"damaged zip file: {error}") from None
    wanted = [n for n in names if member is None or member.search(Path(n).name)]
    if len(wanted) != 1:
        what = f"file matching {member.pattern}" if member else "file"
        raise CodeImportError(
            path.name,
            f"expected one {what} in the zip, found {len(wanted)} "
            f"(it holds {', '.join(names) or 'nothing'})",
        )
    return SourceFile(path, wanted[0])


def combined_sha256(sources: list[SourceFile]) -> str:
    """One checksum for a release made of several files (the parts of a PTP quarter)."""
    if len(sources) == 1:
        return sources[0].sha256
    digest = hashlib.sha256()
    for item in sorted(s.sha256 for s in sources):
        digest.update(item.encode())
    return digest.hexdigest()
