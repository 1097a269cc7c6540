"""``%%my_bert <module>``: run a notebook cell and keep its code in the learner's own package.

Like d2l's ``#@save``, but for the learner: an exercise cell that starts with
``%%my_bert attention`` runs as usual, then its functions and classes are saved into
``my_bert/attention.py`` in the current working folder (the notebooks/ folder in JupyterLab).
The capstone notebook (07b) builds a whole BERT from that package.

Rules, each said in the cell's output when it applies:

- only imports, functions (``def``, or a name bound to a lambda), classes, constants
  (UPPER_CASE names bound to literals) and the other values the cell's own functions use
  (``SCALE = math.sqrt(64)`` in the same cell) are saved; prints, checks and test values stay
  in the notebook;
- a function that uses a notebook variable from another cell (``d = 64``) is told to compute it
  from its inputs instead;
- each definition is one block of the file, keyed by the name it defines: re-running a cell
  replaces only the blocks of the names it defines (in their place) and keeps every other one,
  a hand-written helper included, so nothing is ever saved twice or lost;
- a cell that raises is not saved (the file keeps its previous version);
- a save replaces the file atomically (a temporary file, then a rename) under a lock shared by
  kernels, keeps the version before it in ``my_bert/.previous/``, never writes through a
  symbolic link or outside ``my_bert/``, and sets aside (with a time stamp) a file that no
  longer parses;
- a function still left as ``raise NotImplementedError`` is not written yet, so it is not saved;
- the modules the saved code uses (``torch``, ``F``, ...) are imported at the top of the file, and
  a name saved in another ``my_bert`` file is imported from there, so every file stays importable.

Load it in a notebook with ``%load_ext course_kit`` (``import course_lib`` registers nothing).
"""

from __future__ import annotations

import ast
import builtins
import keyword
import re
import symtable
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path

from .files import keep_beside, locked

PACKAGE = "my_bert"
MARKER = "# [my_bert cell] defines: "  # one line before each saved block
MODULE_RULE = re.compile(r"[a-z][a-z0-9_]*")  # a letter first: __init__ etc. are the package's
PREVIOUS = ".previous"  # my_bert/.previous/<module>.py: the version before the latest save
PACKAGE_DOC = ('"""My BERT: the code I wrote in the course notebooks, saved by %%my_bert '
               '(one file per module named in the cells)."""\n')
CHECKS_PACKAGE = "course_kit.checks"  # checkers are the notebook's business, never saved


@dataclass
class Block:
    """One saved cell: the names it defines and its source text."""

    names: tuple[str, ...]
    text: str


@dataclass
class SaveResult:
    """What ``save_cell`` did, in words the learner reads."""

    path: Path | None = None
    saved: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failing: bool = False  # a check in the cell said "not yet right"

    def __str__(self) -> str:
        lines = []
        if self.saved and self.path is not None:
            where = f"{self.path.parent.name}/{self.path.name}"
            but = (", but it does not pass its check yet (notebook 07b uses course_lib's "
                   "version until it does)") if self.failing else ""
            lines.append(f"saved {', '.join(self.saved)} to {where}{but}")
        return "\n".join(lines + [f"%%my_bert: {note}" for note in self.notes])


def check_module_name(module: str) -> str:
    """The module name after ``%%my_bert``: a plain lowercase Python name such as ``attention``."""
    module = module.strip()
    if not MODULE_RULE.fullmatch(module) or keyword.iskeyword(module):
        raise ValueError(f"%%my_bert needs one module name, a lowercase Python name such as "
                         f"'attention' (a letter, then letters, digits, _; names such as "
                         f"__init__ are the package's own), got {module!r}")
    return module


# ----- what a cell defines --------------------------------------------------------------------


