"""Checkers for notebooks 03 and 04: one head of attention, then splitting, merging, many heads.

The tensor exercises of notebook 04 run at two sizes (``fixtures.SMALL`` then ``fixtures.OTHER``)
so that sizes written into the code are caught. ``merge_heads`` is given what it really gets in
multi-head attention, the contiguous output of ``weights @ v``, as well as the non-contiguous
output of ``split_heads``: a version that only works on one of them (``.view`` after a
transpose) fails here, at its own exercise, with a message saying why, not later inside
``multi_head_attention``.
"""

from __future__ import annotations

import math

import torch

from course_lib.attention import MultiHeadSelfAttention, attention_weights, merge_heads, split_heads
from course_lib.config import BertConfig

from .calling import run_learner
from .cases import Case, check_cases
from .fixtures import OTHER, SMALL, clones, keep_mask, randn, seeded_module, sizes_of
from .given_module import calls_given_module
from .mistakes import name_mistake
from .report import CheckReport
from .rules import exercise

SEQ, HEAD_SIZE = 6, 8
# The library's attention, which the attention exercises ask the learner to write themselves.
ATTENTION_HELPERS = ("course_lib.attention_weights", "course_lib.scaled_dot_product_attention",
                     "torch.nn.functional.scaled_dot_product_attention")
PADDING_MASK = torch.tensor([True, True, True, True, False, False])  # (seq,): last 2 are [PAD]


def head_inputs() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Queries, keys and values of one head, (6, 8) each, seeded."""
    q, k, v = randn(6, 3, SEQ, HEAD_SIZE)  # (seq, head_size) each
    return q, k, v


# ---- the catalogue of attention mistakes, shared by one head and many heads ------------------

def attention_variant(q, k, mask, scale: float | None = None, dim: int = -1,
                      mask_after_softmax: bool = False, mask_queries: bool = False
                      ) -> torch.Tensor:
    """The weights a variant of attention gives (the right one by default): used to recognise
    the typical mistakes. mask: broadcastable to (..., seq_q, seq_k), True for keys to see;
    ``mask_queries`` applies it to the rows (the queries) instead."""
    scale = math.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ k.transpose(-1, -2) / scale  # (..., seq_q, seq_k)
    if mask is not None and mask_queries:
        mask = mask[:, None] if mask.dim() == 1 else mask.transpose(-1, -2)  # (..., seq_q, 1)
    if mask is not None and not mask_after_softmax:
        scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
    weights = torch.softmax(scores, dim=dim)
    if mask is not None and mask_after_softmax:
        weights = weights.masked_fill(~mask, 0.0)  # zeroed, but the rows no longer sum to 1
    return weights


def weight_mistakes(q, k, mask, hidden_size: int | None = None) -> dict[str, torch.Tensor]:
    """The catalogue for attention weights: a typical mistake -> the weights it gives."""
    d = q.shape[-1]
    mistakes = {
        "the scores were not divided by sqrt(d) (the head size)": attention_variant(q, k, mask, 1),
        "the scores were divided by d instead of sqrt(d)": attention_variant(q, k, mask, d),
        "the softmax ran over the wrong axis: each query's row (the last axis, the keys) "
        "must sum to 1": attention_variant(q, k, mask, dim=-2),
    }
    if hidden_size is not None and hidden_size != d:
        mistakes["the scores were divided by sqrt(hidden_size); divide by sqrt(head_size), the "
                 "size of one head's vectors"] = attention_variant(q, k, mask,
                                                                   math.sqrt(hidden_size))
    if mask is not None:
        mistakes["the mask was ignored: padded keys must get weight 0"] = attention_variant(
            q, k, None)
        mistakes["the mask was applied after the softmax: set the padded keys' scores to a very "
                 "negative number before the softmax, so the rest still sums to 1"] = (
            attention_variant(q, k, mask, mask_after_softmax=True))
        mistakes["the mask is inverted: it is True for real tokens, so fill the scores where it "
                 "is False (~mask)"] = attention_variant(q, k, ~mask)
        mistakes["the mask was applied to the queries (the rows); it marks the keys a query may "
                 "see, the columns: mask[None, :]"] = attention_variant(q, k, mask,
                                                                         mask_queries=True)
    return mistakes


def inspect_weights(report: CheckReport, case: Case, weights) -> None:
    """Plain-word checks that hold for any correct attention map: rows sum to 1, padding gets 0.
    The mask is the case's last argument."""
    mask, name = case.args[-1], case.label
    if case.parts:  # (output, weights): look at the weights only
        if not (isinstance(weights, (tuple, list)) and len(weights) == len(case.parts)):
            return
        weights, name = weights[-1], case.parts[-1]
    if not isinstance(weights, torch.Tensor) or weights.dim() < 2 or weights.is_complex():
        return
    weights = weights.detach().to("cpu", torch.float64)
    if torch.isnan(weights).any():
        report.fail(f"{name} contains NaN: is a whole row masked, or the softmax over the "
                    "wrong axis? each query's row (the last axis) must sum to 1")
        return
    if torch.allclose(weights.sum(dim=-1), torch.ones(weights.shape[:-1],
                                                      dtype=torch.float64), atol=1e-5):
        report.ok(f"every row of {name} sums to 1")
    else:
        report.fail(f"the rows of {name} do not sum to 1: the softmax over the last axis "
                    "(the keys) must come after the scaling and the mask")
    if mask is not None and weights.shape[-1] == mask.shape[-1]:
        padded = weights[..., ~mask].abs().max().item()
        if padded < 1e-6:
            report.ok(f"padded keys get weight 0 in {name}")
        else:
            report.fail(f"padded keys get weight up to {padded:.3f} in {name}: the mask must "
                        "set their scores to a very negative number before softmax")


