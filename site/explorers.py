"""The course's attention widgets, rebuilt for the site as live, kernel-free pages.

A notebook saved by `make notebooks` keeps no widget state, only the widget's text form, e.g.
``AttentionExplorer(children=...)``. For each such output of an attention widget of
``course_kit.explorer`` (the explorer of notebook 08, the reduced ``AttentionMapsWidget`` of
notebooks 03 and 04), the site needs the widget that was shown there: this module reads the
cell's call (``AttentionExplorer(model, tok, text)``) and, for each name it uses, the last
earlier assignment of that name, evaluates those few expressions (only constants and
``cl.``/``course_lib`` calls), rebuilds the widget and writes its page with the explorer's own
public export: ``save_html`` when the widget has one, else ``write_static_html`` on its maps.
A call that cannot be read that way falls back to the explorer on its default text, and the
build says so.
"""

from __future__ import annotations

import ast
import inspect
from dataclasses import dataclass, field
from pathlib import Path

# The attention widgets of course_kit.explorer that the site shows live (by class name; a class
# not in this checkout simply never appears in a saved output).
WIDGET_CLASSES = ("AttentionExplorer", "AttentionMapsWidget")
FALLBACK_CLASS = "AttentionExplorer"
# The model and tokenizer arguments (first two, or by name) of every widget above, and what
# stands in for them when the notebook's model cannot be rebuilt without running the notebook.
MODEL_ARGUMENTS = (0, 1, "model", "tokenizer")
SHIPPED_MODEL = {0: 'cl.load_pretrained("minilm")', 1: 'cl.load_tokenizer("minilm")',
                 "model": 'cl.load_pretrained("minilm")',
                 "tokenizer": 'cl.load_tokenizer("minilm")'}


@dataclass
class ExplorerSpec:
    """How to rebuild one widget: its class, the expressions (source text) of its arguments,
    the assignments they need (in notebook order) and, when something could not be read, why."""

    widget: str = FALLBACK_CLASS
    args: list[str] = field(default_factory=list)
    kwargs: dict[str, str] = field(default_factory=dict)
    needs: list[str] = field(default_factory=list)
    problem: str | None = None
    substitute: str | None = None  # the model expression the shipped MiniLM stands in for


def widget_of_output(output: dict) -> str | None:
    """The class name when this output is the saved text form of an attention widget."""
    if output.get("output_type") != "execute_result":
        return None
    text = output.get("data", {}).get("text/plain", "")
    text = "".join(text) if isinstance(text, list) else text
    return next((name for name in WIDGET_CLASSES if text.startswith(f"{name}(")), None)


def is_explorer_output(output: dict) -> bool:
    """True for the saved text form of an attention widget (its state is never saved)."""
    return widget_of_output(output) is not None


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
        # IPython's line magics (%load_ext course_kit) are not Python: leave them out.
        python = "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                            for line in source.split("\n"))
        try:
            tree = ast.parse(python)
        except SyntaxError:  # a cell magic (%%my_bert), say: nothing we can use
            continue
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                target = stmt.targets[0]
                if isinstance(target, ast.Name):
                    found[target.id] = stmt.value
    return found


def _widget_call(node: ast.AST, widget: str) -> ast.Call | None:
    for child in ast.walk(node):
        if isinstance(child, ast.Call):
            func = child.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == widget:
                return child
    return None


def explorer_spec(cell_source: str, earlier_sources: list[str],
                  widget: str = FALLBACK_CLASS) -> ExplorerSpec:
    """Read how the ``widget`` shown by this cell was made (see the module docstring)."""
    spec = ExplorerSpec(widget=widget)
    try:
        call = _widget_call(ast.parse(cell_source), widget)
    except SyntaxError:
        call = None
    known = _assignments(earlier_sources + [cell_source])
    if call is None:  # e.g. `explorer` alone, shown again: the assignment it came from
        call = next((c for value in reversed(list(known.values()))
                     if (c := _widget_call(value, widget)) is not None), None)
    if call is None:
        spec.problem = f"no {widget}(...) call found in the cell or before it"
        return spec
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

    args = [ast.unparse(node) for node in call.args]
    kwargs = {k.arg: ast.unparse(k.value) for k in call.keywords if k.arg}
    nodes = [*zip(range(len(call.args)), call.args, strict=True),
             *((k.arg, k.value) for k in call.keywords if k.arg)]
    for where, node in nodes:
        if require(node):
            continue
        if where in MODEL_ARGUMENTS:  # e.g. the learner's own model: the shipped one stands in
            spec.substitute = ast.unparse(node)
            continue
        spec.problem = f"{ast.unparse(node)} is not a constant or a course_lib call"
        return spec
    if spec.substitute:  # model and tokenizer are replaced together, so that they match
        for where, expression in SHIPPED_MODEL.items():
            if isinstance(where, int) and where < len(args):
                args[where] = expression
            elif where in kwargs:
                kwargs[where] = expression
    spec.args, spec.kwargs, spec.needs = args, kwargs, needed
    return spec


def _build(spec: ExplorerSpec):
    """The widget, made as the notebook made it; and the arguments it was given, by name."""
    import course_lib as cl
    from course_kit import explorer as explorer_package

    if spec.problem:
        widget = getattr(explorer_package, FALLBACK_CLASS)()
        return widget, {}
    scope: dict = {"cl": cl, "course_lib": cl}
    for line in spec.needs:
        exec(line, scope)  # only `name = <constants and course_lib calls>`, checked above
    cls = getattr(explorer_package, spec.widget)
    args = [eval(expr, scope) for expr in spec.args]
    kwargs = {key: eval(expr, scope) for key, expr in spec.kwargs.items()}
    given = inspect.signature(cls).bind_partial(*args, **kwargs).arguments
    return cls(*args, **kwargs), given


def write_explorer_page(spec: ExplorerSpec, path: Path) -> str:
    """Write the widget's standalone, kernel-free page to ``path``; returns what it shows."""
    from course_kit.explorer import ExplorerState, head_pattern_scores, write_static_html

    if spec.problem:
        print(f"  note: {path.name} shows the explorer's default text: {spec.problem}")
    widget, given = _build(spec)
    maps = widget.maps
    if maps is None:
        raise RuntimeError(f"the {spec.widget} for the site shows no maps")
    if hasattr(widget, "save_html"):
        widget.save_html(path)
    else:  # a lesson's widget: its own reduced view (one head, or one layer's heads)
        layer, head = getattr(widget, "layer", 0), getattr(widget, "head", 0)
        text = widget.text_box.value
        write_static_html(path, maps, head_pattern_scores(maps.weights, maps.tokens),
                          title=f"Attention maps · \u201c{text}\u201d",
                          state=ExplorerState(layer=layer, head=head),
                          parts=widget.view.parts, text=text)
    if "text" not in given:
        return "the explorer's default text"
    pair = given.get("text_pair")
    shown = f"the text \u201c{given['text']}\u201d" + (f" with \u201c{pair}\u201d" if pair else "")
    if spec.substitute:
        shown += (f", drawn with the shipped MiniLM: the notebook's model ({spec.substitute}) "
                  "is built as the notebook runs")
    return shown
