"""Exercise checkers: each ``check_...`` runs a learner's function and says, in plain words,
what is right and what is not. A wrong, crashing or never-ending answer never crashes (or hangs)
the checker.

Each notebook's module (``welcome``, ``tokens``, ``embeddings``, ``attention``, ``layers``,
``encoder``, ``pretrained``, ``capstone``, ``explorer``, ``classify``, ``where_next``) holds only
its cases and its catalogue of named mistakes; the loop, the calls and the comparisons are shared
(``cases``, ``calling``, ``compare``, ``mistakes``, ``fixtures``).

A new checker is a list of cases and, for each, a catalogue: what a typical mistake would give::

    def check_double(double) -> CheckReport:
        report = CheckReport("double")
        x = randn(1, 3)  # seeded, the learner's random state untouched
        case = Case("double(x)", (x,), 2 * x, {"it added 2 instead of doubling": x + 2})
        check_cases(report, "double", double, [case])  # calls safely, compares, names mistakes
        return report

An exercise checker is decorated with ``@recorded`` (its verdict is kept for ``kit.progress()``)
or, when the exercise forbids something, ``@exercise(forbids=(...), write_from="...")`` from
``rules``, which records too and fails any call of a forbidden function by name.
"""

from .calling import call_learner, call_safely
from .cases import Case, check_cases
from .compare import compare_tensors
from .mistakes import name_mistake
from .report import CheckReport

__all__ = ["Case", "CheckReport", "call_learner", "call_safely", "check_cases",
           "compare_tensors", "name_mistake"]
