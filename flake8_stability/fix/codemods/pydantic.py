"""`pydantic-v2-idioms` (SBA211): the pydantic 1 spellings that have an exact pydantic 2
equivalent, and only those.

- `Field(regex=...)` / `constr(regex=...)` -> `pattern=`, for a literal pattern anchored with
  `^` and without a top-level `|` (pydantic 1 used `re.match`, pydantic 2 searches, with a
  regex engine that has no look-around and no back-references: other patterns are left to the
  user);
- `min_items=` / `max_items=` in `Field()`, `conlist()`, `conset()`, `confrozenset()` ->
  `min_length=` / `max_length=` (what pydantic 2 maps them to);
- a bare `@root_validator` -> `@root_validator(skip_on_failure=True)`: the same values dict
  in and out; it only no longer runs after a field already failed (the model is invalid then
  anyway). Rewriting it as `@model_validator(mode="after")` changes its body: left to the user;
- `class Config:` holding only assignments of keys pydantic 2 keeps or renamed ->
  `model_config = ConfigDict(...)` (`SettingsConfigDict` in settings classes), with the new
  names (`orm_mode` -> `from_attributes`).

Left alone (a reason is reported): `const=`, `unique_items=`, `allow_mutation=`, `env=`,
non-annotated attributes, `__root__`, removed Config keys and Config classes with methods."""
from __future__ import annotations

import re
from typing import Dict, List, Optional, Sequence, Tuple

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor
from libcst.metadata import MetadataWrapper

from ..codemod import Codemod, Outcome, Target, node_at
from ._nodes import dotted, keyword_arg, parents, replace_nodes, string_literal

_KEYWORDS = {"regex": "pattern", "min_items": "min_length", "max_items": "max_length"}
_UNSUPPORTED_REGEX = re.compile(r"\(\?<?[=!]|\(\?P=|\\[1-9]|\\Z")
# pydantic 1 Config keys that pydantic 2 (and pydantic-settings 2) read with the same meaning.
_SAME_KEYS = frozenset({
    "title", "frozen", "validate_assignment", "arbitrary_types_allowed", "use_enum_values",
    "alias_generator"})
_SETTINGS_KEYS = frozenset({
    "env_file", "env_file_encoding", "env_prefix", "case_sensitive", "env_nested_delimiter",
    "secrets_dir"})
_EXTRA_VALUES = ("allow", "ignore", "forbid")
Parents = Dict[cst.CSTNode, cst.CSTNode]


class PydanticV2Idioms(Codemod):
    name = "pydantic-v2-idioms"
    codes = ("SBA211",)
    safe = True
    summary = ("rewrite pydantic 1 spellings that have an exact pydantic 2 equivalent "
               "(anchored regex= -> pattern=, min_items/max_items, bare @root_validator, "
               "class Config -> model_config)")

    def apply(self, wrapper: MetadataWrapper, targets: Sequence[Target]) -> Outcome:
        outcome = Outcome(wrapper.module)
        up = parents(wrapper)
        replacements: Dict[cst.CSTNode, cst.CSTNode] = {}
        configs: Dict[cst.ClassDef, List[Target]] = {}
        imports: List[Tuple[str, str]] = []
        for target in targets:
            idiom = target.finding.fix.data.get("idiom")
            if idiom == "keyword":
                problem = _keyword(wrapper, target, up, replacements)
            elif idiom == "root-validator":
                problem = _root_validator(wrapper, target, up, replacements)
            elif idiom == "config-key":
                problem = _config_of(wrapper, target, up, configs)
            else:
                problem = "no exact pydantic 2 spelling: rewrite it by hand"
            if problem:
                outcome.skipped.append((target, problem))
            elif idiom != "config-key":
                outcome.fixed.append(target)
        for config, config_targets in configs.items():
            problem, new, needed = _model_config(config, config_targets, up)
            if problem:
                outcome.skipped.extend((target, problem) for target in config_targets)
                continue
            replacements[config] = new  # type: ignore[assignment]
            imports.append(needed)  # type: ignore[arg-type]
            outcome.fixed.extend(config_targets)
        module = replace_nodes(wrapper.module, replacements)
        if imports:
            context = CodemodContext()
            for source, name in imports:
                AddImportsVisitor.add_needed_import(context, source, name)
            module = AddImportsVisitor(context).transform_module(module)
        outcome.module = module
        return outcome


