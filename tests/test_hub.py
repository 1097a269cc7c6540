"""A real JupyterHub on localhost (jupyterhub from PyPI, configurable-http-proxy from npm, a dummy
authenticator, a local process spawner): three learners run the 90-minute path at once through
the hub's API, every cell of every step succeeds, and an nbgitpuller link clones a local git
repository into a learner's home (benchmarks/hub_load.py; issue 23)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import hub_load  # noqa: E402

LEARNERS = 3


@pytest.fixture(scope="module")
def local_course_repo(tmp_path_factory) -> Path:
    """A git repository on this machine with a notebook in it, as a teacher's course repo."""
    repo = tmp_path_factory.mktemp("course-repo")
    (repo / "hello.ipynb").write_text(json.dumps(
        {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    for command in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"],
                    ["git", "-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-qm",
                     "course"]):
        subprocess.run(command, cwd=repo, check=True)
    return repo


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_three_learners_run_the_workshop_path_at_once(tmp_path, local_course_repo):
    hub_load.find_proxy()  # fails with the install command, never skips
    people, pulled = asyncio.run(hub_load.run_class(LEARNERS, "workshop", tmp_path,
                                                    git_repo=local_course_repo))
    steps = hub_load.load_path("workshop")["step"]
    expected_cells = sum(len(hub_load.step_cells(ROOT / "notebooks" / f"{s['notebook']}.ipynb",
                                                 s.get("sections"))) for s in steps)
    for learner in people:
        assert learner.ok, f"{learner.name}: {learner.error}"
        assert learner.cells_run == expected_cells
        assert [s["notebook"] for s in learner.steps] == [s["notebook"] for s in steps]
        # Measured, not assumed: a whole server with its kernels holds some memory and CPU time.
        assert learner.peak_server_mb > 100 and learner.cpu_s > 0
        assert 0 < learner.login_to_first_output_s <= learner.wall_s
    assert (pulled / "hello.ipynb").is_file(), "the nbgitpuller link did not clone the repository"


def test_step_cells_are_the_code_of_the_setup_and_the_named_sections(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("setup = 1"),
                nbformat.v4.new_markdown_cell("## 1. First"), nbformat.v4.new_code_cell("one"),
                nbformat.v4.new_markdown_cell("## 2. Second"), nbformat.v4.new_code_cell("two"),
                nbformat.v4.new_code_cell(""),
                nbformat.v4.new_markdown_cell("## 3. Third"), nbformat.v4.new_code_cell("three")]
    nb.cells[-1].metadata["tags"] = ["raises-exception"]
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    assert hub_load.step_cells(path, [2, 3]) == [("setup = 1", False), ("two", False),
                                                  ("three", True)]


def test_an_unknown_path_is_named():
    with pytest.raises(ValueError, match="no path 'nope'"):
        hub_load.load_path("nope")


def test_the_guide_quotes_the_measured_class_and_sizes_above_it():
    measured = json.loads((ROOT / "teaching" / "hub_load.json").read_text(encoding="utf-8"))
    rows = measured["rows"]
    assert rows and all(row["ok"] for row in rows)
    peak = max(row["peak_server_mb"] for row in rows)
    hub = (ROOT / "teaching" / "hub.md").read_text(encoding="utf-8")
    assert f"**{round(peak):,} MB**" in hub, "hub.md does not quote the measured peak"
    assert f"with {measured['learners']} learners" in hub
    limit_gb = int(hub.split("limit\nmemory to **")[1].split(" GB**")[0])
    assert limit_gb * 1024 > peak, "the recommended limit is below the measured peak"
