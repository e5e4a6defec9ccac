"""A requirement as written on one physical line of a requirement file or of `pyproject.toml`:
where the requirement naming a package sits on the line, and the two rewrites stability-fix makes
to it (add an extra, add an upper bound). Each rewrite is checked with `packaging`: the result
must mean exactly the old requirement plus the change, or it is refused (None)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional, Tuple

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

REQUIREMENTS = "requirements"  # a pip requirement file
TOML = "toml"  # a string item of an array in pyproject.toml

# pip ends the requirement at an option (` --hash`), a comment (` #`) or a continuation (`\`).
_REQUIREMENT_END = re.compile(r"\s+(?:-|#)|\s*\\$")
# A TOML string on a line (basic or literal), or the comment that ends the line's content.
_TOML_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'|#.*')
_NAME = re.compile(r"\s*[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")
_BOUNDING = frozenset({"<", "<=", "==", "===", "~="})


@dataclass(frozen=True)
class Span:
    """Where a requirement is written on a line: `line[start:end]` is its text; for a TOML
    string, `quote` is its quote character (the span is inside the quotes)."""

    start: int
    end: int
    quote: str = ""

    def text(self, line: str) -> str:
        return line[self.start:self.end]


def parsed(text: str) -> Optional[Requirement]:
    try:
        return Requirement(text)
    except InvalidRequirement:
        return None


def find(line: str, name: str, form: str) -> Optional[Span]:
    """The requirement for package `name` written on `line`, if exactly one is."""
    found = _requirement_file_spans(line) if form == REQUIREMENTS else _toml_spans(line)
    wanted = canonicalize_name(name)
    named = [span for span in found if _names(span.text(line), wanted)]
    return named[0] if len(named) == 1 else None


def _names(text: str, wanted: str) -> bool:
    requirement = parsed(text)
    return requirement is not None and canonicalize_name(requirement.name) == wanted


def _requirement_file_spans(line: str) -> List[Span]:
    start = len(line) - len(line.lstrip())
    if line[start:start + 1] in ("", "-", "#"):
        return []  # empty, an option line (`-r`, `-e`, `--hash`) or a comment
    end = _REQUIREMENT_END.search(line, start)
    stop = end.start() if end is not None else len(line.rstrip())
    return [Span(start, stop)]


def _toml_spans(line: str) -> List[Span]:
    """The string items on a TOML line (escaped ones are left alone)."""
    spans = []
    for token in _TOML_TOKEN.finditer(line):
        text = token.group()
        if text.startswith("#"):
            break
        if "\\" not in text:
            spans.append(Span(token.start() + 1, token.end() - 1, text[0]))
    return spans


@dataclass(frozen=True)
class AddExtra:
    """`name[extra]...`: the extra added to what the requirement already asks for."""

    extra: str

    def describe(self) -> str:
        return f"add the [{self.extra}] extra"

    def apply(self, text: str) -> Optional[str]:
        old = parsed(text)
        name = _NAME.match(text)
        if old is None or old.url is not None or name is None:
            return None
        if self.extra in old.extras:
            return text
        rest = text[name.end():]
        opening = len(rest) - len(rest.lstrip())
        if rest[opening:opening + 1] == "[":
            close = rest.index("]")
            new = text[:name.end() + close] + f",{self.extra}" + text[name.end() + close:]
        else:
            new = text[:name.end()] + f"[{self.extra}]" + rest
        result = parsed(new)
        same = (result is not None and result.extras == old.extras | {self.extra}
                and result.specifier == old.specifier and result.marker == old.marker
                and result.name == old.name)
        return new if same else None


@dataclass(frozen=True)
class AddUpperBound:
    """`name>=1.4` -> `name>=1.4,<2`: the specifier narrowed by `<version`."""

    version: str

    def describe(self) -> str:
        return f"cap it below {self.version}"

    def apply(self, text: str) -> Optional[str]:
        old = parsed(text)
        if old is None or old.url is not None or not str(old.specifier):
            return None
        if any(spec.operator in _BOUNDING for spec in old.specifier):
            return text
        head, semicolon, marker = text.partition(";")
        stripped = head.rstrip()
        cap = f",<{self.version}"
        if stripped.endswith(")"):  # `name (>=1.4)`: the old parenthesised form
            new_head = stripped[:-1] + cap + ")" + head[len(stripped):]
        else:
            new_head = stripped + cap + head[len(stripped):]
        new = new_head + semicolon + marker
        result = parsed(new)
        try:
            wanted = old.specifier & SpecifierSet(f"<{self.version}")
        except InvalidSpecifier:
            return None
        same = (result is not None and result.specifier == wanted
                and result.extras == old.extras and result.marker == old.marker
                and result.name == old.name)
        return new if same else None


def entry_line(anchor: str, span: Span, requirement: str) -> Tuple[Optional[str], str]:
    """How to add `requirement` next to the TOML item at `span` of line `anchor`: (a new line
    to insert after it, "") when the item has a line of its own ending in a comma, else (None,
    the anchor line with the new item written right after the old one)."""
    quote = span.quote
    before = anchor[:span.start - 1]
    after = anchor[span.end + 1:]
    comment = after.find("#")
    code_after = (after[:comment] if comment >= 0 else after).strip()
    if not before.strip() and code_after == ",":
        return f"{before}{quote}{requirement}{quote},", ""
    item = f"{quote}{requirement}{quote}"
    return None, anchor[:span.end + 1] + f", {item}" + after