def _is_stub(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A function whose body (after its docstring) only raises NotImplementedError."""
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    if len(body) != 1 or not isinstance(body[0], ast.Raise) or body[0].exc is None:
        return False
    exc = body[0].exc
    target = exc.func if isinstance(exc, ast.Call) else exc
    return isinstance(target, ast.Name) and target.id == "NotImplementedError"


def _is_constant(node: ast.expr) -> bool:
    """A literal (number, string, tuple/list/dict of literals): safe to run at import time."""
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _assigned_names(node: ast.Assign | ast.AnnAssign) -> list[str] | None:
    """The plain names an assignment binds, or None when it binds anything else (x[0] = ...)."""
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    names = []
    for target in targets:
        parts = target.elts if isinstance(target, ast.Tuple) else [target]
        if not all(isinstance(part, ast.Name) for part in parts):
            return None
        names += [part.id for part in parts]
    return names


def _is_check_import(node: ast.stmt) -> bool:
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").startswith(CHECKS_PACKAGE)
    return isinstance(node, ast.Import) and all(
        alias.name.startswith(CHECKS_PACKAGE) for alias in node.names)


@dataclass
class CellParts:
    """A cell's top-level statements, sorted by what ``%%my_bert`` does with them."""

    definitions: list[tuple[int, tuple[str, ...], str]]  # (position, names, source): saved
    values: list[tuple[int, tuple[str, ...], str]]  # other assignments: saved when used
    imports: list[str]
    stubs: list[str]  # functions not written yet (only raise NotImplementedError)


def split_cell(source: str) -> CellParts:
    """Sort a cell's statements: functions (``def`` or a name bound to a lambda), classes and
    UPPER_CASE literals are definitions; other plain assignments (``SCALE = math.sqrt(64)``,
    ``table = {...}``) are values, saved only when a definition uses them; prints and calls
    are never saved."""
    tree = ast.parse(source)
    parts = CellParts([], [], [], [])
    for position, node in enumerate(tree.body):
        segment = ast.get_source_segment(source, node, padded=False)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if not isinstance(node, ast.ClassDef) and _is_stub(node):
                parts.stubs.append(node.name)
                continue
            start = min([node.lineno] + [d.lineno for d in node.decorator_list])
            lines = source.splitlines()[start - 1:node.end_lineno]
            parts.definitions.append((position, (node.name,), "\n".join(lines)))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            relative = isinstance(node, ast.ImportFrom) and node.level > 0
            if not relative and not _is_check_import(node):
                parts.imports.append(segment)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            bound = _assigned_names(node)
            if bound is None:
                continue
            literal = all(n.isupper() for n in bound) and _is_constant(node.value)
            function = isinstance(node.value, ast.Lambda)  # feed_forward = lambda x, ff: ...
            (parts.definitions if literal or function else parts.values).append(
                (position, tuple(bound), segment))
    return parts


def used_values(parts: CellParts) -> list[tuple[int, tuple[str, ...], str]]:
    """The cell's values that its definitions use, and the values those use in turn."""
    wanted = set().union(*(free_names(text) for _, _, text in parts.definitions))
    chosen: dict[int, tuple[int, tuple[str, ...], str]] = {}
    for _ in parts.values:  # each round adds what the values chosen so far use
        for value in parts.values:
            if value[0] not in chosen and set(value[1]) & wanted:
                chosen[value[0]] = value
                wanted |= free_names(value[2])
    return [value for value in parts.values if value[0] in chosen]


def is_notebook_value(name: str, value: object) -> bool:
    """A lower-case notebook variable holding a plain number, string or tensor (``d = 64``):
    a test value of the notebook, which a saved function should compute from its inputs."""
    if not name.islower() or isinstance(value, bool):
        return False
    if isinstance(value, (int, float, str)):
        return True
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def free_names(text: str) -> set[str]:
    """Global names the code reads but does not define itself (builtins excluded)."""
    table = symtable.symtable(text, "<my_bert>", "exec")
    defined = {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()}
    used: set[str] = set()

    def visit(scope: symtable.SymbolTable) -> None:
        for symbol in scope.get_symbols():
            reads_global = scope is table or symbol.is_global()
            if symbol.is_referenced() and reads_global:
                used.add(symbol.get_name())
        for child in scope.get_children():
            visit(child)

    visit(table)
    return {name for name in used - defined if not hasattr(builtins, name)}


def bound_by_import(line: str) -> list[str]:
    """The names an import line binds: ``import torch.nn.functional as F`` binds F."""
    node = ast.parse(line).body[0]
    assert isinstance(node, (ast.Import, ast.ImportFrom))
    return [alias.asname or alias.name.split(".")[0] for alias in node.names]


# ----- the saved file -------------------------------------------------------------------------


def defined_by(node: ast.stmt) -> tuple[str, ...]:
    """The names a top-level statement of a saved file defines (none for other code)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return (node.name,)
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        return tuple(_assigned_names(node) or ())
    return ()


def parse_saved(text: str) -> tuple[list[str], list[Block]]:
    """A saved file's imports and blocks: one block per other top-level statement, with the
    comment lines just above it (marker lines are written anew). Raises SyntaxError."""
    tree, lines = ast.parse(text), text.splitlines()
    body = tree.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the module docstring: written anew
    imports: list[str] = []
    blocks: list[Block] = []
    done = tree.body[0].end_lineno if body is not tree.body else 0  # lines already taken
    for node in body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        if start <= done:  # a second statement on a line already taken (a = 1; b = 2)
            if blocks:
                blocks[-1].names += defined_by(node)
            done = max(done, node.end_lineno)
            continue
        source = "\n".join(lines[start - 1:node.end_lineno])
        above = [line for line in lines[done:start - 1] if not line.startswith(MARKER.strip())]
        done = node.end_lineno
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.append(source)
            continue
        comments = "\n".join(above).strip("\n")
        blocks.append(Block(defined_by(node), f"{comments}\n{source}" if comments else source))
    return imports, blocks


def read_saved(path: Path) -> tuple[list[str], list[Block]]:
    """A saved file's imports and blocks (empty for a file not written yet or that no longer
    parses)."""
    if not path.is_file():
        return [], []
    try:
        return parse_saved(path.read_text(encoding="utf-8"))
    except (SyntaxError, ValueError, OSError):
        return [], []


SECTIONS = ("standard library", "third party", "the course", "my_bert")


def _imported_module(line: str) -> str:
    node = ast.parse(line).body[0]
    if isinstance(node, ast.ImportFrom):
        return "." * node.level + (node.module or "")
    return node.names[0].name


def _section(line: str) -> int:
    """Where isort puts an import: 0 standard library, 1 third party, 2 the course
    (course_lib, course_kit), 3 ours."""
    module = _imported_module(line)
    top = module.split(".")[0]
    if module.startswith("."):
        return 3
    if top in ("course_lib", "course_kit"):
        return 2
    return 0 if top in sys.stdlib_module_names else 1


def render(module: str, imports: list[str], blocks: list[Block]) -> str:
    """The whole file: a docstring, the imports its blocks use, then one block per cell."""
    used = set().union(*(free_names(block.text) for block in blocks)) if blocks else set()
    kept = {line for line in imports if set(bound_by_import(line)) & used}
    future = sorted(line for line in imports if _imported_module(line) == "__future__")
    kept -= set(future)  # `from __future__ import ...` is kept (used or not) and kept first
    parts = [f'"""my_bert.{module}: my code from the course notebooks, saved by %%my_bert.\n\n'
             "Each block is one definition of a cell; running the cell again replaces the\n"
             "blocks of the names it defines, so edit the cell in the notebook rather than this\n"
             'file."""\n']
    sections = ["\n".join(future)] if future else []
    for section in range(len(SECTIONS)):  # isort's order: standard library, others, ours, .
        lines = sorted((line for line in kept if _section(line) == section),
                       key=lambda line: (line.startswith("from "), _imported_module(line), line))
        if lines:
            sections.append("\n".join(lines))
    if sections:  # one blank line between sections; before a def or class two, as isort does
        starts_def = bool(blocks) and blocks[0].text.startswith(("def ", "class ", "@", "async "))
        parts.append("\n\n".join(sections) + ("\n" if starts_def else ""))
    for block in blocks:
        marker = f"{MARKER}{', '.join(block.names)}\n" if block.names else ""
        parts.append(f"\n{marker}{block.text}\n")
    return "\n".join(parts)


