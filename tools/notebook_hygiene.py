"""Rules for the saved notebooks: paired with their .py twins, outputs free of machine noise.

Used by `make notebooks` (tools/run_notebooks.py cleans what it executed), by
tools/clean_notebooks.py, and by tests/test_notebook_pairs.py (which checks, without a kernel,
that every committed notebook follows these rules). Nothing here starts a kernel.

What "clean" means, and why:
- no absolute path of the machine that ran the notebook (a traceback's file names, a warning's
  source): they tell learners nothing and change from one machine to the next;
- no memory addresses (`<function f at 0x7f...>`): they change on every run;
- no execution timestamps in cell metadata, no saved widget state and no widget model IDs
  (random on every run; a static viewer shows the text fallback instead);
- execution counts 1, 2, 3, ... in cell order, the same on a cell and on its result;
- consecutive pieces of one stream (stdout, stderr) joined into one output: how a stream is cut
  into pieces depends on when the kernel flushed it, not on what the cell printed.
"""

from __future__ import annotations

import os
import re
import site
import sys
import sysconfig
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_FOLDERS = ("notebooks", "notebooks/solutions")
TWIN_FORMAT = "py:percent"  # as in jupytext.toml

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# Cell metadata that only records when or how long a cell ran (nbclient, JupyterLab extensions).
TIMING_KEYS = ("execution", "ExecuteTime")
MAX_WIDGET_STATE_BYTES = 20_000

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
MEMORY_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{6,}\b")
# An absolute path under a folder that only exists on someone's machine. Not preceded by a
# word character, "." or "/" so that URLs (https://host/root/...) and relative paths pass.
MACHINE_PATH = re.compile(
    r"(?<![\w.:/])(?:/(?:work|root|home|tmp|Users|opt|usr|var|mnt|private|srv|data)/"
    r"|[A-Za-z]:\\(?:Users|Program Files))"
)
# Fallbacks for paths the exact prefixes below miss (another venv, another checkout). A path
# starts after a space, quote or bracket, or right after an ANSI colour code (tracebacks).
_START = r"(?:(?<=\x1b\[\dm)|(?<=\x1b\[\d\dm)|(?<![\w.:/]))"
_PATH_CHARS = r"[^\s'\"<>:\x1b]*?"
SITE_PACKAGES = re.compile(_START + r"(?:/|[A-Za-z]:\\)" + _PATH_CHARS + r"[/\\]site-packages[/\\]")
STDLIB = re.compile(_START + r"/" + _PATH_CHARS + r"/lib/(python3\.\d+)/")
COURSE_LIB = re.compile(_START + r"(?:/|[A-Za-z]:\\)" + _PATH_CHARS + r"[/\\](course_lib[/\\])")


# --- finding notebooks and their twins ---------------------------------------------------------


def notebook_paths(root: Path = REPO_ROOT) -> list[Path]:
    """Every course notebook: notebooks/*.ipynb and notebooks/solutions/*.ipynb, sorted."""
    return sorted(p for folder in NOTEBOOK_FOLDERS for p in (root / folder).glob("*.ipynb"))


def twin_paths(root: Path = REPO_ROOT) -> list[Path]:
    """Every percent-format .py file in the notebook folders."""
    return sorted(p for folder in NOTEBOOK_FOLDERS for p in (root / folder).glob("*.py"))


def twin_of(notebook: Path) -> Path:
    return notebook.with_suffix(".py")


def display_path(path: Path, root: Path = REPO_ROOT) -> str:
    """The path relative to the repository, as messages show it (absolute if outside)."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def expected_twin_text(notebook: Path) -> str:
    """The .py text jupytext writes for this notebook under the repository's jupytext.toml."""
    import jupytext
    from jupytext.config import load_jupytext_config

    config = load_jupytext_config(str(notebook))
    return jupytext.writes(jupytext.read(notebook), fmt=TWIN_FORMAT, config=config)


def _first_difference(expected: str, actual: str) -> str:
    exp_lines, act_lines = expected.splitlines(), actual.splitlines()
    for number, (exp, act) in enumerate(zip(exp_lines, act_lines, strict=False), start=1):
        if exp != act:
            return f"line {number}: the notebook gives {exp!r}, the .py has {act!r}"
    if len(exp_lines) != len(act_lines):
        return (f"the notebook gives {len(exp_lines)} lines, the .py has {len(act_lines)}"
                " (the rest is identical)")
    return "whitespace at the end of the file"


