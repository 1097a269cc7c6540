"""The stated times agree everywhere: each notebook's own estimate, notebook 00's course map and
the README's table, whose totals add up (the numbers come from tools/time_estimates.py; the
paths' minutes are tested in test_paths.py)."""

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import time_estimates  # noqa: E402

NOTEBOOKS = sorted(path.stem for path in
                   (ROOT / "notebooks").glob(f"{time_estimates.COURSE_NOTEBOOKS}.py"))
NUMBER = r"(\d\db?|A\d)"  # 00-11, 07b, A1


def readme_times() -> dict[str, int]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = re.findall(rf"^\| {NUMBER} \| `[^`]+` \|.*\| (\d+) min \|$", text, re.MULTILINE)
    return {number: int(minutes) for number, minutes in rows}


def stated_time(stem: str) -> int:
    text = (ROOT / "notebooks" / f"{stem}.py").read_text(encoding="utf-8")
    pattern = r"^# \*\*(?:Estimated time|Time):\*\* (?:about )?(\d+) minutes"
    found = re.search(pattern, text, re.MULTILINE)
    assert found, f"{stem}: no '**Estimated time:** N minutes' line"
    return int(found.group(1))


def test_readme_lists_every_notebook_and_its_total_adds_up():
    times = readme_times()
    assert sorted(times) == [stem.split("_")[0] for stem in NOTEBOOKS]
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    total = int(re.search(r"\| \| \*\*total\*\* \| \| \*\*(\d+) min", text).group(1))
    assert total == sum(times.values())


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_each_notebook_states_the_time_of_the_readme(stem):
    assert stated_time(stem) == readme_times()[stem.split("_")[0]]


def test_notebook_00_map_matches_the_readme():
    text = (ROOT / "notebooks" / "00_welcome.py").read_text(encoding="utf-8")
    rows = re.findall(rf"^# \| \*\*{NUMBER} [^|]*\|.*\| (\d+) min \|$", text, re.MULTILINE)
    assert {number: int(minutes) for number, minutes in rows} == readme_times()
    total = int(re.search(r"(\d+) minutes \([\d.]+ hours\) for the whole course", text).group(1))
    assert total == sum(readme_times().values())


def test_the_estimate_formula_counts_what_it_says():
    parts = {"words": 400, "code": 40, "exercises": 2, "stretch": 1, "play": 1, "run_s": 60}
    # 400 / 200 + 40 / 20 + 2 * 8 + 12 + 4 + 60 / 60 = 37 minutes, rounded up to 40
    assert time_estimates.minutes(parts) == 40
    assert time_estimates.minutes({**parts, "exercises": 0}) == 25  # 21 -> 25