BERT_BASE_HIDDEN = 768  # the hidden size of notebook 03's BERT-base vectors
OTHER_HEAD_SIZE = 16  # a second head size: a scale written into the code shows up there


def fitted_scale(q: torch.Tensor, k: torch.Tensor, weights) -> float | None:
    """The number c for which ``weights`` = softmax(q k^T / c) over the last axis, fitted by
    least squares on the log weights; None when the weights are not of that form at all."""
    if not (isinstance(weights, torch.Tensor) and weights.shape == (q.shape[0], k.shape[0])):
        return None
    weights = weights.detach().to("cpu", torch.float64)
    if not bool((weights > 0).all()) or not bool(torch.isfinite(weights).all()):
        return None
    scores = (q @ k.T).to(torch.float64)  # (seq, seq)
    a = scores - scores.mean(dim=-1, keepdim=True)  # what softmax ignores: each row's shift
    b = weights.log() - weights.log().mean(dim=-1, keepdim=True)  # = a / c when the form fits
    inverse = (a * b).sum() / (a * a).sum()
    if inverse <= 0 or (b - inverse * a).abs().max() > 1e-3 * max(b.abs().max().item(), 1.0):
        return None
    return 1.0 / inverse.item()


def fixed_scale_mistakes(head_sizes: tuple[int, int]) -> dict[str, float]:
    """A scale that is the same at two head sizes, with what it most likely is."""
    small, large = head_sizes
    return {
        f"the scores were divided by sqrt({BERT_BASE_HIDDEN}), the square root of the hidden "
        "size, instead of the square root of the head size: divide by math.sqrt(q.shape[-1])":
            math.sqrt(BERT_BASE_HIDDEN),
        f"a size is fixed in your code: the scale is the same at head sizes {small} and "
        f"{large}; it must be the square root of each (use q.shape[-1], not a size from the "
        "notebook such as d)": None,
    }


def _same_scale(answer, scale) -> bool:
    """A fixed scale (``answer``, None when it is not fixed) is this one (None: any)."""
    return answer is not None and (scale is None or abs(answer - scale) < 1e-3 * scale)


