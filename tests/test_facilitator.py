"""The facilitator scripts (teaching/facilitator/) follow their paths in teaching/paths.toml: the
same notebooks, sections and minutes, in order; each has a login buffer, check-ins and triage,
and answers every pause it sets (issue 23)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import paths  # noqa: E402

SCRIPTS = sorted((ROOT / "teaching" / "facilitator").glob("*.md"))
STEP = re.compile(r"^#{2,3} Step (\d+) · (\w+)(?:, sections ([\d, ]+))? \((\d+) min\)", re.M)
PATH_ID = re.compile(r"<!-- path: ([\w-]+) -->")


def steps_of(script: Path) -> list[dict]:
    found = []
    for _, notebook, sections, minutes in STEP.findall(script.read_text(encoding="utf-8")):
        step = {"notebook": notebook, "minutes": int(minutes)}
        if sections:
            step["sections"] = [int(s) for s in sections.split(",")]
        found.append(step)
    return found


def test_every_plan_but_the_two_day_course_has_a_script():
    plans = {PATH_ID.search(s.read_text()).group(1) for s in SCRIPTS}
    assert plans == {p["id"] for p in paths.load()} - {"whole-course"}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_the_script_follows_its_path(script):
    path_id = PATH_ID.search(script.read_text(encoding="utf-8")).group(1)
    path = next(p for p in paths.load() if p["id"] == path_id)
    expected = [{key: step[key] for key in ("notebook", "sections", "minutes") if key in step}
                for step in path["step"]]
    assert steps_of(script) == expected


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_the_script_runs_a_room(script):
    text = script.read_text(encoding="utf-8")
    assert re.search(r"Step 0 · login buffer", text)
    assert "workshop.md" in text or "Check-ins" in text  # the 90-minute script holds them
    pauses = [item for item in re.split(r"\n(?=- )|\n\n", text) if "**Pause" in item]
    unanswered = [item for item in pauses if "Answer:" not in item]
    assert unanswered == [], f"{script.name}: pauses without their answer: {unanswered}"
