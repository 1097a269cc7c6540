"""Calling the learner's code and building seeded inputs, under their long-standing import path
(other checkers import them from here); the code lives in ``calling``, ``compare``, ``fixtures``."""

from .calling import call_learner
from .compare import as_plain_list, as_shape
from .fixtures import clones, seeded

__all__ = ["as_plain_list", "as_shape", "call_learner", "clones", "seeded"]