def _keyword(wrapper: MetadataWrapper, target: Target, up: Parents,
             replacements: Dict[cst.CSTNode, cst.CSTNode]) -> Optional[str]:
    """Rename the keyword whose value the target points at."""
    old = target.finding.fix.data.get("keyword", "")
    value = node_at(wrapper, target, cst.BaseExpression)
    arg = up.get(value) if value is not None else None
    call = up.get(arg) if isinstance(arg, cst.Arg) else None
    if not isinstance(call, cst.Call) or not isinstance(arg, cst.Arg) or arg.keyword is None:
        return "the keyword argument is not found"
    new = _KEYWORDS.get(old)
    if arg.keyword.value == new:
        return None  # already renamed
    if new is None or arg.keyword.value != old:
        return f"{old}= has no exact pydantic 2 keyword: rewrite it by hand"
    if keyword_arg(call, new) is not None:
        return f"the call already has {new}="
    if old == "regex":
        problem = _pattern_problem(arg.value)
        if problem:
            return problem
    replacements[arg] = arg.with_changes(keyword=cst.Name(new))
    return None


def _pattern_problem(value: cst.BaseExpression) -> Optional[str]:
    """Why `regex=value` does not mean the same as `pattern=value` in pydantic 2."""
    text = string_literal(value)
    if text is None:
        return "the pattern is not a string literal: check it against pydantic 2's regex engine"
    if not text.startswith(("^", "\\A")):
        return ("the pattern is not anchored with ^: pydantic 1 matched at the start, pydantic 2 "
                "searches anywhere (add ^ by hand if that is what it meant)")
    if _UNSUPPORTED_REGEX.search(text):
        return "the pattern uses look-around, back-references or \\Z, which pydantic 2 rejects"
    if _top_level_alternation(text):
        return ("the pattern has a top-level `|`: pydantic 2 searches each alternative anywhere "
                "(wrap them in a group after ^ by hand)")
    return None


def _top_level_alternation(pattern: str) -> bool:
    """Whether `|` splits the whole pattern (outside groups and character classes)."""
    depth, in_class, escaped = 0, False, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return True
    return False


def _root_validator(wrapper: MetadataWrapper, target: Target, up: Parents,
                    replacements: Dict[cst.CSTNode, cst.CSTNode]) -> Optional[str]:
    node = node_at(wrapper, target, cst.BaseExpression)
    if not isinstance(up.get(node), cst.Decorator):  # type: ignore[arg-type]
        return "the decorator is not found"
    true = cst.Arg(cst.Name("True"), keyword=cst.Name("skip_on_failure"),
                   equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))
    if isinstance(node, (cst.Name, cst.Attribute)):
        replacements[node] = cst.Call(node, [true])
        return None
    if not isinstance(node, cst.Call) or any(arg.keyword is None for arg in node.args):
        return "the decorator is given the function: rewrite it by hand"
    skip = keyword_arg(node, "skip_on_failure")
    if skip is not None:
        if not (isinstance(skip.value, cst.Name) and skip.value.value in ("True", "False")):
            return "skip_on_failure is not a literal"
        replacements[skip.value] = cst.Name("True")
        return None
    args = list(node.args)
    if args:
        space = cst.SimpleWhitespace(" ")
        args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=space))
    replacements[node] = node.with_changes(args=[*args, true])
    return None


def _config_of(wrapper: MetadataWrapper, target: Target, up: Parents,
               configs: Dict[cst.ClassDef, List[Target]]) -> Optional[str]:
    """File the target under the `class Config` holding the key it points at."""
    node = node_at(wrapper, target, cst.BaseSmallStatement)
    line = up.get(node) if node is not None else None
    block = up.get(line) if line is not None else None
    config = up.get(block) if block is not None else None
    if not (isinstance(config, cst.ClassDef) and config.name.value == "Config"):
        return "the Config key is not found"
    configs.setdefault(config, []).append(target)
    return None


