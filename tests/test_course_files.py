"""The course's own files ship inside course_lib (package data) and are found in one place,
cl.course_file, so an installed course (a wheel, a hub, Colab) has them too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import course_lib as cl

ROOT = Path(__file__).resolve().parent.parent


def test_every_shipped_file_is_found_inside_the_package():
    package = Path(cl.__file__).parent
    for name in ("data/sentences.csv", "data/pretraining_corpus.txt",
                 "data/pretraining_probes.tsv", "models/course-mlm", "diagrams/qkv_one_head.svg",
                 "data/shakespeare/speeches.tsv.gz", "models/shakespeare-bert"):
        path = cl.course_file(name)
        assert path.exists() and path.is_relative_to(package / "assets"), name


def test_a_name_that_is_not_shipped_is_refused_with_the_names_that_are():
    with pytest.raises(FileNotFoundError, match="'data/sentence.csv' is not one of the course's"
                                                " files.*data/sentences.csv"):
        cl.course_file("data/sentence.csv")


def test_package_data_patterns_cover_every_shipped_file():
    """pyproject.toml's package-data globs take every file in course_lib/assets into a wheel."""
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    line = re.search(r"^course_lib = \[(.*)\]$", pyproject, re.MULTILINE).group(1)
    suffixes = {pattern.removeprefix("**/*") for pattern in re.findall(r'"([^"]+)"', line)}
    shipped = [p for p in (ROOT / "course_lib" / "assets").rglob("*") if p.is_file()]
    assert shipped and all(p.suffix in suffixes for p in shipped), \
        [p.name for p in shipped if p.suffix not in suffixes]
    # Shakespeare's plays (1.8 MB) and the model trained on them (4.8 MB) are most of it.
    assert sum(p.stat().st_size for p in shipped) < 10_000_000, "keep the package small"


def test_no_reader_builds_a_path_to_the_course_files_by_hand():
    """Notebooks, libraries, tools and tests use cl.course_file, never ../assets or __file__."""
    by_hand = re.compile(r"""["']assets["']|\.\./assets|parent\.parent\s*/\s*["']assets""")
    sources = [*ROOT.glob("course_lib/**/*.py"), *ROOT.glob("course_kit/**/*.py"),
               *ROOT.glob("notebooks/**/*.py"), *ROOT.glob("site/*.py"), *ROOT.glob("tests/*.py")]
    offenders = [str(p.relative_to(ROOT)) for p in sources
                 if p.name != "files.py" and p != Path(__file__)
                 and by_hand.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