def defined_elsewhere(folder: Path, module: str) -> dict[str, str]:
    """Name -> the other my_bert module that saved it."""
    found = {}
    for path in sorted(folder.glob("*.py")):
        if path.stem in (module, "__init__"):
            continue
        for block in read_saved(path)[1]:
            for name in block.names:
                found.setdefault(name, path.stem)
    return found


def import_for(name: str, value: object) -> str | None:
    """The import line that binds ``name`` to ``value`` (a module, or a function of a module)."""
    if isinstance(value, types.ModuleType):
        full = value.__name__
        if full == name:
            return f"import {full}"
        parent, _, last = full.rpartition(".")
        if last == name and parent:
            return f"from {parent} import {name}"
        return f"import {full} as {name}"
    module = getattr(value, "__module__", None)
    if module and module != "__main__" and getattr(value, "__name__", None) == name \
            and not module.startswith(PACKAGE):
        return f"from {module} import {name}"
    return None


def merge(blocks: list[Block], new: list[Block]) -> list[Block]:
    """The file's blocks with each new block in the place of the old one(s) of its names (or
    at the end): every other block, hand-written ones included, is kept."""
    blocks = list(blocks)
    for block in new:
        same = [i for i, old in enumerate(blocks) if set(old.names) & set(block.names)]
        if same:
            blocks[same[0]] = block
            blocks = [old for i, old in enumerate(blocks) if i not in same[1:]]
        else:
            blocks.append(block)
    return blocks


