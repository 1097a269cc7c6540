"""Which typical mistake gives this answer: the checkers' catalogues of named mistakes.

A catalogue maps a mistake, said in plain words, to the answer that mistake produces on the same
inputs (computed by a deliberately wrong version of the reference). A wrong answer equal to one
of them is reported with that mistake's name.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping

# The mistakes named during each recorded checker's run (innermost last): progress keeps them.
NAMED_DURING: list[list[str]] = []


def name_mistake(answer, mistakes: Mapping[str, object],
                 same: Callable[[object, object], bool] = operator.eq) -> str | None:
    """The first mistake in ``mistakes`` whose answer is ``same`` as ``answer``; None if none is.

    A comparison that raises (an answer of an odd type) counts as "not the same".
    """
    for why, wrong in mistakes.items():
        try:
            if same(answer, wrong):
                if NAMED_DURING:
                    NAMED_DURING[-1].append(why)
                return why
        except Exception:  # an odd answer is simply not this mistake
            continue
    return None
