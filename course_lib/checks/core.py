"""The machinery every exercise checker shares: run safely, compare, report in plain words."""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field

import torch


@dataclass
class CheckReport:
    """The verdict on one exercise: a list of passed and failed points, shown as text."""

    title: str
    passed_points: list[str] = field(default_factory=list)
    failed_points: list[str] = field(default_factory=list)

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


class _Crashed:
    """Marks a call that raised; carries a one-line description of the error."""

    def __init__(self, error: BaseException):
        frame = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
        where = f" (line {frame.lineno} of {frame.name})" if frame else ""
        self.description = f"{type(error).__name__}: {error}{where}"


def call_safely(report: CheckReport, what: str, fn, *args, **kwargs):
    """Call the learner's function; on an exception, record it in the report and return None."""
    try:
        return fn(*args, **kwargs)
    except Exception as error:  # the learner's code may fail in any way; report, never crash
        report.fail(f"{what} raised {_Crashed(error).description}")
        return None


def compare_tensors(report: CheckReport, name: str, actual, expected: torch.Tensor,
                    atol: float = 1e-5, hints: dict[str, torch.Tensor] | None = None) -> bool:
    """Shape first, then values. ``hints`` maps a likely mistake to the tensor it would produce."""
    if actual is None:
        return False
    if not isinstance(actual, torch.Tensor):
        report.fail(f"{name} should be a torch.Tensor, got {type(actual).__name__}")
        return False
    if tuple(actual.shape) != tuple(expected.shape):
        report.fail(f"{name} has shape {tuple(actual.shape)}, expected {tuple(expected.shape)}")
        return False
    report.ok(f"{name} has the right shape {tuple(expected.shape)}")
    actual = actual.detach().to(expected.dtype) if actual.is_floating_point() else actual.detach()
    if torch.allclose(actual.to(expected.dtype), expected, atol=atol, rtol=0):
        report.ok(f"{name} has the right values")
        return True
    for mistake, wrong in (hints or {}).items():
        if tuple(wrong.shape) == tuple(actual.shape) and torch.allclose(
            actual.to(wrong.dtype), wrong, atol=atol, rtol=0
        ):
            report.fail(f"{name} has the wrong values: it looks like {mistake}")
            return False
    gap = (actual.to(expected.dtype) - expected).abs().max().item()
    report.fail(f"{name} has the wrong values (largest difference {gap:.3g})")
    return False
