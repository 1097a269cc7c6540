"""Did the learner's function call the module it was given instead of computing it?

``feed_forward = lambda x, ff: ff(x)`` gives the right numbers, but it only hands the work back
to course_lib's module; inside notebook 07b's model, whose modules call the learner's function,
it would call itself for ever. The checkers of the module exercises (04, 05) watch the given
module's ``forward`` during one call and say so plainly.
"""

from __future__ import annotations

from contextlib import contextmanager

from torch import nn

from .calling import run_learner
from .fixtures import clones
from .mistakes import name_mistake
from .report import CheckReport


@contextmanager
def watching(module: nn.Module):
    """Count the calls of ``module`` itself (not of its parts) inside the ``with`` block."""
    calls: list[int] = []
    original = module.forward

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    module.forward = counted  # an instance attribute hides the class's forward
    try:
        yield calls
    finally:
        del module.forward


def calls_given_module(report: CheckReport, name: str, fn, args: tuple, module: nn.Module,
                       call: str, parts: str) -> bool:
    """Run ``fn(*args)`` once with ``module`` (one of ``args``) watched; True (and a [fix]
    point) when ``fn`` called it. ``call`` shows that call, ``parts`` what to use instead."""
    if not callable(fn):
        return False  # the cases say so
    with watching(module) as calls:
        run_learner(fn, *clones(*args))  # its errors and answers are the cases' business
    said = name_mistake(bool(calls), {  # asked every time: the teaching page lists it
        f"{name} called {call}, the module it was given, instead of computing it: that only "
        f"hands the work back to course_lib (and in notebook 07b, where the module runs your "
        f"{name}, it would call itself for ever). Compute it from the module's parts: {parts}":
            True})
    if said:
        report.fail(said)
    return said is not None