def checked_place(folder: Path, module: str) -> tuple[Path, Path]:
    """(my_bert/, my_bert/<module>.py) inside ``folder``: never a symbolic link, never outside."""
    package, path = folder / PACKAGE, folder / PACKAGE / f"{module}.py"
    for place in (package, path, package / "__init__.py", package / PREVIOUS):
        if place.is_symlink():
            raise PermissionError(f"{place} is a symbolic link; %%my_bert never writes through "
                                  "one (remove the link and run the cell again)")
    if package.exists() and not package.is_dir():
        raise FileExistsError(f"{package} is a file, not the {PACKAGE} folder: rename it")
    if package.exists() and package.resolve().parent != folder.resolve():
        raise PermissionError(f"{package} leads outside {folder}; %%my_bert writes only there")
    return package, path


def save_cell(source: str, module: str, user_ns: dict, folder: Path) -> SaveResult:
    """Save a cell's definitions into ``folder/my_bert/<module>.py`` (the cell has already run)."""
    module = check_module_name(module)
    result = SaveResult()
    parts = split_cell(source)
    for stub in parts.stubs:
        result.notes.append(f"{stub} is not written yet (it only raises NotImplementedError), "
                            f"so it is not saved into {PACKAGE}/{module}.py")
    if not parts.definitions:
        if not parts.stubs:
            result.notes.append(f"nothing to save into {PACKAGE}/{module}.py (no function, "
                                "class or constant written in this cell)")
        return result
    chosen = sorted(parts.definitions + used_values(parts))  # in the cell's order
    new = [Block(bound, text) for _, bound, text in chosen]  # one block per definition
    names = list(dict.fromkeys(name for block in new for name in block.names))
    package, path = checked_place(Path(folder), module)
    package.mkdir(parents=True, exist_ok=True)
    from course_lib.files import write_atomic  # here: `import course_kit` stays free of torch

    with locked(package / ".lock"):  # one save at a time, across kernels
        old = path.read_text(encoding="utf-8") if path.is_file() else None
        try:
            imports, blocks = parse_saved(old) if old is not None else ([], [])
        except (SyntaxError, ValueError) as error:
            kept = keep_beside(path, "damaged")
            result.notes.append(f"{PACKAGE}/{module}.py no longer parsed (line "
                                f"{getattr(error, 'lineno', '?')}); it is kept as {kept.name} "
                                "and a new file was started")
            old, imports, blocks = None, [], []
        kept_blocks = merge(blocks, new)
        imports = imports + [line for line in parts.imports if line not in imports]
        text = render(module, _resolve_names(module, package, imports, kept_blocks, new,
                                             user_ns, result), kept_blocks)
        compile(text, str(path), "exec")  # never write a file that does not parse
        init = package / "__init__.py"
        if not init.is_file():
            write_atomic(init, PACKAGE_DOC)
        if old is not None and old != text:  # the version before this save, for undoing it
            (package / PREVIOUS).mkdir(exist_ok=True)
            write_atomic(package / PREVIOUS / path.name, old)
        write_atomic(path, text)
    result.path, result.saved = path, names
    return result


