"""What the checkers of notebooks 00-05 share: call the learner's function, compare, build inputs.

``call_learner`` is ``call_safely`` plus two plain-word cases a beginner meets first: passing
something that is not a function, and a function that still returns None (not written yet).
"""

from __future__ import annotations

from contextlib import contextmanager

import torch

from .core import CheckReport, call_safely


def call_learner(report: CheckReport, what: str, fn, *args, **kwargs) -> tuple[bool, object]:
    """Run ``fn(*args, **kwargs)``: (True, result), or (False, None) with the reason noted."""
    if not callable(fn):
        report.fail(f"{what}: expected a function, got {type(fn).__name__}")
        return False, None
    failures_before = len(report.failed_points)
    result = call_safely(report, what, fn, *args, **kwargs)
    if len(report.failed_points) > failures_before:  # it raised; call_safely said so
        return False, None
    if result is None:
        report.fail(f"{what} returned None: write your code where it says '# YOUR CODE HERE' "
                    "and return the result")
        return False, None
    return True, result


@contextmanager
def seeded(seed: int):
    """Build inputs and modules from a fixed seed without touching the learner's random state."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def clones(*tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Fresh copies, so a learner's in-place edit cannot change the checker's inputs."""
    return tuple(t.clone() if isinstance(t, torch.Tensor) else t for t in tensors)


def as_plain_list(value) -> list | None:
    """A list, tuple or 1-D tensor as a plain Python list (None if it is none of these)."""
    if isinstance(value, torch.Tensor):
        return value.tolist() if value.dim() == 1 else None
    if isinstance(value, (list, tuple)):
        return list(value)
    return None


def as_shape(value) -> tuple | None:
    """A shape written as a tuple, list or torch.Size, as a tuple of ints (None otherwise)."""
    if isinstance(value, (tuple, list, torch.Size)) and all(
        isinstance(n, int) and not isinstance(n, bool) for n in value
    ):
        return tuple(value)
    return None