def fixed_scale(report: CheckReport, attention_weights_fn) -> bool:
    """Run the learner's function at head sizes 8 and 16 (no mask): True, with a [fix] point
    naming it, when its scale is one number at both (``math.sqrt(d)`` with the notebook's d)."""
    scales = []
    for size in (HEAD_SIZE, OTHER_HEAD_SIZE):
        q, k, _ = randn(6 + size, 3, SEQ, size)  # (seq, size) each
        outcome = run_learner(attention_weights_fn, *clones(q, k), None)
        scales.append(fitted_scale(q, k, outcome.result) if outcome.error is None else None)
    small, large = scales
    fixed = (small is not None and large is not None and abs(small - large) <= 1e-3 * small
             and abs(small - 1.0) > 1e-3)  # not scaled at all: the cases' catalogue names it
    mistake = name_mistake(small if fixed else None,  # always asked: the teaching page lists it
                           fixed_scale_mistakes((HEAD_SIZE, OTHER_HEAD_SIZE)), same=_same_scale)
    if mistake is None:
        return False
    report.fail(f"{mistake} (your scale: {small:.4g} at both)")
    return True


@exercise(forbids=ATTENTION_HELPERS,
          write_from="the scores `q @ k.T / sqrt(d)`, the mask and a softmax")
def check_attention_weights(attention_weights_fn) -> CheckReport:
    """Run ``attention_weights(q, k, mask)`` without and with a padding mask, at head size 8,
    then with a mask at head size 16: a scale that does not follow the head size is named."""
    report = CheckReport("attention_weights")
    if callable(attention_weights_fn) and fixed_scale(report, attention_weights_fn):
        return report
    q, k, _ = head_inputs()
    cases = [Case(f"the attention map {case}", (q, k, mask), attention_weights(q, k, mask),
                  weight_mistakes(q, k, mask, BERT_BASE_HIDDEN), call=f"attention_weights {case}",
                  sizes=f"head size {HEAD_SIZE}")
             for mask, case in ((None, "without a mask"), (PADDING_MASK, "with 2 padded keys"))]
    q, k, _ = randn(5, 3, SEQ, OTHER_HEAD_SIZE)  # (seq, 16) each
    label = f"the attention map at head size {OTHER_HEAD_SIZE}"
    cases.append(Case(label, (q, k, PADDING_MASK), attention_weights(q, k, PADDING_MASK),
                      weight_mistakes(q, k, PADDING_MASK, BERT_BASE_HIDDEN),
                      call=f"attention_weights at head size {OTHER_HEAD_SIZE}",
                      sizes=f"head size {OTHER_HEAD_SIZE}"))
    check_cases(report, "attention_weights", attention_weights_fn, cases, inspect=inspect_weights)
    return report


@exercise(forbids=ATTENTION_HELPERS,
          write_from="your own `attention_weights` and `weights @ v`")
def check_one_head(one_head) -> CheckReport:
    """Run ``one_head(q, k, v, mask) -> (output, weights)`` with a padding mask."""
    report = CheckReport("one_head")
    q, k, v = head_inputs()
    mask = PADDING_MASK
    weights = attention_weights(q, k, mask)  # (seq, seq)
    wrong_weights = weight_mistakes(q, k, mask)
    output_mistakes = {f"({mistake})": wrong @ v for mistake, wrong in wrong_weights.items()}
    output_mistakes["the keys were averaged instead of the values: output = weights @ v"] = (
        weights @ k)
    output_mistakes["the values were not weighted: output = weights @ v"] = v
    output_mistakes["the weights were transposed (weights.T @ v): each query's row of weights "
                    "averages the values, output = weights @ v"] = weights.T @ v
    case = Case("one_head", (q, k, v, mask), (weights @ v, weights),
                (output_mistakes, wrong_weights), parts=("the output", "the attention map"),
                call="one_head")
    check_cases(report, "one_head", one_head, [case], inspect=inspect_weights)
    return report


# ---- notebook 04: many heads ------------------------------------------------------------------

