"""Report formats: each renders a `Report` to text. `FORMATS` maps `--format` names to them."""
from __future__ import annotations

from typing import Callable, Dict

from ..report import Report
from .github import render_github
from .json_format import render_json
from .markdown import render_markdown
from .sarif import render_sarif
from .text import render_text

Renderer = Callable[[Report, bool], str]  # (report, colour) -> text

FORMATS: Dict[str, Renderer] = {
    "text": render_text,
    "json": render_json,
    "markdown": render_markdown,
    "sarif": render_sarif,
    "github": render_github,
}
