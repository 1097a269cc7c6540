"""Exercises come first: no cell above an exercise defines or calls the function it asks for, so
it cannot be answered by copying a cell above it (the course library's version, `cl.causal_mask`
for `my_causal_mask`, counts as the same function)."""

import re
import sys
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import time_estimates  # noqa: E402  (its EXERCISE pattern: what counts as an exercise)

NOTEBOOKS = sorted((ROOT / "notebooks").glob(f"{time_estimates.COURSE_NOTEBOOKS}.py"))
ASKED = re.compile(r"\b[Ww]rite `(\w+)\(")  # "Write `name(args)`": the function asked for
# Where the course's own version has another name than the learner's.
SAME_FUNCTION = {"my_rollout": ["attention_rollout"]}


def names_of(asked: str) -> list[str]:
    """The learner's function name, and the names of the course's versions of it."""
    return [asked, asked.removeprefix("my_"), *SAME_FUNCTION.get(asked, [])]


def uses(source: str, name: str) -> bool:
    """Does this code define or call `name` (bare, or as any module's attribute: `cl.name(`)?"""
    code = "\n".join(line.split("#", 1)[0] for line in source.splitlines())  # comments do not count
    return re.search(rf"(?<!\w){re.escape(name)}\s*\(", code) is not None


def answered_too_early(cells) -> list[str]:
    """Each exercise whose function is defined or called in a code cell above it."""
    found = []
    for index, cell in enumerate(cells):
        if cell.cell_type != "markdown" or not time_estimates.EXERCISE.search(cell.source):
            continue
        for asked in ASKED.findall(cell.source):
            for earlier, above in enumerate(cells[:index]):
                hits = [name for name in names_of(asked)
                        if above.cell_type == "code" and uses(above.source, name)]
                if hits:
                    found.append(f"exercise `{asked}` (cell {index + 1}): cell {earlier + 1} "
                                 f"above it already uses `{hits[0]}`")
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_exercise_is_answered_above_it(path):
    cells = jupytext.read(path).cells
    problems = answered_too_early(cells)
    assert not problems, (f"{path.name}: move the exercise before its answer:\n"
                          + "\n".join(problems))


def test_every_notebook_with_exercises_names_their_functions():
    """The rule has something to check: most exercises say which function to write."""
    asked = [name for path in NOTEBOOKS for cell in jupytext.read(path).cells
             if cell.cell_type == "markdown" and time_estimates.EXERCISE.search(cell.source)
             for name in ASKED.findall(cell.source)]
    assert len(asked) >= 30 and "my_causal_mask" in asked and "standardize" in asked, asked


def test_the_rule_catches_an_answer_above_the_exercise():
    cells = jupytext.reads(
        "# %%\nmask = cl.causal_mask(6)  # cl.causal_mask shown first\n\n"
        "# %% [markdown]\n# **Exercise 1 — a causal mask.** Write `my_causal_mask(seq_len)`.\n\n"
        "# %%\ndef my_causal_mask(seq_len):\n    raise NotImplementedError\n",
        fmt="py:percent").cells
    assert answered_too_early(cells) == [
        "exercise `my_causal_mask` (cell 2): cell 1 above it already uses `causal_mask`"]
    assert answered_too_early(cells[1:]) == []
    assert not uses("# standardize(x) in a comment\nx = 1", "standardize")
