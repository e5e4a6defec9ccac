"""docs/configuration.md: every option of every door, generated from the definitions the doors
use — the `[tool.flake8-stability]` keys (`config`), the flake8 plugin's options (recorded from
`StabilityChecker.add_options`), and the `stability-audit` and `stability-fix` argument
parsers — plus the environment variables the tool reads."""
from __future__ import annotations

import argparse
from typing import Any, Dict, List, Tuple

from .audit.cli import _parser as audit_parser
from .config import _KEYS, TABLE
from .fix.cli import _parser as fix_parser
from .plugin import StabilityChecker

# Environment variables the tool itself reads (tests/test_configuration_docs.py keeps this list
# equal to the `os.environ.get("NAME")` reads in flake8_stability/).
ENVIRONMENT: Tuple[Tuple[str, str], ...] = (
    ("VIRTUAL_ENV", "The project's interpreter when neither `python` nor `--python`/"
                    "`--stability-python` names one and there is no `.venv/bin/python` under "
                    "the project root: `$VIRTUAL_ENV/bin/python`."),
    ("NO_COLOR", "When set, `stability-audit` prints no colour, also on a terminal."),
    ("TERM", "`dumb`: `stability-audit` draws no progress bar."),
)


class _OptionRecorder:
    """Stands in for flake8's option manager to record the plugin's options."""

    def __init__(self) -> None:
        self.options: List[Tuple[str, Dict[str, Any]]] = []
        self.default_ignore: List[str] = []

    def add_option(self, *names: str, **settings: Any) -> None:
        self.options.append((", ".join(names), settings))

    def extend_default_ignore(self, codes: List[str]) -> None:
        self.default_ignore.extend(codes)


def render() -> str:
    recorder = _OptionRecorder()
    StabilityChecker.add_options(recorder)
    commands = {"stability-audit": audit_parser(), "stability-fix": fix_parser()}
    out = [
        "# Configuration",
        "",
        "<!-- Generated from the option definitions by `python -m flake8_stability.docs`."
        " Do not edit. -->",
        "",
        "Every door reads one table, `[tool.flake8-stability]` in the project's `pyproject.toml`"
        " (the project root is the nearest folder holding `pyproject.toml`, `setup.cfg`, "
        "`setup.py` or `.git`); a command-line option overrides its key. A wrong value is "
        "reported and left out; the other keys are kept.",
        "",
        *_table_section(recorder, commands),
        "",
        *_flake8_section(recorder),
    ]
    for command, parser in commands.items():
        out += ["", *_command_section(command, parser)]
    out += ["", "## Environment variables", "", "| variable | effect |", "|---|---|"]
    out += [f"| `{name}` | {_cell(effect)} |" for name, effect in ENVIRONMENT]
    return "\n".join(out) + "\n"


def _table_section(recorder: _OptionRecorder,
                   commands: Dict[str, argparse.ArgumentParser]) -> List[str]:
    lines = [f"## `[{TABLE}]` in pyproject.toml", "",
             "| key | value | on the command line |", "|---|---|---|"]
    for key, (field, _, expected) in _KEYS.items():
        flags = [f"`{names}` (flake8)" for names, settings in recorder.options
                 if settings.get("dest", _dest(names)) == f"stability_{field}"]
        flags += [f"`{', '.join(action.option_strings)}` ({command})"
                  for command, parser in commands.items() for action in parser._actions
                  if action.dest == field]
        lines.append(f"| `{key}` | {_cell(expected)} | {', '.join(flags) or 'no'} |")
    return lines


def _dest(names: str) -> str:
    """The attribute flake8 stores an option in: its long name, dashes as underscores."""
    return names.split(", ")[-1].lstrip("-").replace("-", "_")


def _flake8_section(recorder: _OptionRecorder) -> List[str]:
    lines = ["## flake8 (`flake8 --select SBA`)", "",
             "The plugin's options, on the command line or in flake8's own config "
             "(`[flake8]` in setup.cfg, tox.ini or .flake8, without the leading dashes):", "",
             "| option | effect |", "|---|---|"]
    lines += [f"| `{names}` | {_cell(settings.get('help', ''))} |"
              for names, settings in recorder.options]
    off = ", ".join(f"`{code}`" for code in recorder.default_ignore)
    lines += ["", "flake8's own `--select`, `--extend-select`, `--ignore`, `--extend-ignore`, "
              "`--per-file-ignores`, `# noqa: SBAxxx` and `--jobs` work as for any plugin."]
    if off:
        lines[-1] += (f" Off by default: {off}; name them in `--extend-select` (a bare `SBA` "
                      "is not enough).")
    return lines


def _command_section(command: str, parser: argparse.ArgumentParser) -> List[str]:
    usage = " ".join(parser.format_usage().split())
    lines = [f"## {command}", "", parser.description or "", "", "```text", usage, "```", "",
             "| option | argument | default | effect |", "|---|---|---|---|"]
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        names = ", ".join(f"`{name}`" for name in action.option_strings) or f"`{action.metavar}`"
        argument = (f"`{action.metavar or action.dest.upper()}`"
                    if action.nargs != 0 and action.option_strings else "")
        if action.choices:
            argument = " \\| ".join(f"`{choice}`" for choice in action.choices)
        lines.append(f"| {names} | {argument} | {_default(action)} | "
                     f"{_cell(action.help or '')} |")
    return lines


def _default(action: argparse.Action) -> str:
    if action.nargs == 0 or action.default in (None, "", argparse.SUPPRESS):
        return ""
    if isinstance(action.default, list):
        return ", ".join(f"`{value}`" for value in action.default)
    return f"`{action.default}`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")
