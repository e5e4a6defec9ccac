"""The registry is the single source of truth: every rule documents itself completely."""
from __future__ import annotations

import pytest

from flake8_stability.docs import DEFAULT_PATH, render
from flake8_stability.findings import Category
from flake8_stability.rules import all_rules

RANGES = {"0": Category.BOOT, "1": Category.IMPORTS, "2": Category.DEPENDENCIES,
          "3": Category.DATABASE, "4": Category.APP, "5": Category.CONFIG, "6": Category.STRUCTURE}


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.code)
def test_rule_is_self_describing(rule) -> None:
    for attribute in ("name", "summary", "what", "why", "how_to_fix", "fix_safety", "versions"):
        text = getattr(rule, attribute)
        assert isinstance(text, str) and text.strip(), f"{rule.code}.{attribute} is empty"
    assert rule.category is RANGES[rule.code[3]], "a code's hundreds digit fixes its category"
    assert len(rule.valid) >= 2 and len(rule.invalid) >= 2, "at least two examples of each kind"
    assert rule.name == rule.name.lower() and " " not in rule.name


def test_names_are_unique() -> None:
    names = [rule.name for rule in all_rules()]
    assert len(names) == len(set(names))


def test_rules_md_is_generated_from_the_registry() -> None:
    assert DEFAULT_PATH.read_text(encoding="utf-8") == render(), (
        "docs/rules.md is stale: run `python -m flake8_stability.docs`")
