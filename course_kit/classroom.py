"""A view of the room: learners' progress files merged into one table per exercise.

    python -m course_kit.classroom collect /home            # on a hub: every user's progress
    python -m course_kit.classroom collect folder --csv room.csv

Each learner's progress file (``.../bert-course/progress.json``, written by the checkers, see
``course_kit.progress``) is found under the folder; the learner is named by the first folder
under it (a hub's user name). The table says, per exercise in course order, how many learners
passed it, how many tried without passing yet, and the named mistakes seen in failed tries with
how many learners made each. It only reads files; nothing is sent anywhere.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .progress import exercises_by_notebook

PROGRESS_NAME = "progress.json"


@dataclass
class ExerciseRow:
    """One exercise across the room."""

    notebook: str
    exercise: str
    passed: set[str] = field(default_factory=set)
    tried: set[str] = field(default_factory=set)
    mistakes: Counter = field(default_factory=Counter)  # mistake -> learners who made it


@dataclass
class Room:
    learners: list[str]
    rows: list[ExerciseRow]
    unreadable: list[Path]

    def __str__(self) -> str:
        total = len(self.learners)
        lines = [f"{total} learners; per exercise: passed / tried, not yet right / not tried"]
        for row in self.rows:
            untried = total - len(row.passed) - len(row.tried)
            lines.append(f"{row.notebook:26} {row.exercise:28} {len(row.passed):3} passed "
                         f"{len(row.tried):3} trying {untried:3} not tried")
            lines += [f"{'':30}{count} x {mistake}" for mistake, count in
                      row.mistakes.most_common(3)]
        lines += [f"unreadable (left as it is): {path}" for path in self.unreadable]
        return "\n".join(lines)


def learner_of(path: Path, folder: Path) -> str:
    """The learner a progress file belongs to: the first folder under ``folder``."""
    parts = path.relative_to(folder).parts
    return parts[0] if len(parts) > 1 else folder.name


def mistakes_of(entry: dict) -> list[str]:
    """The named mistakes of an entry's failed tries (a list, or mistake -> count)."""
    mistakes = entry.get("mistakes") or []
    if isinstance(mistakes, dict):
        mistakes = list(mistakes)
    return [m for m in mistakes if isinstance(m, str)] if isinstance(mistakes, list) else []


def collect(folder: str | Path, notebooks: Path | None = None) -> Room:
    """Every progress file under ``folder``, merged per exercise in course order."""
    folder = Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is not a folder: give the folder that holds the "
                                 "learners' home folders (on a hub, /home)")
    rows = {name: ExerciseRow(notebook, name)
            for notebook, names in exercises_by_notebook(notebooks) for name in names}
    learners, unreadable = set(), []
    for path in sorted(folder.rglob(PROGRESS_NAME)):
        try:
            exercises = json.loads(path.read_text(encoding="utf-8"))["exercises"]
            if not isinstance(exercises, dict):
                raise ValueError("no exercises")
        except (OSError, ValueError, KeyError, TypeError):
            unreadable.append(path)
            continue
        learner = learner_of(path, folder)
        learners.add(learner)
        for name, entry in exercises.items():
            if not isinstance(entry, dict):
                continue
            row = rows.setdefault(name, ExerciseRow("(not in the notebooks)", name))
            (row.passed if entry.get("passed") is True else row.tried).add(learner)
            row.mistakes.update(set(mistakes_of(entry)))
    for row in rows.values():
        row.tried -= row.passed  # one learner counts once, as passed when they have passed
    return Room(sorted(learners), list(rows.values()), unreadable)


def write_csv(room: Room, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["notebook", "exercise", "passed", "trying", "not tried", "mistakes"])
        for row in room.rows:
            writer.writerow([row.notebook, row.exercise, len(row.passed), len(row.tried),
                             len(room.learners) - len(row.passed) - len(row.tried),
                             "; ".join(f"{n} x {m}" for m, n in row.mistakes.most_common())])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_kit.classroom",
                                     description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    collect_cmd = commands.add_parser("collect", help="merge the progress files under a folder")
    collect_cmd.add_argument("folder", type=Path)
    collect_cmd.add_argument("--csv", type=Path, help="also write the table as CSV here")
    args = parser.parse_args(argv)
    try:
        room = collect(args.folder)
    except NotADirectoryError as error:
        print(error, file=sys.stderr)
        return 2
    print(room)
    if args.csv:
        write_csv(room, args.csv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
