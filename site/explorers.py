"""The attention explorers of the course, rebuilt for the site as live, kernel-free pages.

A notebook saved by `make notebooks` keeps no widget state, only the widget's text form,
``AttentionExplorer(children=...)``. For each such output the site needs the explorer that was
shown there: this module reads the cell's ``AttentionExplorer(...)`` call and, for each name it
uses (the model, the tokenizer, the text), the last earlier assignment of that name, evaluates
those few expressions (only constants and ``cl.``/``course_lib`` calls), and writes the page
with the explorer's own public export, ``AttentionExplorer.save_html``. What cannot be read that
way falls back to the shipped MiniLM on the explorer's default text, and the build says so.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

EXPLORER_CLASS = "AttentionExplorer"
CALL_ARGS = ("model", "tokenizer", "text", "text_pair")  # AttentionExplorer's positional order


@dataclass
class ExplorerSpec:
    """How to rebuild one explorer: the expressions (source text) of its arguments, the
    assignments they need (in notebook order) and, when something could not be read, why."""

    arguments: dict[str, str] = field(default_factory=dict)
    needs: list[str] = field(default_factory=list)
    problem: str | None = None


def is_explorer_output(output: dict) -> bool:
    """True for the saved text form of an AttentionExplorer widget (its state is never saved)."""
    text = output.get("data", {}).get("text/plain", "")
    text = "".join(text) if isinstance(text, list) else text
    return output.get("output_type") == "execute_result" and text.startswith(
        f"{EXPLORER_CLASS}(")


def _is_safe(node: ast.AST) -> bool:
    """Only constants, names, attribute chains, calls, lists/tuples/dicts and keyword args."""
    allowed = (ast.Constant, ast.Name, ast.Attribute, ast.Call, ast.keyword, ast.Load,
               ast.List, ast.Tuple, ast.Dict, ast.UnaryOp, ast.USub, ast.BinOp, ast.Add)
    return all(isinstance(n, allowed) for n in ast.walk(node))


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _assignments(sources: list[str]) -> dict[str, ast.AST]:
    """name -> the value of its last simple assignment (``name = expr``) in these cells."""
    found: dict[str, ast.AST] = {}
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:  # an IPython magic, say: that cell assigns nothing we can use
            continue
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                target = stmt.targets[0]
                if isinstance(target, ast.Name):
                    found[target.id] = stmt.value
    return found


def _explorer_call(source: str) -> ast.Call | None:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == EXPLORER_CLASS:
                return node
    return None


def explorer_spec(cell_source: str, earlier_sources: list[str]) -> ExplorerSpec:
    """Read how the explorer of this cell was made (see the module docstring)."""
    spec = ExplorerSpec()
    call = _explorer_call(cell_source)
    if call is None:  # e.g. `explorer` alone, shown again: find the assignment it came from
        values = _assignments(earlier_sources + [cell_source])
        for value in reversed(list(values.values())):
            if isinstance(value, ast.Call) and _explorer_call(ast.unparse(value)):
                call = value
                break
    if call is None:
        spec.problem = "no AttentionExplorer(...) call found in the cell or before it"
        return spec
    args = dict(zip(CALL_ARGS, call.args, strict=False))  # fewer args than names
    args.update({k.arg: k.value for k in call.keywords if k.arg in CALL_ARGS})
    known = _assignments(earlier_sources + [cell_source])
    needed: list[str] = []

    def require(node: ast.AST, depth: int = 0) -> bool:
        if not _is_safe(node) or depth > 5:
            return False
        for name in sorted(_names(node) - {"cl", "course_lib"}):
            if name not in known or not require(known[name], depth + 1):
                return False
            line = f"{name} = {ast.unparse(known[name])}"
            if line not in needed:
                needed.append(line)
        return True

    for key, node in args.items():
        if not require(node):
            spec.problem = f"the {key} ({ast.unparse(node)}) is not a constant or a course_lib call"
            return spec
        spec.arguments[key] = ast.unparse(node)
    spec.needs = needed
    return spec


def write_explorer_page(spec: ExplorerSpec, path: Path) -> str:
    """Write the explorer's standalone page to ``path``; returns what it shows (for the log)."""
    import course_lib as cl
    from course_lib.explorer import AttentionExplorer

    if spec.problem:
        explorer = AttentionExplorer()
        shown = f"the shipped MiniLM on the default text ({spec.problem})"
    else:
        scope: dict = {"cl": cl, "course_lib": cl}
        for line in spec.needs:
            exec(line, scope)  # only `name = <constants and course_lib calls>`, checked above
        kwargs = {key: eval(expr, scope) for key, expr in spec.arguments.items()}
        explorer = AttentionExplorer(**kwargs)
        shown = ", ".join(f"{k}={v}" for k, v in spec.arguments.items()) or "the defaults"
    if explorer.maps is None:
        raise RuntimeError(f"the explorer for the site shows no maps: {explorer.message}")
    explorer.save_html(path)
    return shown
