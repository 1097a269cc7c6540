"""Exercise checkers: each ``check_...`` runs a learner's function and says, in plain words,
what is right and what is not. A wrong or crashing answer never crashes the checker."""

from .core import CheckReport, call_safely, compare_tensors

__all__ = ["CheckReport", "call_safely", "compare_tensors"]
