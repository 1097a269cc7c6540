"""notebooks/solutions/my_bert is exactly what the solution notebooks' %%my_bert cells write.

A learner's session replayed: each solution notebook's setup cell and its %%my_bert cells run in
order through IPython in an empty folder; the package they write must be the committed one (so
`make notebooks` leaves it unchanged), and every piece must pass its checker."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext")
from IPython.testing import globalipapp  # noqa: E402

from course_kit import capstone  # noqa: E402

SOLUTIONS = Path(__file__).resolve().parents[1] / "notebooks" / "solutions"
NOTEBOOKS = ["01_text_to_token_ids", "02_word_embeddings", "03_self_attention",
             "04_multi_head_attention", "05_encoder_layer", "07_pretrained_weights"]


def saving_cells(name: str) -> list[str]:
    """The setup cell (the first code cell after the course-setup cell that installs the course)
    and every %%my_bert cell of a solution notebook."""
    notebook = jupytext.read(SOLUTIONS / f"{name}_solutions.py")
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"
            and "course-setup" not in cell.metadata.get("tags", [])]
    return [code[0]] + [source for source in code[1:] if source.startswith("%%my_bert ")]


def ipython_shell():
    """IPython's test shell, one per process (start_ipython does nothing when called again)."""
    globalipapp.start_ipython()
    return globalipapp.get_ipython()


@pytest.fixture(scope="module")
def replayed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("learner")
    shell = ipython_shell()
    shell.run_cell("%load_ext course_kit.my_bert", store_history=False)
    old = Path.cwd()
    os.chdir(folder)  # the magic saves into the working folder, as in JupyterLab
    try:
        for name in NOTEBOOKS:
            shell.run_cell("%reset -f", store_history=False)  # a fresh kernel per notebook
            for source in saving_cells(name):
                outcome = shell.run_cell(source, store_history=False)
                assert outcome.success, f"{name}: {source[:80]!r} failed"
    finally:
        os.chdir(old)
    yield folder
    for module in [n for n in sys.modules if n == "my_bert" or n.startswith("my_bert.")]:
        del sys.modules[module]


def test_every_exercise_notebook_saves(replayed):
    files = sorted(p.name for p in (replayed / "my_bert").glob("*.py"))
    assert files == sorted(p.name for p in (SOLUTIONS / "my_bert").glob("*.py"))


@pytest.mark.parametrize("module", ["__init__", "tokens", "embeddings", "attention",
                                    "multi_head", "layers", "pretrained"])
def test_committed_package_is_what_the_notebooks_write(replayed, module):
    written = (replayed / "my_bert" / f"{module}.py").read_text(encoding="utf-8")
    committed = (SOLUTIONS / "my_bert" / f"{module}.py").read_text(encoding="utf-8")
    assert written == committed, (f"notebooks/solutions/my_bert/{module}.py is out of date: run "
                                  "the solution notebooks again (make notebooks) and commit it")


def test_the_replayed_package_has_every_piece(replayed):
    import course_lib as cl

    assert capstone.saved_pieces(replayed) == list(capstone.PIECE_NAMES)
    _, lines = capstone.pick_pieces(capstone.import_my_bert(replayed), cl.load_tokenizer("minilm"))
    assert all(line.startswith("yours") for line in lines), "\n".join(lines)
