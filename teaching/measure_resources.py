"""Measure what one learner needs on a hub: run notebooks 00-08 the way a learner does (each in
its own kernel, top to bottom, offline) and record each kernel's peak memory (resident set, with
its children) and CPU time, plus the disk taken by the environment. Writes
teaching/resources.json, which teaching/hub.md quotes for its sizing.

    python teaching/measure_resources.py            # about 3-5 minutes on 2 cores
    python teaching/measure_resources.py --venv .venv --last 08
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import threading
import time
from datetime import date
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "teaching" / "resources.json"
POLL_S = 0.1


def tree_rss(process: psutil.Process) -> int:
    """Resident memory of a process and all its children, in bytes."""
    total = 0
    for p in [process, *process.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            continue
    return total


def run_notebook(path: Path) -> dict:
    """Execute one notebook in a fresh kernel; its peak memory, CPU time and wall time."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    peak, stop = [0], threading.Event()
    started = time.perf_counter()
    with client.setup_kernel():
        kernel = psutil.Process(client.km.provisioner.process.pid)

        def watch():
            while not stop.is_set():
                try:
                    peak[0] = max(peak[0], tree_rss(kernel))
                except psutil.Error:
                    return
                time.sleep(POLL_S)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        times = kernel.cpu_times()
        stop.set()
        watcher.join()
    return {"notebook": path.name, "peak_rss_mb": round(peak[0] / 2**20),
            "cpu_s": round(times.user + times.system, 1),
            "wall_s": round(time.perf_counter() - started, 1)}


def folder_mb(folder: Path) -> int:
    out = subprocess.run(["du", "-sm", str(folder)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", type=Path, default=Path(os.environ.get("VIRTUAL_ENV", ROOT /
                                                                         ".venv")))
    parser.add_argument("--last", default="08", help="last notebook number to run (00..last)")
    args = parser.parse_args(argv)
    os.environ.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONHASHSEED="0")
    notebooks = [p for p in sorted((ROOT / "notebooks").glob("*.ipynb"))
                 if p.name[:2].isdigit() and p.name[:2] <= args.last]
    rows = []
    for path in notebooks:
        row = run_notebook(path)
        print(row, flush=True)
        rows.append(row)
    result = {
        "measured": date.today().isoformat(),
        "machine": f"{psutil.cpu_count()} cores, {round(psutil.virtual_memory().total / 2**30)} "
                   f"GiB, {platform.machine()}, Python {platform.python_version()}",
        "notebooks": rows,
        "peak_rss_mb_max": max(r["peak_rss_mb"] for r in rows),
        "cpu_s_total": round(sum(r["cpu_s"] for r in rows), 1),
        "wall_s_total": round(sum(r["wall_s"] for r in rows), 1),
        "venv_mb": folder_mb(args.venv) if args.venv.is_dir() else None,
        "course_folder_mb": folder_mb(ROOT / "notebooks")  # the course's files: course_lib/assets
        + folder_mb(ROOT / "course_lib"),
    }
    OUT.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "notebooks"}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