def twin_problem(notebook: Path, root: Path = REPO_ROOT) -> str | None:
    """Why a notebook and its .py twin are not a pair in sync (None when they are).

    The message names the files and the command that fixes them.
    """
    twin, nb_rel = twin_of(notebook), display_path(notebook, root)
    if not twin.exists():
        return (f"{nb_rel} has no .py twin: create it with `jupytext --sync {nb_rel}` "
                "and commit both")
    expected, actual = expected_twin_text(notebook), twin.read_text(encoding="utf-8")
    if expected == actual:
        return None
    return (
        f"{nb_rel} and {twin.name} are out of sync ({_first_difference(expected, actual)}). "
        f"Run `jupytext --sync {nb_rel}`: it keeps the more recently edited of the two (to force "
        f"a direction: `jupytext --to ipynb --update {display_path(twin, root)}` takes the .py, "
        f"`jupytext --to py:percent {nb_rel}` takes the notebook), then commit both"
    )


def orphan_twin_problems(root: Path = REPO_ROOT) -> list[str]:
    """One message per .py in the notebook folders that has no notebook beside it."""
    return [
        f"{display_path(twin, root)} has no notebook {twin.with_suffix('.ipynb').name}: create it "
        f"with `jupytext --sync {display_path(twin, root)}` (then `make notebooks` for its "
        "outputs), or delete the .py if the notebook was removed or renamed"
        for twin in twin_paths(root)
        if not twin.with_suffix(".ipynb").exists()
    ]


# --- cleaning saved outputs --------------------------------------------------------------------


def _machine_prefixes() -> list[tuple[str, str]]:
    """(absolute prefix, replacement) for this machine, longest first so the most specific wins."""
    prefixes = {}
    for path in site.getsitepackages() + [site.getusersitepackages(),
                                          sysconfig.get_paths()["purelib"]]:
        prefixes[path.rstrip("/\\") + os.sep] = "..." + os.sep + "site-packages" + os.sep
    stdlib = sysconfig.get_paths()["stdlib"].rstrip("/\\")
    prefixes[stdlib + os.sep] = "..." + os.sep + Path(stdlib).name + os.sep
    prefixes[str(REPO_ROOT) + os.sep] = ""
    for path in (sys.prefix, sys.base_prefix, sys.exec_prefix):
        prefixes.setdefault(path.rstrip("/\\") + os.sep, "<python>" + os.sep)
    prefixes.setdefault(str(Path.home()) + os.sep, "~" + os.sep)
    return sorted(prefixes.items(), key=lambda item: -len(item[0]))


def clean_text(text: str, prefixes: list[tuple[str, str]] | None = None) -> str:
    """Remove machine paths and memory addresses from one piece of output text."""
    for prefix, replacement in prefixes if prefixes is not None else _machine_prefixes():
        text = text.replace(prefix, replacement)
    text = SITE_PACKAGES.sub(".../site-packages/", text)
    text = STDLIB.sub(r".../\1/", text)
    text = COURSE_LIB.sub(r"\1", text)
    return MEMORY_ADDRESS.sub("0x...", text)


def _clean_strings(value, prefixes):
    """Apply clean_text to every string inside an output (lists and dicts of strings)."""
    if isinstance(value, str):
        return clean_text(value, prefixes)
    if isinstance(value, list):
        return [_clean_strings(item, prefixes) for item in value]
    if isinstance(value, dict):
        return {key: _clean_strings(item, prefixes) for key, item in value.items()}
    return value


def _joined(text) -> str:
    return "".join(text) if isinstance(text, list) else text


def _is_text_mime(mime: str) -> bool:
    return mime.startswith("text/") or mime.endswith("json") or mime.endswith("+xml")


