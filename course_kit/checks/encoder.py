"""Checkers for notebook 06 (the full encoder): the parameter count, max pooling with a padding
mask, the share of FLOPs spent in attention, and the growth exponent of a cost curve."""

from __future__ import annotations

import math

import torch

from course_lib.config import BertConfig
from course_lib.model import BertModel

from .cases import Case, Unreadable, check_cases, read_number
from .compare import as_int, numbers_match
from .fixtures import keep_mask, randn
from .report import CheckReport, recorded
from .rules import exercise

# Configurations the parameter count is tried on: the two real sizes and two odd ones, so that a
# formula that only works for 768 (or hard-codes 12 layers) is caught.
COUNT_CONFIGS = {
    "BERT-base": BertConfig.base(),
    "the MiniLM size (6 layers, 384 wide)": BertConfig(
        hidden_size=384, num_layers=6, num_heads=12, intermediate_size=1536
    ),
    "the tiny config": BertConfig.tiny(),
    "an odd config (3 segments, FFN not 4x)": BertConfig(
        vocab_size=1000, hidden_size=48, num_layers=3, num_heads=4, intermediate_size=100,
        max_position_embeddings=64, type_vocab_size=3,
    ),
}


def true_parameter_count(config: BertConfig) -> int:
    """Parameters of ``BertModel(config)`` (no pooler), counted on the real module.

    Built on PyTorch's "meta" device: the tensors have shapes but no memory, so this is instant
    even for BERT-base.
    """
    with torch.device("meta"):
        model = BertModel(config)
    return sum(p.numel() for p in model.parameters())


def parameter_count_mistakes(config: BertConfig) -> dict[str, int]:
    """What the usual wrong formulas give, so the checker can name the mistake."""
    h, i, n = config.hidden_size, config.intermediate_size, config.num_layers
    right = true_parameter_count(config)
    embeddings = (config.vocab_size + config.max_position_embeddings + config.type_vocab_size) * h
    one_layer = 4 * (h * h + h) + (h * i + i) + (i * h + h) + 4 * h
    biases = n * (4 * h + i + h)  # every Linear bias inside the layers
    layer_norms = 2 * h + n * 4 * h  # scale and shift: once after the embeddings, twice a layer
    return {
        "the biases of the Linear layers were left out": right - biases,
        "the LayerNorm scales and shifts were left out": right - layer_norms,
        "each LayerNorm was counted with one vector, but it has two (scale and shift)":
            right - layer_norms // 2,
        "the position and segment embeddings were left out":
            right - (config.max_position_embeddings + config.type_vocab_size) * h,
        "the LayerNorm after the embeddings was left out": right - 2 * h,
        "the pooler (h*h + h) was counted, but this model has none": right + h * h + h,
        "only one layer was counted": embeddings + 2 * h + one_layer,
        "the attention output projection was left out (only Q, K, V)": right - n * (h * h + h),
        "the feed-forward width was taken as hidden_size instead of intermediate_size":
            right - n * 2 * (h * i - h * h) - n * (i - h),
    }


def _read_count(answer) -> int:
    number = as_int(answer)
    if number is None:
        raise Unreadable(f"return a whole number (int), got {answer!r}")
    return number


def _explain_count(case: Case, number: int) -> str:
    return (f"off by {number - case.expected:+,}; count embeddings, then per layer Q, K, V, "
            "output, feed-forward and 2 LayerNorms")


@exercise(forbids=("course_lib.count_bert_parameters",),
          write_from="the sizes in `config`")
def check_parameter_count(count_parameters) -> CheckReport:
    """``count_parameters(config) -> int``: the parameters of a BERT encoder without the pooler."""
    report = CheckReport("parameter count of a BERT encoder (no pooler)")
    cases = [Case(name, (config,), true_parameter_count(config),
                  parameter_count_mistakes(config), call=f"count_parameters({name})", sizes=name)
             for name, config in COUNT_CONFIGS.items()]
    check_cases(report, "count_parameters", count_parameters, cases, read=_read_count,
                show=lambda number: f"{number:,} parameters", explain=_explain_count)
    return report


