"""Learners' progress (course_kit/progress.py, kit.progress()): every checker records its verdict
on the learner's machine, outside the course folder; kit.progress() lists per notebook what is
done and what is next; recording never breaks a check."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import torch
from helpers import exact_gelu

import course_kit as kit
from course_kit.checks.layers import check_feed_forward, check_gelu
from course_kit.progress import exercises_by_notebook, load, progress_file, record

ROOT = Path(__file__).resolve().parents[1]
# The module (kit.progress is the function of the same name).
PROGRESS = importlib.import_module("course_kit.progress")





def test_a_checker_records_pass_and_fail(store):
    assert check_gelu(exact_gelu).passed
    assert not check_feed_forward(lambda x, ff: x).passed
    recorded = json.loads(store.read_text())["exercises"]
    assert recorded["check_gelu"]["passed"] is True
    assert recorded["check_gelu"]["title"] == "gelu"
    assert recorded["check_feed_forward"]["passed"] is False


def test_a_later_wrong_answer_is_recorded_as_not_yet_right(store):
    assert check_gelu(exact_gelu).passed
    assert not check_gelu(torch.relu).passed
    assert load()["check_gelu"]["passed"] is False


def test_progress_lists_every_notebook_with_exercises_and_the_next_one(store):
    check_gelu(exact_gelu)
    check_feed_forward(lambda x, ff: x)
    shown = kit.progress()
    notebooks = [name for name, _ in shown.rows]
    assert notebooks == sorted(notebooks) and "05_encoder_layer" in notebooks
    states = dict((name, state) for _, ex in shown.rows for name, _, state in ex)
    assert states["check_gelu"] == "done"
    assert states["check_feed_forward"] == "tried"
    assert states["check_wordpiece"] == "todo"
    assert shown.next_exercise[0] == notebooks[0]  # nothing of the first notebook done yet
    text = str(shown)
    assert "[x] 1. gelu" in text and "[~] 2. feed_forward" in text and "Next: " in text
    assert str(store) in text


def test_every_exercise_of_the_notebooks_is_listed():
    listed = dict(exercises_by_notebook(ROOT / "notebooks"))
    for twin in sorted((ROOT / "notebooks").glob("[0-9]*.py")):
        if "check_" in twin.read_text(encoding="utf-8"):
            assert twin.stem in listed, f"{twin.stem} calls checkers but is not listed"


def test_recording_off_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_PROGRESS_FILE", "off")
    monkeypatch.setattr(PROGRESS, "_written", {})
    assert progress_file() is None
    assert check_gelu(exact_gelu).passed
    assert "recording is off" in str(kit.progress())


def test_an_unwritable_place_never_breaks_a_check(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("COURSE_PROGRESS_FILE", str(blocker / "progress.json"))
    monkeypatch.setattr(PROGRESS, "_written", {})
    assert check_gelu(exact_gelu).passed  # recording failed quietly


def test_a_damaged_file_is_replaced(store):
    store.write_text("{not json")
    assert load() == {}
    record("check_gelu", "gelu", True)
    assert load()["check_gelu"]["passed"] is True


def test_default_place_is_outside_the_course_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("COURSE_PROGRESS_FILE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert progress_file() == tmp_path / "cache" / "bert-course" / "progress.json"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert ROOT not in progress_file().parents
