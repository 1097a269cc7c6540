"""The checkers' machinery under its long-standing import path.

What lives where: ``report`` (CheckReport), ``calling`` (the one way to call learner code, with
its time limit), ``compare`` (the one way to compare answers), ``mistakes`` (name_mistake),
``cases`` (the loop every checker runs), ``fixtures`` (seeded inputs and small configs).
"""

from .calling import call_safely
from .compare import compare_tensors
from .report import CheckReport

__all__ = ["CheckReport", "call_safely", "compare_tensors"]
