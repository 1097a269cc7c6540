"""Checker for notebook 09b's exercise: WEAT's effect size (Caliskan et al. 2017), written by hand.

The cases use vectors of different lengths (so dot products differ from cosines) and attribute
sets of different sizes (so sums differ from means): each classic mistake gives its own number.
"""

from __future__ import annotations

import torch

from .cases import Case, check_cases, read_number
from .report import CheckReport
from .rules import exercise


def weat(X, Y, A, B, cosine=True, ddof=1, spread="both", flip=False, summed=False):
    """WEAT's effect size, or a deliberately wrong variant of it."""
    def similarity(U, V):
        if cosine:
            U, V = (torch.nn.functional.normalize(M, dim=-1) for M in (U, V))
        return U @ V.T  # (rows of U, rows of V)

    def s(W):
        a, b = similarity(W, A), similarity(W, B)
        return (a.sum(1) - b.sum(1)) if summed else (a.mean(1) - b.mean(1))  # (rows,)

    sx, sy = s(X), s(Y)
    difference = (sy.mean() - sx.mean()) if flip else (sx.mean() - sy.mean())
    if spread == "both":
        scale = torch.cat([sx, sy]).std(correction=ddof)
    elif spread == "x":
        scale = sx.std(correction=ddof)
    elif spread == "pooled":
        scale = ((sx.var() + sy.var()) / 2).sqrt()
    else:
        scale = torch.tensor(1.0)
    return float(difference / scale)


def _case(label: str, seed: int, targets: tuple[int, int] = (4, 4)) -> Case:
    generator = torch.Generator().manual_seed(seed)

    def vectors(n):
        lengths = torch.rand(n, 1, generator=generator) * 4 + 0.5  # (n, 1): uneven lengths
        return torch.randn(n, 6, generator=generator) * lengths  # (n, 6)

    X, Y, A, B = vectors(targets[0]), vectors(targets[1]), vectors(3), vectors(5)
    X[:, 0] += 1.0  # X leans towards A a little, Y does not
    A[:, 0] += 1.0
    args = (X, Y, A, B)
    return Case(label, args, weat(*args), also_right=(weat(*args, ddof=0),), mistakes={
        "dot products instead of cosines: normalise the vectors (or divide by their lengths)":
            weat(*args, cosine=False),
        "the spread of X alone: the standard deviation is over the words of X and Y together":
            weat(*args, spread="x"),
        "the pooled within-group spread (Cohen's d): WEAT divides by the standard deviation of "
        "s(w) over X and Y together": weat(*args, spread="pooled"),
        "no division by the standard deviation: the effect size is the difference of the means "
        "divided by the spread of s(w) over X and Y": weat(*args, spread=None),
        "the sign is flipped: d is X's mean s minus Y's, s is the mean cosine to A minus to B":
            weat(*args, flip=True),
        "sums over A and B instead of means: with sets of different sizes the larger set weighs "
        "more": weat(*args, summed=True),
    }, call=f"effect_size(X, Y, A, B) on {label}")


@exercise(forbids=("course_kit.association.effect_size", "course_kit.association.association",
                   "course_kit.checks.association.weat"))
def check_effect_size(effect_size) -> CheckReport:
    """``effect_size(X, Y, A, B) -> float``: rows are word vectors, (n, d) tensors."""
    report = CheckReport("effect_size (WEAT, Caliskan et al. 2017)")
    cases = [_case("4 + 4 targets, 3 + 5 attributes", 0),
             _case("another draw of such vectors", 1),
             _case("3 + 5 targets (X and Y of different sizes)", 2, (3, 5))]
    check_cases(report, "effect_size", effect_size, cases, read=read_number,
                same=lambda a, b: abs(a - b) < 1e-4, show=lambda x: f"{x:.4f}")
    return report


__all__ = ["check_effect_size", "weat"]
