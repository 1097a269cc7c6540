"""The one way the checkers compare an answer with the right one, and read answers of any type.

Tensors are compared on their shape, then on their values, whatever their dtype, device or memory
layout (a float64 answer, one on the GPU or a non-contiguous view is as right as a float32 one).
Lists, shapes and numbers are read into plain Python first, so a tensor, a NumPy array, a list or
a tuple holding the right values all count.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch

from .mistakes import name_mistake
from .report import CheckReport


def as_tensor(value):
    """A NumPy array as a tensor; anything else as it is."""
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value)
    return value


def as_plain_list(value) -> list | None:
    """A list, tuple, 1-D tensor or 1-D array as a plain Python list (None if none of these)."""
    value = as_tensor(value)
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


def as_number(value) -> float | None:
    """An int, float, NumPy number or one-element tensor as a float; None for anything else."""
    value = as_tensor(value)
    if isinstance(value, torch.Tensor):
        if value.numel() != 1 or value.is_complex():
            return None
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return float(value)


def as_int(value) -> int | None:
    """A whole number (int, whole float, NumPy integer, one-element tensor) as an int, or None."""
    number = as_number(value)
    if number is None or not math.isfinite(number) or not number.is_integer():
        return None
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)  # exact, even beyond float precision
    return int(number)


def numbers_match(rel_tol: float = 1e-6, abs_tol: float = 0.0):
    """``same`` for numbers: math.isclose with the given tolerances."""
    def same(answer, expected) -> bool:
        return (isinstance(answer, float | int) and isinstance(expected, float | int)
                and math.isclose(answer, expected, rel_tol=rel_tol, abs_tol=abs_tol))
    return same


def _comparable(tensor: torch.Tensor) -> torch.Tensor:
    """On the CPU, in float64, detached: dtype, device and layout no longer matter."""
    return tensor.detach().to(device="cpu", dtype=torch.float64)


def tensors_match(actual, expected, atol: float = 1e-5) -> bool:
    """Same shape and values within ``atol`` (NaN never matches)."""
    actual, expected = as_tensor(actual), as_tensor(expected)
    if not (isinstance(actual, torch.Tensor) and isinstance(expected, torch.Tensor)):
        return False
    if tuple(actual.shape) != tuple(expected.shape) or actual.is_complex():
        return False
    return torch.allclose(_comparable(actual), _comparable(expected), atol=atol, rtol=0)


def compare_tensors(report: CheckReport, name: str, actual, expected: torch.Tensor,
                    atol: float = 1e-5, hints: dict | None = None) -> bool:
    """Shape first, then values. ``hints`` is the catalogue: a named mistake -> the answer it gives.

    A wrong answer (of any shape) that equals a catalogued one is reported with that mistake's
    name; otherwise with the largest difference.
    """
    if actual is None:  # the call failed and said so already
        return False
    actual = as_tensor(actual)
    if not isinstance(actual, torch.Tensor):
        report.fail(f"{name} should be a torch.Tensor, got {type(actual).__name__}")
        return False
    expected_shape = tuple(expected.shape)
    mistake = None if tensors_match(actual, expected, atol) else name_mistake(
        actual, hints or {}, same=lambda a, b: tensors_match(a, b, atol))
    named = f": it looks like {mistake}" if mistake else ""
    if tuple(actual.shape) != expected_shape:
        report.fail(f"{name} has shape {tuple(actual.shape)}, expected {expected_shape}{named}")
        return False
    report.ok(f"{name} has the right shape {expected_shape}")
    if mistake is None and tensors_match(actual, expected, atol):
        report.ok(f"{name} has the right values")
        return True
    if mistake:
        report.fail(f"{name} has the wrong values{named}")
    elif actual.is_complex() or torch.isnan(_comparable(actual)).any():
        report.fail(f"{name} contains NaN (or is not real): look for a 0/0 or a softmax over a row "
                    "that is masked everywhere")
    else:
        gap = (_comparable(actual) - _comparable(expected)).abs().max().item()
        report.fail(f"{name} has the wrong values (largest difference {gap:.3g})")
    return False
