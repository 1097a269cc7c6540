"""The course's own files (data sets, the course-mlm checkpoint, diagrams), shipped inside
course_lib as package data, so an installed course (a wheel, a hub, Colab) finds them too."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def course_file(name: str) -> Path:
    """The path of a shipped course file, e.g. ``course_file("data/sentences.csv")``."""
    # files() of a package installed from a wheel or a folder is a real folder (never a zip).
    path = Path(str(resources.files("course_lib").joinpath("assets", *name.split("/"))))
    if not path.exists():
        raise FileNotFoundError(
            f"{name!r} is not one of the course's files (looked in {path.parent}); "
            "names are like 'data/sentences.csv', 'models/course-mlm' or "
            "'diagrams/qkv_one_head.svg'; if it should be there, reinstall the course"
        )
    return path
