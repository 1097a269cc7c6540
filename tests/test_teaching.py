"""The classroom kit stays in step with the course: the mistakes page is what the checkers'
catalogues say today, the binder/ environment is requirements.txt, and the hub page quotes the
resources measured in teaching/resources.json."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "teaching"))

import make_mistakes  # noqa: E402  (teaching/make_mistakes.py)


def requirement_lines(path: Path) -> list[str]:
    """The package lines of a requirements file: comments, blank lines and pip options dropped."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            lines.append(line)
    return lines


def test_mistakes_page_is_generated_from_the_checkers():
    text = make_mistakes.render()  # runs every checker once on a stand-in (a few seconds)
    page = make_mistakes.OUT.read_text(encoding="utf-8")
    assert page == text, "teaching/common_mistakes.md is out of date: run python " \
        "teaching/make_mistakes.py"


def test_mistakes_page_covers_every_exercise_checker():
    known = make_mistakes.catalogues()
    for notebook, names in make_mistakes.exercises_by_notebook():
        for name in names:
            assert name in known, f"{notebook} calls {name}, which is not a course_lib checker"
    named = sum(len(v) for v in known.values())
    assert named >= 50, f"only {named} named mistakes found: the collection is broken"


def test_binder_requirements_match_requirements_txt():
    assert requirement_lines(ROOT / "binder" / "requirements.txt") == \
        requirement_lines(ROOT / "requirements.txt"), \
        "binder/requirements.txt differs from requirements.txt: copy the package lines over"
    runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
    assert re.fullmatch(r"python-3\.1[0-9]", runtime), runtime
    post_build = ROOT / "binder" / "postBuild"
    assert post_build.stat().st_mode & 0o111, "binder/postBuild must be executable"
    assert "pip install --no-deps -e ." in post_build.read_text()


def test_hub_page_quotes_the_measured_resources():
    measured = json.loads((ROOT / "teaching" / "resources.json").read_text(encoding="utf-8"))
    hub = (ROOT / "teaching" / "hub.md").read_text(encoding="utf-8")
    assert f"{measured['peak_rss_mb_max']:,} MB" in hub, "hub.md does not quote the peak memory"
    assert f"{measured['venv_mb']:,} MB" in hub, "hub.md does not quote the environment's disk"
