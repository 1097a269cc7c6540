"""A learner's progress: which exercises passed, kept on the learner's own machine.

Every checker's report (``course_kit.checks.report.CheckReport``) is recorded here by
changes: the exercise (the checker's name, e.g. ``check_wordpiece``), its title, passed or not,
and when. ``kit.progress()`` shows, notebook by notebook, what is done and what is next.

Where it is kept: ``$COURSE_PROGRESS_FILE`` when set (``off`` turns recording off), else
``~/.cache/bert-course/progress.json`` (``$XDG_CACHE_HOME`` is honoured): never inside the
course's folder, never sent anywhere. Recording never raises: a read-only disk or a damaged
file only means nothing is recorded.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

ENV_FILE = "COURSE_PROGRESS_FILE"
OFF = "off"
CHECK_CALL = re.compile(r"\b(check_\w+)\(")
NOT_EXERCISES = {"check_cases"}  # the shared loop, not an exercise
_written: dict[str, bool] = {}  # exercise -> the verdict last written (skips repeated writes)


def progress_file() -> Path | None:
    """Where progress is kept, or None when recording is off."""
    chosen = os.environ.get(ENV_FILE, "").strip()
    if chosen.lower() == OFF:
        return None
    if chosen:
        return Path(chosen).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "bert-course" / "progress.json"


def load() -> dict[str, dict]:
    """exercise -> {"title", "passed", "at"}; empty when nothing is recorded."""
    path = progress_file()
    if path is None or not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    exercises = data.get("exercises") if isinstance(data, dict) else None
    return exercises if isinstance(exercises, dict) else {}


def record(exercise: str | None, title: str, passed: bool) -> None:
    """Keep the verdict of one exercise (called by every CheckReport as its verdict changes)."""
    if not exercise or _written.get(exercise) is passed:
        return
    path = progress_file()
    if path is None:
        return
    try:
        exercises = load()
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        entry = exercises.get(exercise, {})
        entry.update(title=title, passed=bool(passed), at=now)
        exercises[exercise] = entry
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written to a temporary file and renamed: a kernel stopped mid-write never leaves half
        # a file.
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent,
                                         prefix=".progress-", delete=False) as handle:
            json.dump({"exercises": exercises}, handle, indent=1, sort_keys=True)
        os.replace(handle.name, path)
        _written[exercise] = bool(passed)
    except OSError:  # a read-only home, a full disk: the check itself must still work
        return



def notebooks_folder() -> Path | None:
    """The course's notebooks/ folder: beside course_lib in a checkout, else in the working
    folder or its parent (a learner's copy on a hub)."""
    for candidate in (Path(__file__).resolve().parents[1] / "notebooks", Path.cwd() / "notebooks",
                      Path.cwd()):
        if candidate.is_dir() and any(candidate.glob("[0-9][0-9]*_*.ipynb")):
            return candidate
    return None


def exercises_by_notebook(folder: Path | None = None) -> list[tuple[str, list[str]]]:
    """(notebook, its checkers in the order it calls them) for every course notebook, read from
    the notebooks' .py twins (or the .ipynb when a twin is missing)."""
    folder = folder or notebooks_folder()
    if folder is None:
        return []
    rows = []
    for notebook in sorted(folder.glob("*.ipynb")):
        twin = notebook.with_suffix(".py")
        text = twin.read_text(encoding="utf-8") if twin.exists() else _code_of(notebook)
        names = [n for n in dict.fromkeys(CHECK_CALL.findall(text)) if n not in NOT_EXERCISES]
        if names:
            rows.append((notebook.stem, names))
    return rows


def _code_of(notebook: Path) -> str:
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError):
        return ""
    return "\n".join("".join(c.get("source", "")) for c in cells if c.get("cell_type") == "code")


@dataclass
class Progress:
    """What ``kit.progress()`` shows: per notebook, each exercise done, tried or still to do."""

    rows: list[tuple[str, list[tuple[str, str, str]]]]  # notebook, [(exercise, title, state)]
    where: Path | None

    @property
    def next_exercise(self) -> tuple[str, str] | None:
        """(notebook, exercise title) of the first exercise not yet passed, in course order."""
        for notebook, exercises in self.rows:
            for _, title, state in exercises:
                if state != "done":
                    return notebook, title
        return None

    def counts(self) -> tuple[int, int]:
        done = sum(state == "done" for _, ex in self.rows for _, _, state in ex)
        return done, sum(len(ex) for _, ex in self.rows)

    def __str__(self) -> str:
        marks = {"done": "[x]", "tried": "[~]", "todo": "[ ]"}
        done, total = self.counts()
        lines = [f"Your progress: {done} of {total} exercises passed "
                 "([x] passed, [~] tried but not yet right, [ ] not tried)"]
        for notebook, exercises in self.rows:
            passed = sum(state == "done" for _, _, state in exercises)
            lines.append(f"{notebook}: {passed}/{len(exercises)}")
            lines += [f"  {marks[state]} {title}" for _, title, state in exercises]
        following = self.next_exercise
        lines.append(f"Next: {following[0]}, exercise {following[1]}" if following
                     else "Next: every exercise has passed. Well done! Notebook 11 says where "
                     "to go from here.")
        lines.append(f"(kept in {self.where})" if self.where else "(recording is off)")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)


def progress(folder: str | os.PathLike | None = None) -> Progress:
    """Which exercises passed, per notebook, and which one is next (see the module docstring)."""
    recorded = load()
    rows = []
    for notebook, names in exercises_by_notebook(Path(folder) if folder else None):
        exercises = []
        for number, name in enumerate(names, start=1):
            entry = recorded.get(name, {})
            state = ("done" if entry.get("passed") else "tried") if entry else "todo"
            # Named the same whether tried or not: its place in the notebook and its checker.
            exercises.append((name, f"{number}. {name.removeprefix('check_')}", state))
        rows.append((notebook, exercises))
    return Progress(rows, progress_file())