def hidden_inputs(config: BertConfig = SMALL) -> torch.Tensor:
    """Vectors (batch 2, seq 5, hidden) at SMALL, (batch 3, seq 4, hidden) at another size."""
    batch, seq = (2, 5) if config is SMALL else (3, 4)
    return randn(7, batch, seq, config.hidden_size)  # (batch, seq, hidden)


def split_mistakes(x: torch.Tensor, heads: int) -> dict[str, torch.Tensor]:
    batch, seq, hidden = x.shape
    size = hidden // heads
    return {
        "the heads axis is not before the sequence axis: (batch, seq, heads, head_size) needs "
        ".transpose(1, 2) to become (batch, heads, seq, head_size)":
            x.view(batch, seq, heads, size),
        "the heads were cut straight out of the memory: view as (batch, seq, heads, head_size) "
        "first, then transpose(1, 2)": x.reshape(batch, heads, seq, size),
        "each head must take a contiguous block of head_size features (head h: features "
        "h*head_size to (h+1)*head_size), not every heads-th feature":
            x.view(batch, seq, size, heads).permute(0, 3, 1, 2),
    }


@exercise(forbids=("course_lib.split_heads",),
          write_from="`view` (or `reshape`) and `transpose`")
def check_split_heads(split_heads_fn) -> CheckReport:
    """Run ``split_heads(x, num_heads)``: (batch, seq, hidden) -> (batch, heads, seq, head_size)."""
    report = CheckReport("split_heads")
    cases = []
    for config in (SMALL, OTHER):
        x, heads = hidden_inputs(config), config.num_heads
        label = "the split result" + ("" if config is SMALL else f" at {sizes_of(config)}")
        cases.append(Case(label, (x, heads), split_heads(x, heads), split_mistakes(x, heads),
                          call=f"split_heads at {sizes_of(config)}", sizes=sizes_of(config)))
    check_cases(report, "split_heads", split_heads_fn, cases)
    return report


def merge_mistakes(x: torch.Tensor) -> dict[str, torch.Tensor]:
    batch, heads, seq, size = x.shape
    return {
        "the heads were merged in the wrong order: transpose(1, 2) back to (batch, seq, heads, "
        "head_size) before reshaping to (batch, seq, hidden)": x.reshape(batch, seq, heads * size),
        "the heads were interleaved feature by feature; put them side by side, head 1's "
        "head_size features first": x.permute(0, 2, 3, 1).reshape(batch, seq, heads * size),
        "the heads were moved back but not joined: reshape (batch, seq, heads, head_size) to "
        "(batch, seq, hidden)": x.transpose(1, 2),
    }


@exercise(forbids=("course_lib.merge_heads",),
          write_from="`transpose` and `reshape`")
def check_merge_heads(merge_heads_fn) -> CheckReport:
    """Run ``merge_heads(x)``: (batch, heads, seq, head_size) -> (batch, seq, hidden), on the
    contiguous output of ``weights @ v`` (what multi-head attention gives it) and on the
    non-contiguous output of ``split_heads``."""
    report = CheckReport("merge_heads")
    from_attention = split_heads(hidden_inputs(SMALL), SMALL.num_heads).contiguous()
    from_split = split_heads(hidden_inputs(OTHER), OTHER.num_heads)  # a transposed view
    cases = [Case("the merged result", (x,), merge_heads(x), merge_mistakes(x), call=call,
                  sizes=sizes_of(config))
             for x, config, call in (
                 (from_attention, SMALL, "merge_heads on the output of weights @ v "
                                         "(contiguous, as in multi-head attention)"),
                 (from_split, OTHER, f"merge_heads on the output of split_heads at "
                                     f"{sizes_of(OTHER)}"))]
    check_cases(report, "merge_heads", merge_heads_fn, cases)
    return report


def small_attention(config: BertConfig = SMALL) -> MultiHeadSelfAttention:
    """A seeded attention layer in eval mode (no dropout): 4 heads, 16 wide at SMALL."""
    return seeded_module(MultiHeadSelfAttention, config, seed=8)


