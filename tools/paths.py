"""The paths through the course, read from teaching/paths.toml: their table, and the cells a
learner runs on each step.

    python tools/paths.py            # prints the "Paths through the course" table
    python tools/paths.py --write    # writes it into README.md and notebooks/00_welcome.py

A step with sections runs the cells before the notebook's first numbered section (its imports
and setup), then the cells of those sections only; a step without sections runs it all.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser, from requirements-dev.txt
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PATHS = ROOT / "teaching" / "paths.toml"
SECTION = re.compile(r"^## (\d+)\.", re.MULTILINE)  # a numbered section's heading: "## 3. ..."
TABLE_HEADER = "| path | notebooks | what you get |"
TABLE_RULE = "|---|---|---|"


def load() -> list[dict]:
    """Every path of teaching/paths.toml, its steps' minutes adding up to its own; a path that
    ``extends`` another has that path's steps first, then its own (``own_steps``)."""
    paths = tomllib.loads(PATHS.read_text(encoding="utf-8"))["path"]
    by_id = {path["id"]: path for path in paths}
    for path in paths:
        path["own_steps"] = path["step"]
        if "extends" in path:
            path["step"] = by_id[path["extends"]]["step"] + path["own_steps"]
    for path in paths:
        total = sum(step["minutes"] for step in path["step"])
        if total != path["minutes"]:
            raise ValueError(f"path {path['id']}: its steps add up to {total} minutes, "
                             f"not the {path['minutes']} it states")
    return paths


def number(notebook: str) -> str:
    """'07b_your_own_bert' -> '07b'."""
    return notebook.split("_")[0]


def ranges(sections: list[int]) -> str:
    """[1, 2, 3, 4, 5, 9] -> '1-5 and 9'."""
    runs: list[list[int]] = []
    for section in sorted(sections):
        if runs and section == runs[-1][-1] + 1:
            runs[-1].append(section)
        else:
            runs.append([section])
    parts = [f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]) for run in runs]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def step_label(step: dict) -> str:
    """'03 sections 1-7', or '05' for a whole notebook."""
    sections = step.get("sections")
    return number(step["notebook"]) + (f" sections {ranges(sections)}" if sections else "")


def row(path: dict) -> str:
    """One row of the table: the path, its steps with their minutes, what you get."""
    steps = []
    for step in path["own_steps"]:
        label = step_label(step).replace(number(step["notebook"]),
                                         f"**{number(step['notebook'])}**", 1)
        what = f": {step['what']}" if step.get("what") else ""
        steps.append(f"{label}{what} ({step['minutes']})")
    first = f"the {path['extends'].replace('-', ' ')}, then " if "extends" in path else ""
    return (f"| **{path['title']}** ({path['subtitle']}) | {first}{' → '.join(steps)}: "
            f"{path['minutes']} minutes | {path['outcome']} |")


def table() -> str:
    return "\n".join([TABLE_HEADER, TABLE_RULE, *(row(path) for path in load())])


def replace_table(text: str, prefix: str = "") -> str:
    """``text`` with its paths table (lines starting with ``prefix``) replaced by ``table()``."""
    lines = text.split("\n")
    start = lines.index(prefix + TABLE_HEADER)
    end = start
    while end < len(lines) and lines[end].startswith(prefix + "|"):
        end += 1
    new = [prefix + line for line in table().split("\n")]
    return "\n".join(lines[:start] + new + lines[end:])


TARGETS = {ROOT / "README.md": "", ROOT / "notebooks" / "00_welcome.py": "# "}


def sections_of(cells: list) -> list[int | None]:
    """For each cell, the number of the section it belongs to; None before the first one."""
    current, owners = None, []
    for cell in cells:
        if cell.cell_type == "markdown":
            found = SECTION.findall(cell.source)
            current = int(found[-1]) if found else current
        owners.append(current)
    return owners


def step_cells(notebook, sections: list[int] | None) -> list:
    """The cells a learner runs on this step: all, or the setup and the named sections."""
    if not sections:
        return list(notebook.cells)
    owners = sections_of(notebook.cells)
    missing = set(sections) - set(owners)
    if missing:
        raise ValueError(f"no section {sorted(missing)} in this notebook")
    return [cell for cell, owner in zip(notebook.cells, owners, strict=True)
            if owner is None or owner in sections]


def main(argv: list[str]) -> int:
    if "--write" not in argv:
        print(table())
        return 0
    for target, prefix in TARGETS.items():
        text = target.read_text(encoding="utf-8")
        updated = replace_table(text, prefix)
        if updated != text:
            target.write_text(updated, encoding="utf-8")
            print(f"wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
