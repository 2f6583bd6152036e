"""Reading the CDC ICD-10-CM tabular XML as a stream of codes and instructional notes.

The file nests chapter → section → diag → diag ...; a diag's name,
description, notes and 7th-character definition come before its child
diags. The parser is expat fed in chunks, so memory stays flat and every
error can name the line it is on.

What the tabular says only implicitly is made explicit here:

* A leaf diag under a ``sevenChrDef`` (its own or an ancestor's) is not
  valid by itself; each 7th character makes a billable code, padded with
  the placeholder X to six characters (``T07`` + ``A`` → ``T07.XXXA``).
* A category's notes are completed by those of its section, of any broader
  section enclosing it (``C00-C75`` around ``C00-C14``) and of its chapter;
  the category records that chain in ``details`` so the notes of a code can
  be gathered from the database alone.
* A note of the form "7th characters D and S do not apply to codes in
  category S06 with 6th character 7 ..., or 8 ..." removes those codes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from xml.parsers import expat

from consultant.codes.sources import CodeImportError, SourceFile

CHUNK = 1 << 16

# Note containers of the tabular → the kind stored in code_note.
NOTE_KINDS = {
    "excludes1": "excludes1",
    "excludes2": "excludes2",
    "includes": "includes",
    "inclusionTerm": "inclusion_term",
    "codeFirst": "code_first",
    "useAdditionalCode": "use_additional_code",
    "codeAlso": "code_also",
    "sevenChrNote": "seven_chr_note",
    "notes": "note",
}
SEVEN_DEF = "sevenChrDef"
TEXT_TAGS = frozenset({"name", "desc", "note", "extension", "version"})

_CODE = re.compile(r"^[A-Z][0-9A-Z]{2}(?:\.[0-9A-Z]{1,4})?$")  # QA0 has a letter second
_CHAPTER_RANGE = re.compile(r"\(([A-Z]\d[0-9A-Z]-[A-Z]\d[0-9A-Z])\)\s*$")
_EXCEPTION = re.compile(
    r"7th characters? (?P<seventh>.+?) do(?:es)? not apply to codes in (?:sub)?category \S+ "
    r"with 6th character (?P<sixth>.+)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class TabularCode:
    code: str
    billable: bool
    parent: str | None
    description: str
    details: dict[str, Any]


@dataclass(frozen=True)
class TabularNote:
    code: str  # the code, section id or chapter range the note is written under
    kind: str
    text: str


@dataclass
class _Frame:
    """A chapter, section or diag being read."""

    tag: str
    depth: int
    line: int
    code: str = ""
    description: str = ""
    seven: dict[str, str] | None = None
    seven_notes: dict[str, list[str]] = field(default_factory=dict)
    # (7th characters, 6th characters): combinations the tabular rules out.
    exceptions: list[tuple[frozenset[str], frozenset[str]]] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)
    has_children: bool = False
    # section: its id then any broader sections around it; chapter: the sections so far.
    sections: list[str] = field(default_factory=list)


def _clean(text: str) -> str:
    return " ".join(text.split())


def _bounds(section_id: str) -> tuple[str, str]:
    low, _, high = section_id.partition("-")
    return low, high or low


def _exception(text: str) -> tuple[frozenset[str], frozenset[str]] | None:
    match = _EXCEPTION.search(text)
    if match is None:
        return None
    seventh = frozenset(re.findall(r"\b([0-9A-Z])\b", match["seventh"]))
    sixth = frozenset(re.findall(r"\b([0-9A-Z]) - ", match["sixth"]))
    return (seventh, sixth) if seventh and sixth else None


def _chapter_key(chapter: _Frame) -> str:
    """What a chapter's notes are filed under: its range, ``E00-E89``, as sections are."""
    found = _CHAPTER_RANGE.search(chapter.description)
    return found[1] if found else f"chapter {chapter.code}"


def _placeholder_base(code: str) -> str:
    """The first six characters of a 7th-character code built on ``code`` (with X as needed)."""
    return (code if "." in code else code + ".").ljust(7, "X")


