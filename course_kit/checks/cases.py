"""The one loop every checker runs: call the learner's function on each case, read the answer,
compare it with the right one, and name the mistake from the case's catalogue when it is wrong.

A checker is then its cases (inputs and right answers) plus its catalogue of named mistakes.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import torch

from .calling import call_learner
from .compare import as_number, as_plain_list, compare_tensors, tensors_match
from .fixtures import clones
from .mistakes import name_mistake
from .report import CheckReport


class Unreadable(Exception):
    """Raised by a ``read`` function: the answer has the wrong type; the message says what."""


@dataclass
class Case:
    """One call of the learner's function and what it must give.

    label: names the case in the report. args: what the function is given (tensors are cloned).
    expected: the right answer, in the form ``read`` gives (a list, a number, a tensor...), or a
    tuple of tensors when the function returns several, named by ``parts``.
    mistakes: the catalogue, a mistake in plain words -> the answer it gives here (with ``parts``:
    one catalogue per part).
    also_right: other answers that are just as right (another convention), judged the same way.
    call: how the call is shown in the report (default: "<name> on <label>").
    sizes: the sizes this case runs at; code that passes at one size and fails at another most
    likely has sizes written into it, and the report says so.
    """

    label: str
    args: tuple
    expected: object
    mistakes: dict | tuple = field(default_factory=dict)
    also_right: tuple = ()
    parts: tuple[str, ...] = ()
    call: str | None = None
    sizes: str | None = None


def check_cases(report: CheckReport, name: str, fn, cases: Iterable[Case], *,
                read: Callable | None = None, same: Callable = operator.eq,
                show: Callable = repr, explain: Callable | None = None,
                inspect: Callable | None = None, atol: float = 1e-5, none_ok: bool = False,
                stop_after_wrong: bool = False) -> bool:
    """Run every case; True when all were right. Stops at the first call that fails (a crash,
    None, a time-out); ``stop_after_wrong`` also stops at the first wrong answer.

    Tensor answers go through ``compare_tensors`` (shape, then values within ``atol``); others are
    compared with ``same``, shown with ``show``, and, when no catalogued mistake matches, explained
    by ``explain(case, answer)`` if given. ``inspect(report, case, answer)`` may add plain-word
    checks of properties any right answer has (rows that sum to 1, say).
    """
    judge = _Judge(read, same, show, explain, inspect, atol)
    all_right, finished, by_size = True, True, {}
    for case in cases:
        call = case.call or f"{name} on {case.label}"
        finished, answer = call_learner(report, call, fn, *clones(*case.args), none_ok=none_ok)
        right = finished and judge(report, case, call, answer)
        if case.sizes:
            by_size[case.sizes] = by_size.get(case.sizes, True) and right
        all_right = all_right and right
        if not finished or (stop_after_wrong and not right):
            break
    _sizes_written(report, by_size)
    return all_right and finished


def _sizes_written(report: CheckReport, by_size: dict[str, bool]) -> None:
    """Every case right at one size and some wrong at another: sizes are most likely written
    into the code. (A mistake made at every size, a mask applied late say, is not that.)"""
    good = [sizes for sizes, right in by_size.items() if right]
    bad = [sizes for sizes, right in by_size.items() if not right]
    if good and bad:
        report.fail(f"it works at {good[0]} but not at {bad[0]}: are sizes written into your "
                    "code? Read them from the inputs (x.shape, num_heads, config)")


@dataclass
class _Judge:
    """The verdict on one answer, written into the report."""

    read: Callable | None
    same: Callable
    show: Callable
    explain: Callable | None
    inspect: Callable | None
    atol: float

    def __call__(self, report: CheckReport, case: Case, call: str, answer) -> bool:
        try:
            value = self.read(answer) if self.read else answer
        except Unreadable as why:
            report.fail(f"{call}: {why}")
            return False
        if case.parts and not self._parts_in_order(report, case, call, value):
            return False
        if self.inspect:
            self.inspect(report, case, value)
        expected = next((option for option in (case.expected, *case.also_right)
                         if self._matches(value, option)), case.expected)
        if case.parts:
            return self._parts(case, report, value, expected)
        if isinstance(expected, torch.Tensor):
            return compare_tensors(report, case.label, value, expected, atol=self.atol,
                                   hints=case.mistakes)
        if self.same(value, expected):
            report.ok(f"{case.label}: {self.show(expected)}")
            return True
        mistake = name_mistake(value, case.mistakes, same=self.same)
        why = f": it looks like {mistake}" if mistake else (
            f": {self.explain(case, value)}" if self.explain else "")
        report.fail(f"{case.label}: expected {self.show(expected)}, got {self.show(value)}{why}")
        return False

    def _matches(self, value, expected) -> bool:
        """Quietly: is ``value`` right against this one accepted answer?"""
        if isinstance(expected, tuple) and expected and isinstance(expected[0], torch.Tensor):
            return (isinstance(value, (tuple, list)) and len(value) == len(expected)
                    and all(tensors_match(v, e, self.atol)
                            for v, e in zip(value, expected, strict=True)))
        if isinstance(expected, torch.Tensor):
            return tensors_match(value, expected, self.atol)
        try:
            return bool(self.same(value, expected))
        except Exception:  # an odd answer is simply not right
            return False

    def _parts_in_order(self, report: CheckReport, case: Case, call: str, value) -> bool:
        """Several results returned together, e.g. (output, weights): as many, in that order."""
        names = ", ".join(case.parts)
        if not (isinstance(value, (tuple, list)) and len(value) == len(case.parts)):
            report.fail(f"{call} should return {len(case.parts)} results: ({names})")
            return False
        if len(value) == 2 and _swapped(tuple(value), case.expected):
            report.fail(f"{call}: the two results are in swapped order: return ({names})")
            return False
        return True

    def _parts(self, case: Case, report: CheckReport, value, expected) -> bool:
        """Each of several results compared on its own, with its own catalogue."""
        mistakes = case.mistakes or ({},) * len(case.parts)
        verdicts = [compare_tensors(report, part, got, right, atol=self.atol, hints=wrong)
                    for part, got, right, wrong in zip(case.parts, value, expected, mistakes,
                                                       strict=True)]
        return all(verdicts)


def _swapped(pair: tuple, expected: tuple) -> bool:
    """True when two tensor results are each where the other should be (told by their shapes,
    or, when both have one shape, by their values)."""
    def shape(t):
        return tuple(t.shape) if isinstance(t, torch.Tensor) else None

    got, right = (shape(pair[0]), shape(pair[1])), (shape(expected[0]), shape(expected[1]))
    if right[0] != right[1]:
        return got == right[::-1]
    return tensors_match(pair[0], expected[1]) and tensors_match(pair[1], expected[0])


def read_two_lists(names: tuple[str, str]) -> Callable:
    """A ``read`` for functions that return two lists, e.g. (input_ids, attention_mask): both as
    plain lists (tensors and tuples count too)."""
    def read(answer):
        pair = (answer if isinstance(answer, (tuple, list)) and len(answer) == 2 else (None, None))
        lists = tuple(as_plain_list(part) for part in pair)
        if any(part is None for part in lists):
            raise Unreadable(f"should return two lists: ({names[0]}, {names[1]})")
        return lists
    return read


def read_text(answer) -> str:
    """A ``read`` for functions that return a str."""
    if not isinstance(answer, str):
        raise Unreadable(f"return a str, got {type(answer).__name__}")
    return answer


def read_number(answer) -> float:
    """A ``read`` for functions that return one number (an int, float, NumPy or 0-d tensor)."""
    number = as_number(answer)
    if number is None:
        raise Unreadable(f"return one number, got {type(answer).__name__}")
    return number