def _pooling_inputs() -> tuple[torch.Tensor, torch.Tensor]:
    """A padded batch whose padding holds huge values (so including it shows), and one sentence
    whose real values are all negative (so padding filled with 0 would win the max)."""
    vectors = randn(6, 3, 7, 5)  # (batch, seq, hidden)
    mask = keep_mask([7, 4, 2], 7).long()  # (batch, seq)
    vectors[mask == 0] = 50.0  # padding that is never the right answer
    vectors[2, :2] = -vectors[2, :2].abs() - 1.0  # the third sentence: only negative values
    return vectors, mask


def max_pooling_mistakes(vectors, mask) -> dict[str, torch.Tensor]:
    keep = mask.bool().unsqueeze(-1)  # (batch, seq, 1)
    masked = vectors.masked_fill(~keep, float("-inf"))  # (batch, seq, hidden)
    over_features = ("the max was taken over the hidden features (dim=-1), giving (batch, seq); "
                     "take it over the tokens (dim=1)")
    return {
        "padding was included (the max of every position, 50.0 comes from padding)":
            vectors.max(dim=1).values,
        "padding was set to 0 before the max; a sentence whose values are all negative then "
        "gets 0 from its padding (fill padding with -inf instead)":
            (vectors * keep).max(dim=1).values,
        "it returned the positions of the maxima (indices), not the values":
            masked.max(dim=1).indices,
        over_features: masked.max(dim=-1).values,
        over_features + ", leaving padding out": vectors.max(dim=-1).values,
    }


def _read_pooled(answer):
    if isinstance(answer, tuple) and len(answer) == 2:
        raise Unreadable("it returned a pair (values, indices): torch.max(dim=...) gives both; "
                         "keep .values")
    return answer


@exercise(forbids=("course_lib.global_max_pooling",),
          write_from="the mask and `max`")
def check_masked_max_pooling(masked_max_pooling) -> CheckReport:
    """``masked_max_pooling(sequence, mask)``: (batch, seq, hidden) and (batch, seq) ->
    (batch, hidden), the largest value of each feature over the real tokens only."""
    report = CheckReport("global max pooling that leaves padding out")
    vectors, mask = _pooling_inputs()
    keep = mask.bool().unsqueeze(-1)  # (batch, seq, 1)
    expected = vectors.masked_fill(~keep, float("-inf")).max(dim=1).values  # (batch, hidden)
    case = Case("pooled vectors", (vectors, mask), expected, max_pooling_mistakes(vectors, mask),
                call="masked_max_pooling(sequence, mask)")
    check_cases(report, "masked_max_pooling", masked_max_pooling, [case], read=_read_pooled)
    return report


def reference_attention_flop_share(seq_len: int, config: BertConfig) -> float:
    """Fraction of one layer's FLOPs spent in attention itself (Q K^T and weights @ V).

    Dense part: Q, K, V and output projections 4 * 2*n*h*h, feed-forward 2 * 2*n*h*i.
    Attention part: Q K^T 2*n*n*h and weights @ V 2*n*n*h (all heads together).
    The share simplifies to n / (n + 2h + i): one half at n = 2h + i (4,608 for BERT-base).
    """
    n, h, i = seq_len, config.hidden_size, config.intermediate_size
    return n / (n + 2 * h + i)


def _flop_share_mistakes(seq_len: int, config: BertConfig) -> dict[str, float]:
    n, h, i, d = seq_len, config.hidden_size, config.intermediate_size, config.head_size
    right = reference_attention_flop_share(seq_len, config)
    mistakes = {
        "the output projection (a fourth h x h Linear) was left out of the dense part":
            2 * n / (2 * n + 3 * h + 2 * i),
        "the feed-forward network was left out of the dense part": n / (n + 2 * h),
        "only Q K^T was counted; the weighted sum of the values (weights @ V) costs as much":
            n / (n + 4 * h + 2 * i),
        "one head was counted (head_size) instead of all heads together (hidden_size)":
            n * d / (n * d + 2 * h * h + h * i),
        "it returned the ratio attention / dense, not attention / (attention + dense)":
            n / (2 * h + i),
        "it returned a percentage; return a fraction between 0 and 1": 100 * right,
    }
    return {why: wrong for why, wrong in mistakes.items() if not math.isclose(wrong, right)}


FLOP_SHARE_CASES = [(BertConfig.base(), n) for n in (3, 128, 512, 4608)] + [
    (BertConfig.tiny(), 10),
    (BertConfig(hidden_size=384, num_layers=6, num_heads=12, intermediate_size=1536), 256),
]


