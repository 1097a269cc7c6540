"""Graded runs: a notebook's exercises exported for otter-grader, the course's checkers as tests.

    python -m course_kit.grading otter 05_encoder_layer build/graded
    otter assign build/graded/05_encoder_layer.ipynb build/graded/dist

The export is an Otter Assign notebook: the solutions notebook's setup, then one question per
exercise: the course notebook's prompt, the worked solution with each function's body between
``# BEGIN SOLUTION`` and ``# END SOLUTION`` (Otter Assign replaces it by ``...`` in what
learners receive), and a test that runs the exercise's checker. Learners receive only the
setup, the prompts and the blanks: not the course notebook's explanations, which show answers
once an exercise is done.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
EXERCISE = re.compile(r"^##\s+Exercises?\b", re.M)
MAGIC = re.compile(r"^\s*[%!].*$|^\s*# NBVAL_\w+.*$", re.M)
CONFIG = """# ASSIGNMENT CONFIG
name: {name}
init_cell: true
check_all_cell: false
export_cell: false
run_tests: true
generate: true
"""


MY_BERT_SENTENCE = re.compile(r"[^.]*%%my_bert[^.]*\.\s*")


def raw(text: str):
    return nbformat.v4.new_raw_cell(text)


def without_magics(source: str) -> str:
    return MAGIC.sub("", source).strip("\n")


def is_check_call(statement: ast.stmt) -> bool:
    """``check_x(...)`` or ``print(check_x(...))`` as a statement."""
    if not isinstance(statement, ast.Expr) or not isinstance(statement.value, ast.Call):
        return False
    call = statement.value
    if isinstance(call.func, ast.Name) and call.func.id == "print" and call.args:
        call = call.args[0]
    return (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
            and call.func.id.startswith("check_"))


def split_solution(source: str) -> tuple[str, list[str], list[str]]:
    """(the solution with its bodies marked, the check calls, the functions it defines)."""
    code = without_magics(source)
    lines = code.splitlines()
    tree = ast.parse(code)
    checks, keep, defined = [], [], []
    for statement in tree.body:
        segment = lines[statement.lineno - 1:statement.end_lineno]
        if is_check_call(statement):
            call = statement.value
            inner = call.args[0] if call.func.id == "print" else call
            checks.append(ast.unparse(inner))
            continue
        if isinstance(statement, ast.FunctionDef):
            defined.append(statement.name)
            start = statement.body[0].lineno - statement.lineno
            if isinstance(statement.body[0], ast.Expr) and isinstance(
                    getattr(statement.body[0], "value", None), ast.Constant):
                start = statement.body[1].lineno - statement.lineno  # keep the docstring
            indent = re.match(r"\s*", segment[start]).group(0)
            segment = [*segment[:start], f"{indent}# BEGIN SOLUTION", *segment[start:],
                       f"{indent}# END SOLUTION"]
        keep.append("\n".join(segment))
    return "\n\n".join(keep), checks, defined


def prompt_for(course: nbformat.NotebookNode, functions: list[str]) -> str | None:
    """The course notebook's prompt for the exercise that asks for ``functions``: the markdown
    cell before the code cell that leaves them to write (# YOUR CODE HERE)."""
    previous = None
    for cell in course.cells:
        if cell.cell_type == "markdown":
            previous = cell.source
        elif "YOUR CODE HERE" in cell.source and any(
                re.search(rf"^def {name}\(", cell.source, re.M) for name in functions):
            return previous
    return None


def otter_notebook(name: str, folder: Path = NOTEBOOKS) -> nbformat.NotebookNode:
    """The Otter Assign notebook of one course notebook (see the module docstring)."""
    course_path = folder / f"{name}.ipynb"
    solutions_path = folder / "solutions" / f"{name}_solutions.ipynb"
    for path in (course_path, solutions_path):
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found: give a course notebook's name, such "
                                    "as 05_encoder_layer, that has a solutions notebook")
    course = nbformat.read(course_path, as_version=4)
    solutions = nbformat.read(solutions_path, as_version=4)
    cells = [raw(CONFIG.format(name=name))]
    in_exercise, number = False, 0
    for cell in solutions.cells:
        if cell.cell_type == "markdown":
            in_exercise = in_exercise or bool(EXERCISE.search(cell.source))
            continue
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        if not in_exercise:  # the setup: imports and seeds
            cells.append(nbformat.v4.new_code_cell(without_magics(cell.source)))
            continue
        solution, checks, defined = split_solution(cell.source)
        if not checks:  # a worked step between exercises: part of the setup of the next
            cells.append(nbformat.v4.new_code_cell(solution))
            continue
        number += 1
        prompt = prompt_for(course, defined) or f"Write `{'`, `'.join(defined)}`."
        prompt = MY_BERT_SENTENCE.sub("", prompt)  # a graded run saves nothing into my_bert/
        tests = [nbformat.v4.new_code_cell(f"report = {check}\nassert report.passed, str(report)")
                 for check in checks]
        cells += [raw(f"# BEGIN QUESTION\nname: q{number}\npoints: {len(checks)}"),
                  nbformat.v4.new_markdown_cell(prompt), raw("# BEGIN SOLUTION"),
                  nbformat.v4.new_code_cell(solution), raw("# END SOLUTION"),
                  raw("# BEGIN TESTS"), *tests, raw("# END TESTS"), raw("# END QUESTION")]
    if number == 0:
        raise ValueError(f"{solutions_path.name} has no exercise with a check_... call")
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    return notebook


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_kit.grading",
                                     description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    otter = commands.add_parser("otter", help="an Otter Assign notebook of one course notebook")
    otter.add_argument("notebook", help="e.g. 05_encoder_layer")
    otter.add_argument("folder", type=Path, help="where to write NOTEBOOK.ipynb")
    args = parser.parse_args(argv)
    try:
        notebook = otter_notebook(args.notebook)
    except (FileNotFoundError, ValueError) as error:
        print(error, file=sys.stderr)
        return 2
    args.folder.mkdir(parents=True, exist_ok=True)
    out = args.folder / f"{args.notebook}.ipynb"
    nbformat.write(notebook, out)
    print(f"wrote {out}; next: otter assign {out} {args.folder / 'dist'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
