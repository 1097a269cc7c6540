"""The verdict on one exercise: what is right ([ok]) and what to fix ([fix]), shown as text."""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from ..progress import record
from .mistakes import NAMED_DURING

# The latest reports made, so that %%my_bert can say "saved, but it does not pass yet".
RECENT: deque[CheckReport] = deque(maxlen=32)


@dataclass
class CheckReport:
    """A list of passed and failed points; passed only when something passed and nothing failed."""

    title: str
    passed_points: list[str] = field(default_factory=list)
    failed_points: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        RECENT.append(self)

    @property
    def passed(self) -> bool:
        return not self.failed_points and bool(self.passed_points)

    def ok(self, point: str) -> None:
        self.passed_points.append(point)

    def fail(self, point: str) -> None:
        self.failed_points.append(point)

    def __str__(self) -> str:
        verdict = "all checks passed" if self.passed else "not yet right"
        lines = [f"{self.title}: {verdict}"]
        lines += [f"  [ok]   {p}" for p in self.passed_points]
        lines += [f"  [fix]  {p}" for p in self.failed_points]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def __bool__(self) -> bool:
        return self.passed


def recorded(check: Callable[..., CheckReport]) -> Callable[..., CheckReport]:
    """Mark a ``check_...`` function as an exercise: its verdict is kept for ``kit.progress()``."""

    @functools.wraps(check)
    def run_and_record(*args, **kwargs) -> CheckReport:
        NAMED_DURING.append(named := [])  # the mistakes this try makes, by name
        try:
            report = check(*args, **kwargs)
        finally:
            NAMED_DURING.pop()
        record(check.__name__, report.title, report.passed, named)
        return report

    return run_and_record
