"""A learner's progress: which exercises passed, kept on the learner's own machine.

Every checker's verdict is recorded here by ``course_kit.checks.report.recorded``: the exercise
(the checker's name, e.g. ``check_wordpiece``), its title, passed or not, when, how many tries
failed and the named mistakes they made. ``kit.progress()`` shows, notebook by notebook, what is
done and what is next.

Where it is kept: ``$COURSE_PROGRESS_FILE`` when set (``off`` turns recording off), else
``~/.cache/bert-course/progress.json`` (``$XDG_CACHE_HOME`` is honoured): never inside the
course's folder, never sent anywhere.

The file (UTF-8 JSON, read by a teacher's ``collect`` command too)::

    {"course": "bert-encoder-course", "version": 1,
     "exercises": {"check_gelu": {"title": "gelu", "passed": true, "at": "2026-12-06T04:00:00Z",
                                  "failed_tries": 2, "mistakes": {"the tanh approximation": 1}}}}

``passed`` is the latest verdict (only JSON ``true`` counts); ``failed_tries`` counts the tries
that did not pass; ``mistakes`` maps each named mistake a failed try made to how often.

Safety: recording never raises; each write replaces the file atomically under a lock shared by
kernels (``course_kit.files``); a damaged, unreadable or wrong-shaped file is renamed beside the
new one with a time stamp (``progress.json.damaged-20261206T040000``) and the learner is told; a
path that names an existing file the course did not write is never replaced (nothing is recorded
and the learner is told).
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .files import keep_beside, locked

ENV_FILE = "COURSE_PROGRESS_FILE"
OFF = "off"
COURSE = "bert-encoder-course"  # the mark that says "this file is the course's"
CHECK_CALL = re.compile(r"\b(check_\w+)\(")
NOT_EXERCISES = {"check_cases"}  # the shared loop, not an exercise
_written: dict[str, bool] = {}  # exercise -> the passing verdict last written (skips rewrites)
_told: set[str] = set()  # messages already shown (each is said once per kernel)


def progress_file() -> Path | None:
    """Where progress is kept, or None when recording is off."""
    chosen = os.environ.get(ENV_FILE, "").strip()
    if chosen.lower() == OFF:
        return None
    if chosen:
        return Path(chosen).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "bert-course" / "progress.json"


class NotCourseFile(Exception):
    """The progress path names a file the course did not write: it is never replaced."""


def _entry(value) -> dict | None:
    """One exercise's entry with every field of the right type, or None when it is no entry."""
    if not isinstance(value, dict):
        return None
    mistakes = value.get("mistakes")
    tries = value.get("failed_tries")
    return {"title": str(value.get("title", "")), "passed": value.get("passed") is True,
            "at": str(value.get("at", "")),
            "failed_tries": tries if isinstance(tries, int) and not isinstance(tries, bool)
            and tries >= 0 else 0,
            "mistakes": {str(k): n for k, n in mistakes.items()
                         if isinstance(n, int) and not isinstance(n, bool) and n > 0}
            if isinstance(mistakes, dict) else {}}


def _read(path: Path) -> tuple[dict[str, dict], str | None]:
    """(exercises, what is wrong with the file or None). Raises NotCourseFile for a file that
    is not the course's (outside the default place): JSON without the course's keys, or text
    that does not even start as a JSON object (a damaged progress file still starts with {)."""
    if not path.exists() and not path.is_symlink():
        return {}, None
    try:
        data = path.read_bytes()
    except OSError as error:  # unreadable (permissions, a folder, a dangling link)
        if path.is_dir():
            raise NotCourseFile(f"{path} is a folder") from None
        return {}, f"unreadable ({type(error).__name__})"
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        if data.lstrip()[:1] not in (b"{", b"") and path != _default_file():  # no JSON object
            raise NotCourseFile(f"{path} is not a progress file of this course") from None
        return {}, "damaged (not valid JSON)"
    if not isinstance(value, dict) or not ({"course", "exercises"} & value.keys()):
        if path != _default_file():
            raise NotCourseFile(f"{path} is not a progress file of this course")
        return {}, "of the wrong shape"
    given = value.get("exercises")
    given = given if isinstance(given, dict) else {}
    exercises = {str(k): e for k, v in given.items() if (e := _entry(v)) is not None}
    shaped = isinstance(value.get("exercises"), dict) and len(exercises) == len(given)
    return exercises, None if shaped else "of the wrong shape"


def _default_file() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "bert-course" / "progress.json"


def _tell(message: str) -> None:
    """Say something to the learner once per kernel (on stderr: shown under the cell)."""
    if message not in _told:
        _told.add(message)
        print(f"course progress: {message}", file=sys.stderr)


def load() -> dict[str, dict]:
    """exercise -> {"title", "passed", "at", "failed_tries", "mistakes"}; empty when nothing
    is recorded or the file cannot be read (which the learner is told)."""
    path = progress_file()
    if path is None:
        return {}
    try:
        exercises, problem = _read(path)
    except NotCourseFile as error:
        _tell(f"{error}; nothing is read from it or recorded in it (set {ENV_FILE} to another "
              "path)")
        return {}
    if problem:
        _tell(f"{path} is {problem}; it will be kept beside the new one at the next verdict")
    return exercises


def record(exercise: str | None, title: str, passed: bool,
           mistakes: tuple[str, ...] | list[str] = ()) -> None:
    """Keep the verdict of one exercise, and the named mistakes of a failed try (called by
    every recorded checker). Never raises."""
    passed = bool(passed)
    if not exercise or (passed and _written.get(exercise) is True):
        return
    path = progress_file()
    if path is None:
        return
    from course_lib.files import write_atomic  # here: `import course_kit` stays free of torch

    try:
        _read(path)  # a file the course did not write is refused before anything is created
        path.parent.mkdir(parents=True, exist_ok=True)
        with locked(path.with_name(path.name + ".lock")):
            exercises, problem = _read(path)  # read again under the lock: another kernel's too
            if problem:
                kept = keep_beside(path, "damaged")
                _tell(f"{path} was {problem}; it is kept as {kept.name} and a new one started")
            entry = exercises.get(exercise) or _entry({})
            entry.update(title=str(title), passed=passed,
                         at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
            if not passed:
                entry["failed_tries"] += 1
                for mistake in dict.fromkeys(mistakes):
                    entry["mistakes"][mistake] = entry["mistakes"].get(mistake, 0) + 1
            exercises[exercise] = entry
            text = json.dumps({"course": COURSE, "version": 1, "exercises": exercises},
                              indent=1, sort_keys=True)
            write_atomic(path, text + "\n")
        _written[exercise] = passed
    except NotCourseFile as error:
        _tell(f"{error}; it is not replaced and nothing is recorded (set {ENV_FILE} to another "
              "path)")
    except (OSError, TimeoutError) as error:  # a read-only home, a full disk: the check works
        _tell(f"nothing recorded in {path}: {error}")


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
            entry = recorded.get(name)
            state = ("done" if entry["passed"] else "tried") if entry else "todo"
            # Named the same whether tried or not: its place in the notebook and its checker.
            exercises.append((name, f"{number}. {name.removeprefix('check_')}", state))
        rows.append((notebook, exercises))
    return Progress(rows, progress_file())
