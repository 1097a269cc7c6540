"""Graded runs with otter-grader (course_kit/grading.py): notebook 05's exercises exported as an
Otter Assign notebook, the course's checkers as the tests; what learners receive holds no
solution; a submission is graded end to end, right answers scored and a wrong one not
(issue 23)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course_kit import grading

OTTER = shutil.which("otter") or str(Path(sys.executable).parent / "otter")


def test_a_solution_cell_is_split_into_blanked_bodies_and_checks():
    cell = ("%%my_bert layers\n# NBVAL_CHECK_OUTPUT\ndef gelu(x):\n    \"\"\"GELU.\"\"\"\n"
            "    return 0.5 * x\n\n\nprint(check_gelu(gelu))\n")
    solution, checks, defined = grading.split_solution(cell)
    assert defined == ["gelu"] and checks == ["check_gelu(gelu)"]
    assert solution == ('def gelu(x):\n    """GELU."""\n    # BEGIN SOLUTION\n'
                        "    return 0.5 * x\n    # END SOLUTION")


def test_an_unknown_notebook_is_named(capsys, tmp_path):
    assert grading.main(["otter", "99_nope", str(tmp_path)]) == 2
    assert "99_nope.ipynb not found" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_notebook_05_graded_end_to_end(tmp_path):
    assert grading.main(["otter", "05_encoder_layer", str(tmp_path)]) == 0
    dist = tmp_path / "dist"
    subprocess.run([OTTER, "assign", str(tmp_path / "05_encoder_layer.ipynb"), str(dist)],
                   check=True, capture_output=True, timeout=300)
    student = nbformat.read(dist / "student" / "05_encoder_layer.ipynb", as_version=4)
    code = "\n".join(c.source for c in student.cells if c.cell_type == "code")
    for answer in ("torch.erf", "ff.intermediate(", "layer.output_norm(", "BEGIN SOLUTION"):
        assert answer not in code, f"the learners' notebook shows {answer!r}"
    assert "%%my_bert" not in json.dumps(student)

    # A submission: GELU and the feed-forward network right, the layer pre-LN (a classic mistake).
    submission = nbformat.read(dist / "autograder" / "05_encoder_layer.ipynb", as_version=4)
    for cell in submission.cells:
        if cell.cell_type == "code" and "def encoder_layer" in cell.source:
            cell.source = (
                "def encoder_layer(x, layer, mask):\n"
                "    h = x + layer.attention(layer.attention_norm(x), mask)[0]\n"
                "    return h + feed_forward(layer.output_norm(h), layer.feed_forward)\n")
    path = tmp_path / "submission.ipynb"
    nbformat.write(submission, path)
    results = tmp_path / "results"
    results.mkdir()
    zip_file = next((dist / "autograder").glob("*.zip"))
    subprocess.run([OTTER, "run", "-a", str(zip_file), "-o", str(results), str(path)],
                   check=True, capture_output=True, timeout=300)
    scores = {t["name"]: t.get("score") for t in
              json.loads((results / "results.json").read_text())["tests"]}
    assert scores["q1"] == 1.0 and scores["q2"] == 1.0
    assert scores["q3"] == 0.0