class TabularReader:
    """Streams one tabular XML file; ``items()`` yields codes and notes as they complete."""

    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.version: str | None = None
        self._parser = expat.ParserCreate("utf-8")
        self._parser.buffer_text = True
        self._parser.StartElementHandler = self._start
        self._parser.EndElementHandler = self._end
        self._parser.CharacterDataHandler = self._chars
        self._stack: list[_Frame] = []
        self._depth = 0
        self._container: tuple[str, int] | None = None
        self._text: list[str] | None = None
        self._last_extension: str | None = None
        self._out: list[TabularCode | TabularNote] = []
        self._seen: set[str] = set()
        self._root_checked = False

    def items(self) -> Iterator[TabularCode | TabularNote]:
        with self.source.open_binary() as handle:
            while chunk := handle.read(CHUNK):
                self._feed(chunk, final=False)
                yield from self._out
                self._out.clear()
            self._feed(b"", final=True)
            yield from self._out
            self._out.clear()

    # -- expat plumbing -------------------------------------------------------------

    def _feed(self, data: bytes, final: bool) -> None:
        try:
            self._parser.Parse(data, final)
        except expat.ExpatError as error:
            what = expat.ErrorString(error.code)
            raise CodeImportError(
                self.source.name, f"malformed or truncated XML ({what})", error.lineno
            ) from None

    def _fail(self, message: str) -> CodeImportError:
        return CodeImportError(self.source.name, message, self._parser.CurrentLineNumber)

    def _chars(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)

    def _start(self, tag: str, attrs: dict[str, str]) -> None:
        self._depth += 1
        if not self._root_checked:
            if tag != "ICD10CM.tabular":
                raise self._fail(f"not an ICD-10-CM tabular: the root element is <{tag}>")
            self._root_checked = True
        if tag in TEXT_TAGS:
            self._text = []
        frame = self._stack[-1] if self._stack else None
        if tag == "chapter" and self._depth == 2:
            self._stack.append(_Frame("chapter", self._depth, self._line()))
        elif tag == "section" and frame is not None and frame.tag == "chapter":
            self._start_section(frame, attrs.get("id", ""))
        elif tag == "diag" and frame is not None and frame.tag in ("section", "diag"):
            if frame.tag == "diag" and not frame.code:
                raise self._fail("a diag has child codes before its <name>")
            frame.has_children = True
            self._stack.append(_Frame("diag", self._depth, self._line()))
        elif frame is not None and self._depth == frame.depth + 1:
            if tag in NOTE_KINDS or tag == SEVEN_DEF:
                self._container = (tag, self._depth)
            if tag == SEVEN_DEF:
                if frame.has_children:
                    raise self._fail(f"{frame.code}: <sevenChrDef> after its child codes")
                frame.seven, self._last_extension = {}, None
        elif tag == "extension" and self._in_container() == SEVEN_DEF:
            self._last_extension = attrs.get("char", "")

    def _end(self, tag: str) -> None:
        text = _clean("".join(self._text)) if tag in TEXT_TAGS and self._text is not None else ""
        if tag in TEXT_TAGS:
            self._text = None
        frame = self._stack[-1] if self._stack else None
        if frame is not None and self._depth == frame.depth:
            self._stack.pop()
            self._finish(frame)
        elif tag == "version" and self._depth == 2:
            self.version = text
        elif frame is not None and self._depth == frame.depth + 1:
            if tag == "name":
                frame.code = text
            elif tag == "desc":
                frame.description = text
            if self._container is not None and self._container[1] == self._depth:
                self._container = None
        elif tag == "note" and self._in_container() and text:
            self._note(frame, text)
        elif tag == "extension" and self._in_container() == SEVEN_DEF:
            assert frame is not None and frame.seven is not None
            frame.seven[self._last_extension or ""] = text
        self._depth -= 1

    def _line(self) -> int:
        return self._parser.CurrentLineNumber

    def _in_container(self) -> str | None:
        """The note container the current element sits directly in, if any."""
        if self._container is not None and self._container[1] == self._depth - 1:
            return self._container[0]
        return None

    # -- the tabular's meaning ------------------------------------------------------

    def _start_section(self, chapter: _Frame, section_id: str) -> None:
        if not section_id:
            raise self._fail("a <section> without an id")
        low, high = _bounds(section_id)
        broader = [
            earlier
            for earlier in reversed(chapter.sections)
            if _bounds(earlier)[0] <= low and high <= _bounds(earlier)[1]
        ]
        chapter.sections.append(section_id)
        self._stack.append(
            _Frame(
                "section",
                self._depth,
                self._line(),
                code=section_id,
                sections=[section_id, *broader],
            )
        )

    def _note(self, frame: _Frame | None, text: str) -> None:
        assert frame is not None and self._container is not None
        container = self._container[0]
        if container == SEVEN_DEF:
            if self._last_extension is not None:
                frame.seven_notes.setdefault(self._last_extension, []).append(text)
            return
        frame.notes.append((NOTE_KINDS[container], text))
        if container == "notes" and (rule := _exception(text)) is not None:
            frame.exceptions.append(rule)

    def _finish(self, frame: _Frame) -> None:
        if frame.tag == "chapter":
            frame.code = _chapter_key(frame)
            self._emit_notes(frame)
        elif frame.tag == "section":
            self._emit_notes(frame)
        else:
            self._finish_diag(frame)

    def _emit_notes(self, frame: _Frame) -> None:
        self._out.extend(TabularNote(frame.code, kind, text) for kind, text in frame.notes)

    def _finish_diag(self, frame: _Frame) -> None:
        code = frame.code
        if not _CODE.match(code):
            raise CodeImportError(
                self.source.name, f"{code!r} is not an ICD-10-CM code", frame.line
            )
        enclosing = self._stack[-1]
        parent = enclosing.code if enclosing.tag == "diag" else None
        details: dict[str, Any] = {}
        if parent is None:
            details = {"sections": enclosing.sections, "chapter": _chapter_key(self._stack[0])}
        self._emit_notes(frame)
        seven = self._seven_for(frame)
        self._code(
            TabularCode(
                code, not (frame.has_children or seven), parent, frame.description, details
            ),
            frame.line,
        )
        if frame.has_children or not seven:
            return
        meanings, notes = seven
        base = _placeholder_base(code)
        ruled_out = [rule for f in [*self._stack, frame] for rule in f.exceptions]
        for char, meaning in meanings.items():
            if any(char in seventh and base[-1] in sixth for seventh, sixth in ruled_out):
                continue
            extra: dict[str, Any] = {"base": code, "seventh": char, "seventh_meaning": meaning}
            if notes.get(char):
                extra["seventh_notes"] = notes[char]
            self._code(
                TabularCode(base + char, True, code, f"{frame.description}, {meaning}", extra),
                frame.line,
            )

    def _seven_for(self, frame: _Frame) -> tuple[dict[str, str], dict[str, list[str]]] | None:
        """The 7th-character definition in force for ``frame``: its own or the nearest one."""
        for holder in [frame, *reversed(self._stack)]:
            if holder.seven:
                return holder.seven, holder.seven_notes
        return None

    def _code(self, item: TabularCode, line: int) -> None:
        if item.code in self._seen:
            raise CodeImportError(self.source.name, f"{item.code} appears twice", line)
        self._seen.add(item.code)
        self._out.append(item)
