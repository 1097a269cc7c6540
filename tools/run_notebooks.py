"""Re-execute the course notebooks top to bottom, save their outputs clean, re-sync the .py twins.

    python tools/run_notebooks.py                 # every notebook (what `make notebooks` runs)
    python tools/run_notebooks.py notebooks/03_self_attention.ipynb ...

Each notebook is first synced with its .py twin as `jupytext --sync` does (the more recently
edited of the two gives the cells' sources, so an edit made in the .py is kept), then runs in a
fresh kernel with its own folder as the working directory (as in
JupyterLab and under nbval), offline. Cells tagged "raises-exception" are executed like any
other and keep the error the current code raises; any other error stops that notebook, leaves
its file untouched, and makes the script exit non-zero after the others have run. The saved
outputs are then cleaned (tools/notebook_hygiene.py) and the .py twin rewritten from the
executed notebook. A .py twin left
without its notebook (a renamed or deleted notebook) is reported at the end, to delete.

`make notebooks` runs this with the tests' environment; run directly, it sets the offline
variables itself. Prints the time of each notebook and the total.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import notebook_hygiene as hygiene  # noqa: E402

CELL_TIMEOUT_S = 600


def execute(path: Path) -> None:
    """Run one notebook in a fresh kernel, clean it and write it (and its twin) back."""
    import nbformat
    from jupytext.cli import jupytext as jupytext_cli
    from nbclient import NotebookClient

    if hygiene.twin_problem(path) is not None:  # out of sync, or no twin yet
        jupytext_cli(["--sync", "--quiet", str(path)])
    nb = nbformat.read(path, as_version=4)
    # Kernel "python3" is this interpreter (jupyter_client maps the spec's "python" to it).
    client = NotebookClient(
        nb,
        kernel_name="python3",
        # Kernel log at ERROR: its warning that local TCP is unencrypted tells a reader nothing.
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,  # no timestamps in cell metadata
        store_widget_state=False,  # no widget state in the file
    )
    client.execute()
    hygiene.clean_notebook(nb)
    nbformat.write(nb, path)
    hygiene.twin_of(path).write_text(hygiene.expected_twin_text(path), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to run (default: every course notebook)")
    args = parser.parse_args(argv)
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        os.environ.setdefault(name, "1")
    paths = [p.resolve() for p in args.notebooks] or hygiene.notebook_paths()

    failed, start = [], time.perf_counter()
    for number, path in enumerate(paths, start=1):
        label = hygiene.display_path(path)
        print(f"[{number}/{len(paths)}] {label} ...", end=" ", flush=True)
        t0 = time.perf_counter()
        try:
            execute(path)
        except Exception as error:  # report, go on with the next notebook
            failed.append(label)
            print(f"FAILED after {time.perf_counter() - t0:.0f} s")
            print(f"    {type(error).__name__}: {str(error)[-2000:]}", file=sys.stderr)
            continue
        print(f"{time.perf_counter() - t0:.0f} s")
    total = time.perf_counter() - start
    print(f"{len(paths) - len(failed)} of {len(paths)} notebooks executed and saved "
          f"in {total / 60:.1f} min ({total:.0f} s)")
    orphans = hygiene.orphan_twin_problems()  # e.g. the twin of a renamed notebook
    for problem in orphans:
        print("WARNING:", problem)
    if failed:
        print("not saved (fix the error above, then run them again):", *failed, sep="\n    ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
