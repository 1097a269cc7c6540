"""Where the browser tests are required (CI, `make test`), a skipped one fails the run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
SAMPLE = '''
import pytest

@pytest.fixture()
def browser():
    pytest.skip("no Chromium at /usr/bin/chromium")

@pytest.mark.browser
def test_marked():
    pytest.skip("no Chromium installed")

def test_uses_the_site_fixture(browser):
    pass

def test_other_skip():
    pytest.skip("a GPU-only test may stay skipped with its reason")

def test_passes():
    pass
'''


def run_sample(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_sample.py").write_text(SAMPLE, encoding="utf-8")
    environ = {k: v for k, v in os.environ.items() if k not in ("CI", "COURSE_REQUIRE_BROWSER")}
    environ["PYTHONPATH"] = os.pathsep.join([str(TESTS), environ.get("PYTHONPATH", "")])
    environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # only this plugin: quick
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "browser_required", "-q", "-rA", "-p",
         "no:cacheprovider", "--rootdir", str(tmp_path), "-c", os.devnull, *args, str(tmp_path)],
        env={**environ, **env}, capture_output=True, text=True, cwd=tmp_path)


def counts(done: subprocess.CompletedProcess) -> dict[str, int]:
    """pytest's last line as numbers, e.g. {"failed": 1, "passed": 1} (warnings left out)."""
    last = done.stdout.strip().splitlines()[-1]
    found = re.findall(r"(\d+) (failed|passed|skipped|errors?|deselected)", last)
    return {word.rstrip("s") if word.startswith("error") else word: int(n) for n, word in found}


def test_a_skipped_browser_test_is_an_error_when_required(tmp_path):
    done = run_sample(tmp_path, COURSE_REQUIRE_BROWSER="1")
    assert done.returncode == 1, done.stdout
    # the marked test fails, the one whose browser fixture skipped errors, other skips stay
    assert counts(done) == {"failed": 1, "passed": 1, "skipped": 1, "error": 1}, done.stdout
    assert "sudo apt-get install chromium" in done.stdout  # says what to run


def test_in_ci_too(tmp_path):
    assert run_sample(tmp_path, CI="true").returncode == 1


def test_elsewhere_a_skip_stays_a_skip(tmp_path):
    done = run_sample(tmp_path)
    assert done.returncode == 0 and counts(done) == {"passed": 1, "skipped": 3}, done.stdout


def test_leaving_the_browser_tests_out_on_purpose_deselects_the_site_ones_too(tmp_path):
    done = run_sample(tmp_path, "-m", "not browser", COURSE_REQUIRE_BROWSER="1")
    assert done.returncode == 0, done.stdout
    assert counts(done) == {"passed": 1, "skipped": 1, "deselected": 2}, done.stdout


def test_make_test_says_what_to_run_when_it_cannot_install_chromium():
    """`make test` depends on `make browser`: with no Chromium and no apt-get it fails, saying
    the command to run (it never goes on to skip the browser tests)."""
    done = subprocess.run(["make", "-s", "browser", "CHROMIUM=/nonexistent/chromium",
                           "APT_GET=/nonexistent/apt-get"], cwd=TESTS.parent,
                          capture_output=True, text=True)
    assert done.returncode != 0
    assert "sudo apt-get install chromium fonts-dejavu-core" in done.stdout, done.stdout