def batch_padding_mask(config: BertConfig = SMALL) -> torch.Tensor:
    """(batch, seq) bool, True for real tokens: the last input ends with padding tokens."""
    if config is SMALL:
        return keep_mask([5, 3], 5)
    return keep_mask([4, 2, 3], 4)


def multi_head_variant(x, attention, mask, scale=None, projection=True, wrong_merge=False,
                       mask_after_softmax=False, dim=-1) -> torch.Tensor:
    """What multi-head attention gives with one typical mistake: used to recognise it."""
    heads = attention.num_heads
    q = split_heads(attention.query(x), heads)  # (batch, heads, seq, head_size)
    k = split_heads(attention.key(x), heads)  # (batch, heads, seq, head_size)
    v = split_heads(attention.value(x), heads)  # (batch, heads, seq, head_size)
    keys = None if mask is None else mask[:, None, None, :]  # (batch, 1, 1, seq)
    weights = attention_variant(q, k, keys, scale, dim, mask_after_softmax=mask_after_softmax)
    context = weights @ v  # (batch, heads, seq, head_size)
    batch, _, seq, size = context.shape
    if wrong_merge:
        merged = context.reshape(batch, seq, heads * size)  # no transpose: wrong order
    else:
        merged = merge_heads(context)  # (batch, seq, hidden)
    return attention.output(merged) if projection else merged


def multi_head_mistakes(x, attention, mask) -> dict[str, torch.Tensor]:
    hidden = x.shape[-1]
    return {
        "the output projection (attention.output) was left out":
            multi_head_variant(x, attention, mask, projection=False),
        "the scores were not divided by sqrt(head_size)":
            multi_head_variant(x, attention, mask, scale=1.0),
        "the scores were divided by sqrt(hidden_size); divide by sqrt(head_size), the size of "
        "one head's vectors": multi_head_variant(x, attention, mask, scale=math.sqrt(hidden)),
        "the mask was ignored: padded keys must get weight 0":
            multi_head_variant(x, attention, None),
        "the mask was applied after the softmax: mask the scores before the softmax":
            multi_head_variant(x, attention, mask, mask_after_softmax=True),
        "the heads were merged in the wrong order (transpose back before reshaping)":
            multi_head_variant(x, attention, mask, wrong_merge=True),
        "the softmax ran over the wrong axis: each query's row (the last axis, the keys) must "
        "sum to 1": multi_head_variant(x, attention, mask, dim=-2),
    }


def _multi_head_case(config: BertConfig) -> Case:
    attention = small_attention(config)
    x, mask = hidden_inputs(config), batch_padding_mask(config)
    with torch.no_grad():
        expected, _ = attention(x, mask[:, None, None, :], output_attentions=True)
        mistakes = multi_head_mistakes(x, attention, mask)
    label = "the attention output" + ("" if config is SMALL else f" at {sizes_of(config)}")
    return Case(label, (x, attention, mask), expected, mistakes,
                call=f"multi_head_attention at {sizes_of(config)}", sizes=sizes_of(config))


@exercise(forbids=("course_lib.MultiHeadSelfAttention", "course_lib.split_heads",
                   "course_lib.merge_heads", *ATTENTION_HELPERS),
          write_from="your own `split_heads`, attention and `merge_heads`")
def check_multi_head_attention(multi_head_attention) -> CheckReport:
    """Run ``multi_head_attention(x, attention, mask)`` against MultiHeadSelfAttention."""
    report = CheckReport("multi_head_attention")
    cases = [_multi_head_case(SMALL), _multi_head_case(OTHER)]
    if calls_given_module(report, "multi_head_attention", multi_head_attention, cases[0].args,
                          cases[0].args[1], "attention(x, ...)",
                          "attention.query, attention.key and attention.value, your "
                          "split_heads, attention weights and merge_heads, then attention.output"):
        return report
    check_cases(report, "multi_head_attention", multi_head_attention, cases)
    return report
