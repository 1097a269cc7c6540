"""Learner-facing text counts layers and heads from 1: no notebook's prose names a "layer 0" or
a "head 0" (Python indices from 0 stay inside the code)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_TWINS = sorted((ROOT / "notebooks").rglob("*.py"))
ZERO_BASED = re.compile(r"\b(layers?|heads?)\s+0\b", re.IGNORECASE)


def prose_lines(path: Path):
    """The markdown lines of a jupytext percent-format twin, with their line numbers."""
    in_markdown = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("# %%"):
            in_markdown = "[markdown]" in line
        elif in_markdown:
            yield number, line


@pytest.mark.parametrize("path", NOTEBOOK_TWINS, ids=lambda p: p.name)
def test_prose_counts_layers_and_heads_from_one(path):
    found = [f"{path.name}:{number}: {line.strip()}" for number, line in prose_lines(path)
             if ZERO_BASED.search(re.sub(r"`[^`]*`", "", line))]  # code spans may index from 0
    assert not found, "count layers and heads from 1 in the text:\n" + "\n".join(found)


def test_the_rule_catches_a_zero_based_name(tmp_path):
    twin = tmp_path / "x.py"
    twin.write_text("# %% [markdown]\n# MiniLM's layer 0 looks back, `layers[0]` is fine\n"
                    "# %%\nlayer = 0\n")
    lines = [line for _, line in prose_lines(twin)]
    assert [bool(ZERO_BASED.search(re.sub(r"`[^`]*`", "", line))) for line in lines] == [True]
