"""Generate docs/rules.md from the rule registry and docs/configuration.md from the option
definitions: `python -m flake8_stability.docs [--check]`."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import FrozenSet, List, Optional, Type, Union

from . import configuration_docs
from .fix.codemod import registry
from .rules import Rule, all_rules
from .rules.base import Invalid, Valid

DOCS = Path(__file__).resolve().parent.parent / "docs"
DEFAULT_PATH = DOCS / "rules.md"
CONFIGURATION_PATH = DOCS / "configuration.md"

# Codemods rules name that `stability-fix` does not have yet (tests/fix/test_docs.py keeps this set
# exact: a name leaves it when its codemod is registered).
PLANNED: FrozenSet[str] = frozenset()


def render() -> str:
    rules = all_rules()
    out: List[str] = [
        "# Rules",
        "",
        "<!-- Generated from the rule registry by `python -m flake8_stability.docs`."
        " Do not edit. -->",
        "",
        "Severities: **blocking** — importing or starting the app fails; **runtime** — the first "
        "request or database use fails; **warning** — works, but wrong or fragile.",
        "",
        "| code | name | severity | category | finds |",
        "|---|---|---|---|---|",
    ]
    out += [f"| [{r.code}](#{r.code.lower()}) | {r.name} | {r.severity.value} | {r.category.value} "
            f"| {_cell(r.summary)} |" for r in rules]
    for rule in rules:
        out += ["", *_section(rule)]
    return "\n".join(out) + "\n"


def _section(rule: Type[Rule]) -> List[str]:
    facts = [f"severity **{rule.severity.value}**", f"category **{rule.category.value}**"]
    facts.append(_codemod_fact(rule.codemod) if rule.codemod else "fix by hand")
    if not rule.enabled_by_default:
        facts.append("off by default (enable with `--extend-select`)")
    if rule.references:
        facts.append("catalog " + ", ".join(rule.references))
    lines = [
        f"## {rule.code}",
        "",
        f"**{rule.name}**: {rule.summary}. " + " · ".join(facts),
        "",
        f"**What it finds.** {rule.what}",
        "",
        f"**Why it breaks.** {rule.why}",
        "",
        f"**How to fix.** {rule.how_to_fix}",
        "",
        f"**Fix safety.** {rule.fix_safety}",
        "",
        f"**Versions affected.** {rule.versions}",
    ]
    for example in rule.invalid:
        lines += _example("Flagged", example)
        if example.raises:
            when = f" when `{example.run}` runs." if example.run else " on import."
            lines += ["", f"Fails with `{example.raises}`{when}"]
    for example in rule.valid:
        lines += _example("Not flagged", example)
    return lines


def _codemod_fact(name: str) -> str:
    """The codemod `stability-fix` applies for the rule: its safety and what it does."""
    codemod = registry().get(name)
    if codemod is None:
        return f"mechanical fix `{name}` (planned for stability-fix)"
    safety = "safe" if codemod.safe else "unsafe, applied only with `stability-fix --unsafe`"
    return f"mechanical fix `{name}` ({safety}: {codemod.summary})"


def _example(title: str, example: Union[Valid, Invalid]) -> List[str]:
    """The heading, the code and the interpreter the example is judged with, if not ours."""
    lines = ["", title + (f" ({example.note})" if example.note else "") + ":", "",
             "```python", example.code.rstrip("\n"), "```"]
    if example.installed:
        pins = ", ".join(pin.replace("==", " ") for pin in example.installed)
        lines += ["", f"Judged with an interpreter that has {pins}."]
    return lines


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if a file is stale")
    parser.add_argument("--path", type=Path, default=DEFAULT_PATH, help="the rules reference")
    parser.add_argument("--configuration-path", type=Path, default=CONFIGURATION_PATH)
    args = parser.parse_args(argv)
    stale = False
    for path, text in ((args.path, render()),
                       (args.configuration_path, configuration_docs.render())):
        if args.check:
            current = path.read_text(encoding="utf-8") if path.exists() else ""
            if current != text:
                print(f"{path} is stale: run python -m flake8_stability.docs", file=sys.stderr)
                stale = True
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
