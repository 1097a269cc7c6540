"""The paths through the course (teaching/paths.toml) are what the README, notebook 00 and the
teacher's guide say, their minutes are the notebooks' estimates, and each runs as a learner would
run it: every step in a fresh kernel, with only the cells before its first numbered section and
the sections it names.

A step that is a whole notebook is that notebook run top to bottom, which `make test` does for
every notebook (nbval); the steps that take some sections only are run here.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import paths  # noqa: E402  (tools/paths.py)
from test_time_estimates import readme_times  # noqa: E402

PATHS = paths.load()
GUIDE = (ROOT / "teaching" / "README.md").read_text(encoding="utf-8")
PARTIAL_STEPS = sorted({(step["notebook"], tuple(step["sections"]))
                        for path in PATHS for step in path["step"] if step.get("sections")})


def read_notebook(stem: str):
    return nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)


def test_every_step_is_a_notebook_with_those_sections():
    for path in PATHS:
        for step in path["step"]:
            notebook = read_notebook(step["notebook"])  # raises when there is no such notebook
            paths.step_cells(notebook, step.get("sections"))  # raises naming a missing section


def test_whole_notebook_steps_take_the_notebooks_estimate():
    times = readme_times()
    for path in PATHS:
        for step in path["step"]:
            if not step.get("sections"):
                stated = times[paths.number(step["notebook"])]
                assert step["minutes"] == stated, \
                    f"{path['id']}: {step['notebook']} takes {stated} minutes in the README"


def test_whole_course_is_every_notebook():
    whole = next(path for path in PATHS if path["id"] == "whole-course")
    assert [paths.number(step["notebook"]) for step in whole["step"]] == list(readme_times())


@pytest.mark.parametrize("target", list(paths.TARGETS), ids=lambda target: target.name)
def test_readme_and_notebook_00_tables_are_generated_from_paths_toml(target):
    text = target.read_text(encoding="utf-8")
    assert paths.replace_table(text, paths.TARGETS[target]) == text, \
        f"{target.name}: the paths table is out of date: run python tools/paths.py --write"


def guide_rows(heading: str) -> list[tuple[str, str, str]]:
    """(start, end, what) of each row of the plan under ``heading`` in the teacher's guide."""
    section = GUIDE.split(heading, 1)[1].split("\n### ", 1)[0]
    return re.findall(r"^\| (\d:\d\d)-(\d:\d\d) \| ([^|]+?) \|", section, re.MULTILINE)


def minutes_of(clock: str) -> int:
    hours, minutes = clock.split(":")
    return 60 * int(hours) + int(minutes)


@pytest.mark.parametrize(("path_id", "heading"), [("workshop", "### 90 minutes"),
                                                  ("half-day", "### Half day")])
def test_guide_plan_is_the_path_on_a_clock(path_id, heading):
    path = next(path for path in PATHS if path["id"] == path_id)
    rows, clock, steps = guide_rows(heading), 0, []
    for start, end, what in rows:
        assert minutes_of(start) == clock, f"{heading}: {what} starts at {start}"
        clock = minutes_of(end)
        if what != "break":
            steps.append((what, minutes_of(end) - minutes_of(start)))
    assert len(steps) == len(path["step"]), f"{heading}: not the steps of paths.toml"
    for (what, length), step in zip(steps, path["step"], strict=True):
        label = paths.step_label(step)
        assert what == label or (not step.get("sections") and what.startswith(label + " ")), \
            f"{heading}: '{what}' where paths.toml has {label}"
        assert length == step["minutes"], f"{heading}: {what} takes {step['minutes']} minutes"


def test_guide_full_day_adds_up():
    path = next(path for path in PATHS if path["id"] == "full-day")
    minutes = {paths.number(step["notebook"]): step["minutes"] for step in path["step"]}
    assert f"### Full day ({path['minutes']} minutes of work" in GUIDE
    for part in ("Morning", "Afternoon"):
        listed, stated = re.search(rf"{part}: (.*?)\((\d+) minutes", GUIDE, re.DOTALL).groups()
        numbers = re.findall(r"\b\d\db?\b", listed)
        assert stated == str(sum(minutes[n] for n in numbers)), f"{part}: {numbers}"


def run_step(stem: str, sections: tuple[int, ...]) -> None:
    """Execute the step's cells in a fresh kernel, in the notebooks folder, as a learner would."""
    from nbclient import NotebookClient

    notebook = read_notebook(stem)
    notebook.cells = paths.step_cells(notebook, list(sections))
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    NotebookClient(notebook, kernel_name="python3", timeout=300,
                   resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize(("stem", "sections"), PARTIAL_STEPS,
                         ids=[f"{stem[:3].rstrip('_')}-{paths.ranges(list(s))}"
                              for stem, s in PARTIAL_STEPS])
def test_path_step_runs_on_its_own(stem, sections):
    run_step(stem, sections)


def test_a_step_takes_the_setup_and_its_sections_only():
    new = nbformat.v4
    cells = [new.new_markdown_cell("# Title"), new.new_code_cell("setup = 1"),
             new.new_markdown_cell("## 1. One"), new.new_code_cell("one = setup"),
             new.new_markdown_cell("text\n\n## 2. Two"), new.new_code_cell("two = one"),
             new.new_markdown_cell("### 2.1 still two"), new.new_code_cell("more = two"),
             new.new_markdown_cell("## 3. Three"), new.new_code_cell("three = setup")]
    notebook = new.new_notebook(cells=cells)
    kept = [cell.source for cell in paths.step_cells(notebook, [1, 3])
            if cell.cell_type == "code"]
    assert kept == ["setup = 1", "one = setup", "three = setup"]
    assert len(paths.step_cells(notebook, None)) == len(cells)
    with pytest.raises(ValueError, match=r"no section \[4\]"):
        paths.step_cells(notebook, [1, 4])
    assert paths.ranges([1, 2, 3, 4, 5, 9]) == "1-5 and 9"
    assert paths.ranges([0, 2, 4]) == "0, 2 and 4"
