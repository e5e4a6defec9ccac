"""Invalid examples that declare the failure they cause are executed with the real libraries
(those of the example's `installed` venv first), in a subprocess with a clean environment, and
must fail exactly as documented."""
from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

import example_projects
from flake8_stability.findings import Severity
from flake8_stability.rules import all_rules
from flake8_stability.rules.base import SNIPPET, Invalid

PROVEN = [
    pytest.param(rule.code, index, id=f"{rule.code}-{index}",
                 marks=example_projects.marks(example))
    for rule in all_rules()
    for index, example in enumerate(rule.invalid)
    if example.raises
]

_DRIVER = example_projects.SITE_FIRST + textwrap.dedent('''
    import json, sys
    sys.path.insert(0, ".")
    site_first(sys.argv[3])
    try:
        namespace = vars(__import__("snippet")) if sys.argv[2] == "snippet" else {}
        exec(compile(sys.argv[1], "<run>", "exec"), namespace)
    except BaseException as exc:
        name = type(exc).__module__ + "." + type(exc).__qualname__
        print("FAILURE " + json.dumps(name + ": " + str(exc)))
        sys.exit(3)
    print("FAILURE " + json.dumps("no failure"))
''')


def _failure(example: Invalid, folder: Path) -> str:
    """`module.Type: message` of what the example raised (the whole message, newlines kept):
    a snippet is imported, then `run` runs in its namespace; a project only runs `run`. With
    `installed`, the example's venv comes ahead of the test stack on `sys.path`."""
    files = example.files
    for path, text in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text)
    mode = "snippet" if list(files) == [SNIPPET] else "project"
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
    env.update(example.env or {})
    python = example_projects.interpreter(example)
    done = subprocess.run([python, "-W", "ignore", "-c", _DRIVER, example.run or "pass",
                           mode, example_projects.site_packages(example)], cwd=folder,
                          env=env, capture_output=True, text=True, timeout=120)
    marked = [line for line in done.stdout.splitlines() if line.startswith("FAILURE ")]
    return json.loads(marked[-1][len("FAILURE "):]) if marked else done.stderr


@pytest.mark.proof
@pytest.mark.parametrize("code,index", PROVEN)
def test_invalid_example_fails_as_documented(code: str, index: int, tmp_path: Path) -> None:
    rule = next(r for r in all_rules() if r.code == code)
    example = rule.invalid[index]
    failure = _failure(example, tmp_path)
    expected = example.raises.replace("builtins.", "")
    assert failure.replace("builtins.", "").startswith(expected), failure


@pytest.mark.parametrize("rule", [r for r in all_rules() if r.severity is Severity.BLOCKING],
                         ids=lambda r: r.code)
def test_every_blocking_example_is_proven(rule) -> None:
    unproven = [example.code for example in rule.invalid if not example.raises]
    assert not unproven, f"{rule.code} invalid examples without `raises`: {unproven}"