def clean_notebook(nb: dict) -> dict:
    """Clean a notebook in place (see the module docstring) and return it."""
    prefixes = _machine_prefixes()
    nb.get("metadata", {}).pop("widgets", None)
    count = 0
    for cell in nb["cells"]:
        for key in TIMING_KEYS:
            cell.get("metadata", {}).pop(key, None)
        if cell["cell_type"] != "code":
            continue
        outputs = []
        for output in cell.get("outputs", []):
            data = output.get("data")
            if data is not None:
                data.pop(WIDGET_VIEW, None)
                if not data:  # a widget with no text fallback: nothing a reader could see
                    continue
                for mime in list(data):
                    if _is_text_mime(mime):
                        data[mime] = _clean_strings(data[mime], prefixes)
            for key in ("text", "traceback", "evalue"):
                if key in output:
                    output[key] = _clean_strings(output[key], prefixes)
            previous = outputs[-1] if outputs else None
            if (output.get("output_type") == "stream" and previous is not None
                    and previous.get("output_type") == "stream"
                    and previous.get("name") == output.get("name")):
                previous["text"] = _joined(previous["text"]) + _joined(output["text"])
                continue
            outputs.append(output)
        cell["outputs"] = outputs
        # Cells that ran are numbered 1, 2, 3, ... in order; the result carries its cell's number.
        if cell.get("execution_count") is not None:
            count += 1
            cell["execution_count"] = count
            for output in outputs:
                if output.get("output_type") == "execute_result":
                    output["execution_count"] = count
    return nb


# --- checking saved outputs (no kernel) --------------------------------------------------------


def _output_strings(output: dict):
    """Every text a reader could see in one output, ANSI colour codes removed."""
    pieces = []
    for key in ("text", "traceback", "evalue"):
        value = output.get(key)
        pieces.extend(value if isinstance(value, list) else [value] if value else [])
    for mime, value in (output.get("data") or {}).items():
        if _is_text_mime(mime):
            pieces.extend(value if isinstance(value, list) else [str(value)])
    return [ANSI.sub("", piece) for piece in pieces if isinstance(piece, str)]


def _snippet(text: str, match: re.Match) -> str:
    return text[max(0, match.start() - 30): match.end() + 40].replace("\n", " ")


def _tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def output_problems(nb: dict) -> list[str]:
    """One message per rule a saved notebook breaks (cells counted from 1, as in JupyterLab)."""
    import json

    problems = []
    widget_bytes = len(json.dumps(nb.get("metadata", {}).get("widgets", {})))
    if widget_bytes > MAX_WIDGET_STATE_BYTES:
        problems.append(f"widget state of {widget_bytes:,} bytes saved in the notebook metadata "
                        f"(at most {MAX_WIDGET_STATE_BYTES:,})")
    expected_count = 0
    for number, cell in enumerate(nb["cells"], start=1):
        where = f"cell {number}"
        for key in TIMING_KEYS:
            if key in cell.get("metadata", {}):
                problems.append(f"{where}: execution timing saved in its metadata ({key!r})")
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        outputs = cell.get("outputs", [])
        errors = [o for o in outputs if o.get("output_type") == "error"]
        tagged = "raises-exception" in _tags(cell)
        if errors and not tagged:
            problems.append(f"{where}: saved with an error ({errors[0].get('ename')}) but not "
                            "tagged raises-exception (a stale or unexpected traceback)")
        if tagged and not errors:
            problems.append(f"{where}: tagged raises-exception but saved without its error "
                            "(not executed?)")
        if tagged != ("NBVAL_RAISES_EXCEPTION" in source):
            problems.append(f"{where}: the raises-exception tag and the # NBVAL_RAISES_EXCEPTION "
                            "comment go together (JupyterLab's Run All and nbval each read one)")
        if cell.get("execution_count") is None:
            if source.strip():
                problems.append(f"{where}: not executed (run `make notebooks`)")
        else:
            expected_count += 1
            if cell["execution_count"] != expected_count:
                problems.append(f"{where}: execution count {cell['execution_count']}, expected "
                                f"{expected_count} (cells run top to bottom once)")
        for previous, output in zip(outputs, outputs[1:], strict=False):
            if (previous.get("output_type") == output.get("output_type") == "stream"
                    and previous.get("name") == output.get("name")):
                problems.append(f"{where}: its {output.get('name')} is cut into several outputs "
                                "(depends on flush timing; the cleaner joins them)")
                break
        for output in outputs:
            if WIDGET_VIEW in (output.get("data") or {}):
                problems.append(f"{where}: a widget view saved (its model ID is random per run)")
            if (output.get("output_type") == "execute_result"
                    and output.get("execution_count") != cell.get("execution_count")):
                problems.append(f"{where}: its result's execution count differs from the cell's")
            for text in _output_strings(output):
                for pattern, what in ((MACHINE_PATH, "an absolute machine path"),
                                      (MEMORY_ADDRESS, "a memory address")):
                    match = pattern.search(text)
                    if match:
                        problems.append(f"{where}: {what} in an output: ...{_snippet(text, match)}")
    return problems
