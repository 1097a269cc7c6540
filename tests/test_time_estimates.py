"""The stated times agree everywhere: each notebook's own estimate, notebook 00's course map and
the README's table, whose totals add up (the numbers come from tools/time_estimates.py), and every
run time a header or the README's notebook table states is the tool's, from its measured data
(the paths' minutes are tested in test_paths.py)."""

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


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_the_readme_time_is_the_tools_estimate(stem):
    parts = time_estimates.parts_of(ROOT / "notebooks" / f"{stem}.ipynb")
    assert readme_times()[stem.split("_")[0]] == time_estimates.minutes(parts), (
        f"{stem}: run `python tools/time_estimates.py` and copy its estimate into the README, "
        "notebook 00's map and the notebook's header")


DURATION = re.compile(r"\b(?:(?:\d+(?:\.\d+)?|one|two|three|four|five|ten)\s+"
                      r"(?:s|seconds?|minutes?|hours?)|an? (?:minute|hour))\b", re.IGNORECASE)
RUNS_IN = re.compile(r"runs in (about \d+ (?:seconds|minutes))")


def header(stem: str) -> str:
    """The first markdown cell of a notebook's twin, without its '**Estimated time:** N minutes'."""
    text = (ROOT / "notebooks" / f"{stem}.py").read_text(encoding="utf-8")
    first = text.split("# %%", 2)[1]
    return re.sub(r"\*\*(?:Estimated time|Time):\*\* (?:about )?\d+ minutes", "", first)


def readme_row(stem: str) -> str:
    """A notebook's row of the README's table, without its last cell (the estimate)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    row = re.search(rf"^\| {re.escape(stem.split('_')[0])} \| `{stem}` \|.*$", text, re.MULTILINE)
    assert row, f"no README row for {stem}"
    return row.group(0).rsplit("|", 2)[0]


def stated_run_times(text: str) -> tuple[list[str], list[str]]:
    """The 'runs in about N ...' phrases of a text, and any other duration it states."""
    phrases = RUNS_IN.findall(text)
    others = [m.group(0) for m in DURATION.finditer(RUNS_IN.sub("", text))]
    return phrases, others


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_stated_run_times_come_from_the_measured_data(stem):
    for where, text in [("header", header(stem)), ("README row", readme_row(stem))]:
        phrases, others = stated_run_times(text)
        assert not others, f"{stem} {where}: a run time not from tools/time_estimates.py: {others}"
        for phrase in phrases:
            assert phrase == time_estimates.run_time_text(stem), (
                f"{stem} {where} says 'runs in {phrase}'; RUN_SECONDS gives "
                f"'{time_estimates.run_time_text(stem)}'")


def test_the_run_time_rule_catches_a_stray_time():
    assert stated_run_times("runs in about 2 minutes; training takes about 1 minute") == (
        ["about 2 minutes"], ["1 minute"])
    assert stated_run_times("it runs in a minute, a forward pass in a second") == ([], ["a minute"])
    assert time_estimates.run_time_text("09_pretraining_bert") == "about 2 minutes"