@recorded
def check_attention_flop_share(attention_flop_share) -> CheckReport:
    """``attention_flop_share(seq_len, config) -> float``: the fraction of one encoder layer's
    FLOPs spent in attention itself (scores and weighted sum), the rest being the Linear layers."""
    report = CheckReport("share of a layer's FLOPs spent in attention")
    cases = [Case(f"n={n}, hidden={config.hidden_size}, intermediate={config.intermediate_size}",
                  (n, config), reference_attention_flop_share(n, config),
                  _flop_share_mistakes(n, config), call=f"attention_flop_share({n}, config)")
             for config, n in FLOP_SHARE_CASES]
    check_cases(report, "attention_flop_share", attention_flop_share, cases, read=read_number,
                same=numbers_match(rel_tol=1e-6), show=lambda share: f"{share:.4g}")
    return report


# (what the curve is, lengths, values): exact power laws and a mixed curve measured-like.
_LENGTHS = [3, 16, 32, 64, 128, 256, 384, 512]
GROWTH_CASES = [
    ("values = 4 * n^2 (attention maps)", _LENGTHS, [4.0 * n**2 for n in _LENGTHS]),
    ("values = 0.5 * n (one vector per token)", _LENGTHS, [0.5 * n for n in _LENGTHS]),
    ("values = 20 + 3 n + 0.01 n^2 (a real cost curve: not a pure power)", _LENGTHS,
     [20 + 3 * n + 0.01 * n**2 for n in _LENGTHS]),
    ("values = 7 * n^1.5 at 4 lengths", [10, 40, 90, 1000],
     [7 * n**1.5 for n in [10, 40, 90, 1000]]),
]


def reference_growth_exponent(lengths, values) -> float:
    """Least-squares slope of log(values) against log(lengths): cost ~ length ** slope."""
    xs = [math.log(n) for n in lengths]
    ys = [math.log(v) for v in values]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    covariance = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    variance = sum((x - mean_x) ** 2 for x in xs)
    return covariance / variance


def _growth_mistakes(lengths, values) -> dict[str, float]:
    """Slopes that the usual wrong fits give."""
    slope = reference_growth_exponent(lengths, values)
    n = len(lengths)
    mean_x, mean_y = sum(lengths) / n, sum(values) / n
    linear_slope = sum((x - mean_x) * (y - mean_y)
                       for x, y in zip(lengths, values, strict=True)) / sum(
        (x - mean_x) ** 2 for x in lengths)
    log_mean_x = sum(math.log(x) for x in lengths) / n
    intercept = sum(math.log(v) for v in values) / n - slope * log_mean_x
    endpoints = math.log(values[-1] / values[0]) / math.log(lengths[-1] / lengths[0])
    mistakes = {
        "the fit was made on linear axes (values against lengths); take the log of both first":
            linear_slope,
        "the axes are swapped (log length fitted against log value); fit log(value) as a "
        "function of log(length)": 1.0 / slope if slope else math.inf,
        "it returned the intercept of the fit, not its slope": intercept,
        "only the first and last points were used; fit all the points (least squares)": endpoints,
    }
    return {why: wrong for why, wrong in mistakes.items() if abs(wrong - slope) > 1e-3}


@recorded
def check_growth_exponent(growth_exponent) -> CheckReport:
    """``growth_exponent(lengths, values) -> float``: the slope of the straight line through the
    points on log-log axes, i.e. k in value ~ c * length ** k."""
    report = CheckReport("growth exponent from a log-log fit")
    cases = [Case(name, (list(lengths), list(values)), reference_growth_exponent(lengths, values),
                  _growth_mistakes(lengths, values), call=f"growth_exponent on {name}")
             for name, lengths, values in GROWTH_CASES]
    check_cases(report, "growth_exponent", growth_exponent, cases, read=read_number,
                same=numbers_match(rel_tol=1e-4, abs_tol=1e-4), show=lambda k: f"{k:.4g}")
    return report


__all__ = [
    "check_attention_flop_share",
    "check_growth_exponent",
    "check_masked_max_pooling",
    "check_parameter_count",
    "parameter_count_mistakes",
    "reference_attention_flop_share",
    "reference_growth_exponent",
    "true_parameter_count",
]
