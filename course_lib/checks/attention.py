"""Checkers for notebooks 03 and 04: one head of attention, then splitting, merging, many heads."""

from __future__ import annotations

import math

import torch

from ..attention import MultiHeadSelfAttention, attention_weights, merge_heads, split_heads
from ..config import BertConfig
from ._learner import call_learner, clones, seeded
from .core import CheckReport, compare_tensors

SEQ, HEAD_SIZE = 6, 8
PADDING_MASK = torch.tensor([True, True, True, True, False, False])  # (seq,): last 2 are [PAD]
SMALL = BertConfig(vocab_size=50, hidden_size=16, num_layers=1, num_heads=4, intermediate_size=32)


def head_inputs() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Queries, keys and values of one head, (6, 8) each, seeded."""
    with seeded(6):
        q, k, v = (torch.randn(SEQ, HEAD_SIZE) for _ in range(3))  # (seq, head_size) each
    return q, k, v


def _scores_softmax(q, k, mask, scale: float, dim: int = -1) -> torch.Tensor:
    """The weights a variant of attention would give: used to recognise typical mistakes."""
    scores = q @ k.transpose(-1, -2) / scale  # (seq_q, seq_k)
    if mask is not None:
        scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
    return torch.softmax(scores, dim=dim)


def _weight_hints(q, k, mask) -> dict[str, torch.Tensor]:
    d = q.shape[-1]
    hints = {
        "the scores were not divided by sqrt(d) (the head size)":
            _scores_softmax(q, k, mask, 1.0),
        "the scores were divided by d instead of sqrt(d)": _scores_softmax(q, k, mask, d),
        "the softmax ran over the wrong axis: each query's row (the last axis, the keys) "
        "must sum to 1": _scores_softmax(q, k, mask, math.sqrt(d), dim=-2),
    }
    if mask is not None:
        hints["the mask was ignored: padded keys must get weight 0"] = _scores_softmax(
            q, k, None, math.sqrt(d))
    return hints


def _weight_properties(report: CheckReport, name: str, weights, mask) -> None:
    """Plain-word checks that hold for any correct attention map: rows sum to 1, padding gets 0."""
    if not isinstance(weights, torch.Tensor) or weights.dim() < 2:
        return
    weights = weights.detach().float()
    if torch.isnan(weights).any():
        report.fail(f"{name} contains NaN: is a whole row masked, or the softmax over the wrong "
                    "axis? each query's row (the last axis) must sum to 1")
        return
    if torch.allclose(weights.sum(dim=-1), torch.ones(weights.shape[:-1]), atol=1e-5):
        report.ok(f"every row of {name} sums to 1")
    else:
        report.fail(f"the rows of {name} do not sum to 1: take the softmax over the last axis "
                    "(the keys)")
    if mask is not None and weights.shape[-1] == mask.shape[-1]:
        padded = weights[..., ~mask]
        if padded.abs().max().item() < 1e-6:
            report.ok(f"padded keys get weight 0 in {name}")
        else:
            report.fail(f"padded keys get weight up to {padded.abs().max().item():.3f} in {name}: "
                        "the mask must set their scores to a very negative number before softmax")


def check_attention_weights(attention_weights_fn) -> CheckReport:
    """Run ``attention_weights(q, k, mask)`` without and with a padding mask."""
    report = CheckReport("attention_weights")
    q, k, _ = head_inputs()
    for mask, case in ((None, "without a mask"), (PADDING_MASK, "with 2 padded keys")):
        finished, answer = call_learner(report, f"attention_weights {case}", attention_weights_fn,
                                        *clones(q, k, mask))
        if not finished:
            return report
        name = f"the attention map {case}"
        _weight_properties(report, name, answer, mask)
        expected = attention_weights(q, k, mask)  # (seq, seq)
        compare_tensors(report, name, answer, expected, hints=_weight_hints(q, k, mask))
    return report


def check_one_head(one_head) -> CheckReport:
    """Run ``one_head(q, k, v, mask) -> (output, weights)`` with a padding mask."""
    report = CheckReport("one_head")
    q, k, v = head_inputs()
    mask = PADDING_MASK
    finished, answer = call_learner(report, "one_head", one_head, *clones(q, k, v, mask))
    if not finished:
        return report
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        report.fail("one_head should return two tensors: (output, weights)")
        return report
    output, weights = answer
    expected_weights = attention_weights(q, k, mask)  # (seq, seq)
    _weight_properties(report, "the attention map", weights, mask)
    compare_tensors(report, "the attention map", weights, expected_weights,
                    hints=_weight_hints(q, k, mask))
    hints = {f"({mistake})": wrong @ v for mistake, wrong in _weight_hints(q, k, mask).items()}
    hints["the keys were averaged instead of the values: output = weights @ v"] = (
        expected_weights @ k)
    hints["the values were not weighted: output = weights @ v"] = v
    compare_tensors(report, "the output", output, expected_weights @ v, hints=hints)
    return report


# ---- notebook 04: many heads ------------------------------------------------------------------

def hidden_inputs() -> torch.Tensor:
    """Vectors (batch 2, seq 5, hidden 16), seeded."""
    with seeded(7):
        return torch.randn(2, 5, SMALL.hidden_size)  # (batch, seq, hidden)


def check_split_heads(split_heads_fn) -> CheckReport:
    """Run ``split_heads(x, num_heads)``: (batch, seq, hidden) -> (batch, heads, seq, head_size)."""
    report = CheckReport("split_heads")
    x = hidden_inputs()
    heads = SMALL.num_heads
    finished, answer = call_learner(report, "split_heads", split_heads_fn, x.clone(), heads)
    if not finished:
        return report
    batch, seq, hidden = x.shape
    size = hidden // heads
    if isinstance(answer, torch.Tensor) and tuple(answer.shape) == (batch, seq, heads, size):
        report.fail(f"shape {(batch, seq, heads, size)} is (batch, seq, heads, head_size): "
                    ".transpose(1, 2) brings the heads axis before the sequence axis")
        return report
    hints = {
        "the heads were cut straight out of the memory: view as (batch, seq, heads, head_size) "
        "first, then transpose(1, 2)": x.reshape(batch, heads, seq, size),
        "each head must take a contiguous block of head_size features (head h: features "
        "h*head_size to (h+1)*head_size), not every heads-th feature":
            x.view(batch, seq, size, heads).permute(0, 3, 1, 2),
    }
    compare_tensors(report, "the split result", answer, split_heads(x, heads), hints=hints)
    return report


def check_merge_heads(merge_heads_fn) -> CheckReport:
    """Run ``merge_heads(x)``: (batch, heads, seq, head_size) -> (batch, seq, hidden)."""
    report = CheckReport("merge_heads")
    x = split_heads(hidden_inputs(), SMALL.num_heads)  # (batch, heads, seq, head_size)
    finished, answer = call_learner(report, "merge_heads", merge_heads_fn, x.clone())
    if not finished:
        return report
    batch, heads, seq, size = x.shape
    hints = {
        "the heads were merged in the wrong order: transpose(1, 2) back to (batch, seq, heads, "
        "head_size) before reshaping to (batch, seq, hidden)": x.reshape(batch, seq, heads * size),
        "the heads were interleaved feature by feature; put them side by side, head 0's "
        "head_size features first": x.permute(0, 2, 3, 1).reshape(batch, seq, heads * size),
    }
    compare_tensors(report, "the merged result", answer, merge_heads(x), hints=hints)
    return report


def small_attention() -> MultiHeadSelfAttention:
    """A seeded 4-head, 16-wide attention layer in eval mode (no dropout)."""
    with seeded(8):
        return MultiHeadSelfAttention(SMALL).eval()


def batch_padding_mask() -> torch.Tensor:
    """(batch 2, seq 5) bool, True for real tokens: the second input ends with 2 padding tokens."""
    return torch.tensor([[True] * 5, [True, True, True, False, False]])


def _multi_head_variant(x, attention, mask, scale=True, projection=True, wrong_merge=False):
    """What multi-head attention gives with one typical mistake: used to recognise it."""
    heads = attention.num_heads
    q = split_heads(attention.query(x), heads)  # (batch, heads, seq, head_size)
    k = split_heads(attention.key(x), heads)  # (batch, heads, seq, head_size)
    v = split_heads(attention.value(x), heads)  # (batch, heads, seq, head_size)
    scores = q @ k.transpose(-1, -2)  # (batch, heads, seq, seq)
    if scale:
        scores = scores / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask[:, None, None, :], torch.finfo(scores.dtype).min)
    context = torch.softmax(scores, dim=-1) @ v  # (batch, heads, seq, head_size)
    batch, _, seq, size = context.shape
    if wrong_merge:
        merged = context.reshape(batch, seq, heads * size)  # no transpose: wrong order
    else:
        merged = merge_heads(context)  # (batch, seq, hidden)
    return attention.output(merged) if projection else merged


def check_multi_head_attention(multi_head_attention) -> CheckReport:
    """Run ``multi_head_attention(x, attention, mask)`` against MultiHeadSelfAttention."""
    report = CheckReport("multi_head_attention")
    attention = small_attention()
    x, mask = hidden_inputs(), batch_padding_mask()
    finished, answer = call_learner(report, "multi_head_attention", multi_head_attention,
                                    x.clone(), attention, mask.clone())
    if not finished:
        return report
    with torch.no_grad():
        expected, _ = attention(x, mask[:, None, None, :], output_attentions=True)
        hints = {
            "the output projection (attention.output) was left out":
                _multi_head_variant(x, attention, mask, projection=False),
            "the scores were not divided by sqrt(head_size)":
                _multi_head_variant(x, attention, mask, scale=False),
            "the mask was ignored: padded keys must get weight 0":
                _multi_head_variant(x, attention, None),
            "the heads were merged in the wrong order (transpose back before reshaping)":
                _multi_head_variant(x, attention, mask, wrong_merge=True),
        }
    compare_tensors(report, "the attention output", answer, expected, hints=hints)
    return report
