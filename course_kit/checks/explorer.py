"""Checkers for the exercises of notebook 08 (attention explorer): attention rollout and the
share of attention that goes to [SEP]."""

from __future__ import annotations

import torch

from ..explorer.rollout import attention_rollout
from .calling import call_learner
from .cases import Case, check_cases
from .compare import as_tensor, compare_tensors
from .fixtures import seeded
from .report import CheckReport, recorded
from .rules import exercise

PAIR_TOKENS = ["[CLS]", "the", "cat", "sat", "[SEP]", "it", "slept", "[SEP]"]


def _random_maps(layers: int, heads: int, seq: int, seed: int) -> torch.Tensor:
    """Random attention maps, shape (layers, heads, seq, seq), every row summing to 1."""
    with seeded(seed):
        scores = torch.rand(layers, heads, seq, seq, dtype=torch.float64) ** 3
    return scores / scores.sum(dim=-1, keepdim=True)


def _product(layer_maps: list[torch.Tensor]) -> torch.Tensor:
    """layer_maps[-1] @ ... @ layer_maps[0]: the top layer applied last."""
    result = torch.eye(layer_maps[0].shape[-1], dtype=layer_maps[0].dtype)
    for layer_map in layer_maps:
        result = layer_map @ result  # (seq, seq)
    return result


@exercise(forbids=("course_kit.explorer.rollout.attention_rollout",
                   "course_kit.explorer.attention_rollout"),
          write_from="the maps: average the heads, add the identity, renormalise the rows, "
                     "multiply layer onto layer")
def check_rollout(rollout_fn) -> CheckReport:
    """Exercise: ``rollout_fn(attentions)`` with attentions of shape (layers, heads, seq, seq)
    returns the rollout of the whole stack, shape (seq, seq) (Abnar and Zuidema, 2020)."""
    report = CheckReport("attention rollout")
    maps = _random_maps(layers=3, heads=4, seq=6, seed=8)
    given = maps.clone()
    ran, result = call_learner(report, "your rollout", rollout_fn, given)
    if not ran:
        return report
    if not torch.equal(given, maps):
        report.fail("your rollout changed the attention maps it was given (work on a copy)")
    expected = torch.from_numpy(attention_rollout(maps.numpy())[-1]).double()
    eye = torch.eye(maps.shape[-1], dtype=maps.dtype)
    mean = maps.mean(dim=1)  # (layers, seq, seq)

    def rows_to_one(m):
        return m / m.sum(dim=-1, keepdim=True)

    with_eye = [rows_to_one(m + eye) for m in mean]
    hints = {
        "the identity (the residual connection) was not added": _product(list(mean)),
        "the rows were not renormalised after adding the identity": _product(
            [m + eye for m in mean]),
        "the layers were multiplied in the wrong order (the top layer must come first: "
        "R = A_L @ ... @ A_1)": _product(with_eye[::-1]),
        "the heads were summed instead of averaged": _product(
            [rows_to_one(m + eye) for m in maps.sum(dim=1)]),
        "only the last layer was used": with_eye[-1],
        "only the first layer was used": with_eye[0],
    }
    if compare_tensors(report, "the rollout", result, expected, atol=1e-5, hints=hints):
        sums = as_tensor(result).double().sum(dim=-1)
        if torch.allclose(sums, torch.ones_like(sums), atol=1e-5):
            report.ok("every row of the rollout sums to 1")
    return report


@recorded
def check_sep_share(sep_share_fn) -> CheckReport:
    """Exercise: ``sep_share_fn(attentions, tokens)`` with attentions (layers, heads, seq, seq)
    returns, for every head, the mean over the looking tokens of the attention that goes to
    [SEP] positions (all of them): shape (layers, heads)."""
    report = CheckReport("share of attention to [SEP]")
    maps = _random_maps(layers=2, heads=3, seq=len(PAIR_TOKENS), seed=3)
    single = ["[CLS]", "a", "b", "[SEP]"]
    small = _random_maps(layers=1, heads=2, seq=len(single), seed=5)
    cases = [Case("the [SEP] share of each head", (maps, list(PAIR_TOKENS)),
                  _sep_share(maps, PAIR_TOKENS), _sep_share_mistakes(maps, PAIR_TOKENS),
                  call="your function"),
             Case("the [SEP] share of each head (one sentence)", (small, single),
                  _sep_share(small, single), call="your function (single sentence)")]
    if check_cases(report, "sep_share", sep_share_fn, cases, atol=1e-6, stop_after_wrong=True):
        report.ok("it finds [SEP] wherever it is, in one sentence or a pair")
    return report


def _sep_positions(tokens: list[str]) -> list[int]:
    return [i for i, token in enumerate(tokens) if token == "[SEP]"]


def _sep_share(maps: torch.Tensor, tokens: list[str]) -> torch.Tensor:
    """(layers, heads): the attention to every [SEP], summed, averaged over looking tokens."""
    return maps[..., _sep_positions(tokens)].sum(dim=-1).mean(dim=-1)


def _sep_share_mistakes(maps: torch.Tensor, tokens: list[str]) -> dict[str, torch.Tensor]:
    sep = _sep_positions(tokens)
    return {
        "only the first [SEP] was counted (a sentence pair has two)":
            maps[..., sep[0]].mean(dim=-1),
        "only the last [SEP] was counted (a sentence pair has two)":
            maps[..., sep[-1]].mean(dim=-1),
        "the shares were summed over the looking tokens instead of averaged":
            maps[..., sep].sum(dim=-1).sum(dim=-1),
        "the [SEP] rows (attention *from* [SEP]) were used; the score needs the [SEP] columns "
        "(attention *to* [SEP])": maps[..., sep, :].sum(dim=-2).mean(dim=-1),
        "this averages over [SEP] rows; the score averages over every looking token":
            maps[..., sep].sum(dim=-1)[..., sep].mean(dim=-1),
    }


__all__ = ["check_rollout", "check_sep_share"]
