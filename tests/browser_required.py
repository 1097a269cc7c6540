"""A pytest plugin (loaded by conftest.py): where the browser tests are required (CI, or
COURSE_REQUIRE_BROWSER=1 as `make test` sets), a skipped browser test is an error, not a pass.

A browser test is one marked ``browser`` or one that uses the ``browser`` fixture (the site's).
"""

from __future__ import annotations

import os

import pytest

REQUIRE = "COURSE_REQUIRE_BROWSER"
HOW = ("install Chromium, e.g. `sudo apt-get install chromium fonts-dejavu-core` (Debian, "
       "Ubuntu; `make test` does it when it may), or leave the browser tests out on purpose: "
       "make test PYTEST_ARGS=\"-m 'not browser'\"")


def browser_required() -> bool:
    """True in CI and where COURSE_REQUIRE_BROWSER is set to anything but 0."""
    return (os.environ.get("CI", "").lower() in ("1", "true", "yes")
            or os.environ.get(REQUIRE, "0") not in ("", "0"))


@pytest.hookimpl(tryfirst=True)  # before -m selects, so that -m "not browser" leaves them out
def pytest_collection_modifyitems(items):
    """A test that uses the ``browser`` fixture (the site's) is a browser test too."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


def is_browser_test(item: pytest.Item) -> bool:
    return item.get_closest_marker("browser") is not None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and is_browser_test(item) and browser_required():
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = (f"browser test skipped where the browser tests are required "
                           f"(CI or {REQUIRE}=1): {reason}. To run it: {HOW}")
