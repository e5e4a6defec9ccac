"""docs/rules.md and the codemod registry agree: every codemod a rule names is registered or
listed in `docs.PLANNED`, the listed ones are not registered yet, and the docs show a registered
codemod's safety and summary."""
from __future__ import annotations

from flake8_stability import docs
from flake8_stability.fix.codemod import registry
from flake8_stability.rules import all_rules


def test_every_codemod_a_rule_names_is_registered_or_planned() -> None:
    named = {rule.codemod for rule in all_rules() if rule.codemod}
    missing = sorted(named - set(registry()) - docs.PLANNED)
    assert missing == [], f"rules name codemods that do not exist and are not PLANNED: {missing}"


def test_planned_lists_only_codemods_that_do_not_exist_and_that_rules_name() -> None:
    named = {rule.codemod for rule in all_rules() if rule.codemod}
    assert sorted(docs.PLANNED & set(registry())) == [], "registered: remove them from PLANNED"
    assert sorted(docs.PLANNED - named) == [], "no rule names these: remove them from PLANNED"


def test_the_docs_show_a_registered_codemod_and_label_a_planned_one() -> None:
    text = docs.render()
    summary = registry()["async-driver-url"].summary
    assert f"mechanical fix `async-driver-url` (safe: {summary})" in text
    assert "mechanical fix `moved-import` (safe: " in text
    for name in docs.PLANNED:
        assert f"mechanical fix `{name}` (planned for stability-fix)" in text
