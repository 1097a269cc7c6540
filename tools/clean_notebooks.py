"""Clean the saved outputs of notebooks without running them, or check that they are clean.

    python tools/clean_notebooks.py            # clean every course notebook in place
    python tools/clean_notebooks.py --check    # list what breaks the rules, exit 1 if anything
    python tools/clean_notebooks.py notebooks/01_text_to_token_ids.ipynb

The rules (no machine paths, memory addresses, timestamps or widget state; execution counts
in order) are in tools/notebook_hygiene.py. `make notebooks` cleans what it executes; this
script is for a notebook saved from JupyterLab.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import notebook_hygiene as hygiene  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks (default: every course notebook)")
    parser.add_argument("--check", action="store_true", help="report only, change nothing")
    args = parser.parse_args(argv)

    import nbformat

    paths = [p.resolve() for p in args.notebooks] or hygiene.notebook_paths()
    dirty = 0
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        label = hygiene.display_path(path)
        if args.check:
            problems = hygiene.output_problems(nb)
            dirty += bool(problems)
            for problem in problems:
                print(f"{label}: {problem}")
        else:
            nbformat.write(hygiene.clean_notebook(nb), path)
            print(f"cleaned {label}")
    return 1 if dirty else 0


if __name__ == "__main__":
    sys.exit(main())
