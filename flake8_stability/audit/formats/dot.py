"""The import graph as Graphviz DOT (`--graph-dot FILE`): one node per project module, the
target module boxed, imports at boot as solid edges, deferred ones dashed, TYPE_CHECKING-only
ones dotted, and the edges of a cycle that fails at boot in bold red."""
from __future__ import annotations

import json
from typing import List

from ..graph import AT_IMPORT, DEFERRED
from ..report import Report

_STYLES = {AT_IMPORT: "solid", DEFERRED: "dashed"}


def render_dot(report: Report) -> str:
    lines: List[str] = ["digraph imports {", "  rankdir=LR;", "  node [shape=ellipse];"]
    for index, project in enumerate(report.projects):
        graph = project.graph
        if graph is None:
            continue
        lines.append(f"  subgraph cluster_{index} {{")
        lines.append(f"    label={_quote(str(project.root))};")
        for name, path in graph.modules.items():
            shape = ", shape=box, style=bold" if name == graph.entry else ""
            lines.append(f"    {_quote(f'{index}:{name}')} [label={_quote(name)}, "
                         f"tooltip={_quote(path)}{shape}];")
        for edge in graph.edges:
            style = _STYLES.get(edge.kind, "dotted")
            fatal = ', color=red, penwidth=2, label="fails"' if edge.fatal else ""
            lines.append(f"    {_quote(f'{index}:{edge.source}')} -> "
                         f"{_quote(f'{index}:{edge.target}')} [style={style}{fatal}];")
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid DOT quoted ID