def _model_config(config: cst.ClassDef, targets: List[Target], up: Parents
                  ) -> Tuple[Optional[str], Optional[cst.SimpleStatementLine],
                             Optional[Tuple[str, str]]]:
    """(why not; `model_config = ConfigDict(...)` replacing the class; the import it needs)."""
    renamed = {}
    for target in targets:
        data = target.finding.fix.data
        if not {"key", "new"} <= data.keys():
            return "the Config key or its new name is not known", None, None
        renamed[data["key"]] = data["new"]
    owner = up.get(up.get(config))  # type: ignore[arg-type]
    if not isinstance(owner, cst.ClassDef) or "model_config" in _assigned(owner):
        return "the model already has model_config", None, None
    pairs, comments, problem = _config_pairs(config, renamed)
    if problem:
        return problem, None, None
    settings = any(key in _SETTINGS_KEYS for key, _ in pairs) or any(
        (dotted(base.value) or "").endswith("BaseSettings") for base in owner.bases)
    source, factory = (("pydantic_settings", "SettingsConfigDict") if settings
                       else ("pydantic", "ConfigDict"))
    arguments = ", ".join(f"{key}={value}" for key, value in pairs)
    statement = cst.parse_statement(f"model_config = {factory}({arguments})\n")
    leading = [*config.leading_lines,
               *(cst.EmptyLine(comment=cst.Comment(comment)) for comment in comments)]
    return None, statement.with_changes(leading_lines=leading), (source, factory)  # type: ignore


def _assigned(cls: cst.ClassDef) -> List[str]:
    names = []
    for statement in cls.body.body:
        for small in getattr(statement, "body", ()) if isinstance(
                statement, cst.SimpleStatementLine) else ():
            if isinstance(small, cst.Assign):
                names += [dotted(t.target) or "" for t in small.targets]
            elif isinstance(small, cst.AnnAssign):
                names.append(dotted(small.target) or "")
    return names


def _config_pairs(config: cst.ClassDef, renamed: Dict[str, str]
                  ) -> Tuple[List[Tuple[str, str]], List[str], Optional[str]]:
    """The (pydantic 2 key, value code) pairs of a Config class, its comments, and why it
    cannot be translated exactly."""
    module = cst.Module([])
    pairs: List[Tuple[str, str]] = []
    comments: List[str] = []
    for statement in config.body.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            return [], [], "class Config holds more than key assignments"
        comments += [line.comment.value for line in statement.leading_lines if line.comment]
        if statement.trailing_whitespace.comment:
            comments.append(statement.trailing_whitespace.comment.value)
        for small in statement.body:
            if isinstance(small, cst.Pass) or (isinstance(small, cst.Expr) and isinstance(
                    small.value, (cst.SimpleString, cst.ConcatenatedString))):
                continue
            pair = _pair(module, small, renamed)
            if isinstance(pair, str):
                return [], [], pair
            pairs.append(pair)
    return pairs, comments, None if pairs else "class Config sets nothing"


def _pair(module: cst.Module, small: cst.BaseSmallStatement,
          renamed: Dict[str, str]) -> "Tuple[str, str] | str":
    if isinstance(small, cst.Assign) and len(small.targets) == 1:
        target, value = small.targets[0].target, small.value
    elif isinstance(small, cst.AnnAssign) and small.value is not None:
        target, value = small.target, small.value
    else:
        return "class Config holds a statement that is not a key assignment"
    key = dotted(target) or ""  # type: ignore[arg-type]
    if key == "extra" and string_literal(value) not in _EXTRA_VALUES:
        return "extra is not a string literal"
    if key in renamed:
        return renamed[key], module.code_for_node(value)
    if key in _SAME_KEYS or key in _SETTINGS_KEYS or key == "extra":
        return key, module.code_for_node(value)
    return f"class Config key {key} has no exact pydantic 2 equivalent"