def _resolve_names(module: str, package: Path, imports: list[str], blocks: list[Block],
                   new: list[Block], user_ns: dict, result: SaveResult) -> list[str]:
    """``imports`` plus a line for each name the new blocks use but the file lacks; a note
    for each name that cannot be imported."""
    imports = list(imports)
    in_file = {name for block in blocks for name in block.names} | {
        bound for line in imports for bound in bound_by_import(line)}
    elsewhere = defined_elsewhere(package, module)
    used = set().union(*(free_names(block.text) for block in new))
    for name in sorted(used - in_file):
        value = user_ns.get(name)
        if name in elsewhere:
            imports.append(f"from .{elsewhere[name]} import {name}")
        elif (line := import_for(name, value)) is not None:
            imports.append(line)
        elif is_notebook_value(name, value):
            shown = repr(value) if not hasattr(value, "shape") else f"a tensor {tuple(value.shape)}"
            result.notes.append(
                f"it uses the notebook's variable {name} ({name} = {shown[:40]} here), which "
                f"{PACKAGE}/{module}.py does not have: compute it from the function's inputs "
                "instead (a size from a tensor's .shape, say)")
        else:
            result.notes.append(
                f"it uses {name}, which no {PACKAGE} file saves yet: define {name} in a "
                f"%%my_bert cell (a cell saves its imports, functions, classes, UPPER_CASE "
                "constants and the values its own functions use)")
    return imports


# ----- IPython ----------------------------------------------------------------------------


class CellNotSaved(Exception):
    """A %%my_bert cell raised: nothing was saved. Shown as its one-line message in IPython."""

    def _render_traceback_(self) -> list[str]:  # IPython shows this instead of a traceback
        return [str(self)]


def my_bert_magic(line: str, cell: str) -> None:
    """%%my_bert <module>: run the cell, then save its definitions into my_bert/<module>.py."""
    from IPython import get_ipython

    shell = get_ipython()
    module = check_module_name(line)
    from .checks.report import RECENT

    RECENT.clear()
    outcome = shell.run_cell(cell, store_history=False)
    if not outcome.success:  # its traceback is shown already; the cell fails, as without magic
        error = outcome.error_in_exec or outcome.error_before_exec
        raise CellNotSaved(f"%%my_bert: not saved: the cell raised {type(error).__name__}; fix "
                           f"it and run it again ({PACKAGE}/{module}.py keeps its previous "
                           "version)")
    python = shell.transform_cell(cell)  # IPython syntax (%magics, !commands) made Python
    try:
        result = save_cell(python, module, shell.user_ns, Path.cwd())
    except (OSError, TimeoutError) as error:  # a link, a full disk, a stuck kernel's lock
        raise CellNotSaved(f"%%my_bert: the cell ran but was not saved: {error} "
                           f"({PACKAGE}/{module}.py keeps its previous version)") from None
    result.failing = any(not report.passed for report in RECENT)  # the cell's own checks
    print(result)


def load_ipython_extension(shell) -> None:
    """``%load_ext course_kit`` (or ``course_kit.my_bert``): register the cell magic."""
    shell.register_magic_function(my_bert_magic, magic_kind="cell", magic_name="my_bert")
