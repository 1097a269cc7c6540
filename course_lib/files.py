"""Files: the course's own (data sets, the course-mlm checkpoint, diagrams), shipped inside
course_lib as package data, so an installed course (a wheel, a hub, Colab) finds them too; and
``write_atomic``, the one way the course replaces a file a learner keeps (a checkpoint,
``progress.json``, ``my_bert/*.py``)."""

from __future__ import annotations

import contextlib
import os
import tempfile
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


def write_atomic(path: str | os.PathLike, data: str | bytes) -> None:
    """Replace ``path`` with ``data`` (text is written as UTF-8) all at once: a temporary file
    beside it, flushed to disk, then renamed over it.

    A kernel stopped or a disk filled mid-write never leaves half a file: on any failure the
    temporary file is removed and ``path`` keeps its previous content. A symbolic link at
    ``path`` is refused, never written through.
    """
    path = Path(path)
    if path.is_symlink():
        raise PermissionError(f"{path} is a symbolic link; it is not written through (remove "
                              "the link to let the course write a file there)")
    if isinstance(data, str):
        data = data.encode("utf-8")
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - renamed or removed below
        "wb", dir=path.parent, prefix=f".{path.name}-", suffix=".tmp", delete=False)
    try:
        with handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        # the old file's permissions (a temporary file is private to its owner), else rw-r--r--
        os.chmod(handle.name, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        os.replace(handle.name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(handle.name)
        raise
