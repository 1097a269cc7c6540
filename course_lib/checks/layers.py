"""Checkers for notebook 05 (the encoder layer): GELU, the feed-forward network, post-LN order."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..config import BertConfig
from ..layers import EncoderLayer, FeedForward, gelu
from ._learner import call_learner, seeded
from .core import CheckReport, compare_tensors

SMALL = BertConfig(vocab_size=50, hidden_size=16, num_layers=1, num_heads=4, intermediate_size=32)


def check_gelu(gelu_fn) -> CheckReport:
    """Run ``gelu(x)`` on -6..6 against the exact erf formula."""
    report = CheckReport("gelu")
    x = torch.linspace(-6.0, 6.0, 241, dtype=torch.float64)  # (241,): every 0.05
    finished, answer = call_learner(report, "gelu", gelu_fn, x.clone())
    if not finished:
        return report
    hints = {
        "it is the tanh approximation; BERT uses the exact formula "
        "0.5 * x * (1 + erf(x / sqrt(2)))": F.gelu(x, approximate="tanh"),
        "it is ReLU; GELU is x times the normal CDF of x": F.relu(x),
        "it is x * sigmoid(1.702 x), an approximation; use erf": x * torch.sigmoid(1.702 * x),
        "the factor 0.5 is missing": x * (1.0 + torch.erf(x / math.sqrt(2.0))),
        "the division by sqrt(2) inside erf is missing": 0.5 * x * (1.0 + torch.erf(x)),
        "it is the normal CDF alone; multiply by x": 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0))),
    }
    compare_tensors(report, "gelu(x)", answer, gelu(x), atol=1e-6, hints=hints)
    return report


def small_layer_inputs() -> tuple[torch.Tensor, torch.Tensor]:
    """Vectors (batch 2, seq 5, hidden 16) and a (batch, 1, 1, seq) mask with 2 padded keys."""
    with seeded(9):
        x = torch.randn(2, 5, SMALL.hidden_size)  # (batch, seq, hidden)
    keep = torch.tensor([[True] * 5, [True, True, True, False, False]])  # (batch, seq)
    return x, keep[:, None, None, :]  # mask: (batch, 1, 1, seq)


def small_feed_forward() -> FeedForward:
    with seeded(10):
        return FeedForward(SMALL).eval()


def check_feed_forward(feed_forward) -> CheckReport:
    """Run ``feed_forward(x, ff)`` (ff: a course_lib FeedForward) against ff(x)."""
    report = CheckReport("feed_forward")
    ff = small_feed_forward()
    x, _ = small_layer_inputs()
    finished, answer = call_learner(report, "feed_forward", feed_forward, x.clone(), ff)
    if not finished:
        return report
    with torch.no_grad():
        wide = ff.intermediate(x)  # (batch, seq, intermediate)
        hints = {
            "it used ReLU; BERT's activation is GELU": ff.output(F.relu(wide)),
            "there is no activation between the two linear layers, so together they are just "
            "one linear map": ff.output(wide),
            "it used the tanh approximation of GELU; BERT uses the exact erf formula":
                ff.output(F.gelu(wide, approximate="tanh")),
            "the residual was added here; the feed-forward network alone has none":
                x + ff(x),
        }
        expected = ff(x)  # (batch, seq, hidden)
    compare_tensors(report, "the feed-forward output", answer, expected, hints=hints)
    return report


def small_encoder_layer() -> EncoderLayer:
    """A seeded 4-head, 16-wide layer; LayerNorm scales and shifts made non-trivial; eval mode."""
    with seeded(11):
        layer = EncoderLayer(SMALL)
        with torch.no_grad():
            for norm in (layer.attention_norm, layer.output_norm):
                norm.weight.normal_(1.0, 0.3)
                norm.bias.normal_(0.0, 0.3)
    return layer.eval()


def _layer_variant(x, layer: EncoderLayer, mask, mistake: str) -> torch.Tensor:
    """An encoder layer with one typical mistake in the order of its parts."""

    def attend(h: torch.Tensor) -> torch.Tensor:
        return layer.attention(h, mask)[0]  # (batch, seq, hidden)

    ff, norm1, norm2 = layer.feed_forward, layer.attention_norm, layer.output_norm
    if mistake == "pre-LN":
        h = x + attend(norm1(x))
        return h + ff(norm2(h))
    if mistake == "no residuals":
        h = norm1(attend(x))
        return norm2(ff(h))
    if mistake == "no second residual":
        h = norm1(x + attend(x))
        return norm2(ff(h))
    if mistake == "norms swapped":
        h = norm2(x + attend(x))
        return norm1(h + ff(h))
    if mistake == "residual from the input":
        h = norm1(x + attend(x))
        return norm2(x + ff(h))
    raise ValueError(mistake)


LAYER_MISTAKES = {
    "pre-LN": "it is the pre-LN order (LayerNorm before each sublayer, as in GPT-2); BERT is "
              "post-LN: x = LayerNorm(x + sublayer(x))",
    "no residuals": "the residual connections are missing: add the sublayer's input to its "
                    "output before each LayerNorm",
    "no second residual": "the second residual is missing: LayerNorm(h + feed_forward(h))",
    "norms swapped": "the two LayerNorms are swapped: attention_norm follows the attention, "
                     "output_norm follows the feed-forward network",
    "residual from the input": "the second residual adds the layer's input x; it should add h, "
                               "the feed-forward network's input",
}


def check_encoder_layer(encoder_layer) -> CheckReport:
    """Run ``encoder_layer(x, layer, mask)`` (layer: a course_lib EncoderLayer) against it."""
    report = CheckReport("encoder_layer")
    layer = small_encoder_layer()
    x, mask = small_layer_inputs()
    finished, answer = call_learner(report, "encoder_layer", encoder_layer, x.clone(), layer,
                                    mask.clone())
    if not finished:
        return report
    with torch.no_grad():
        expected, _ = layer(x, mask)  # (batch, seq, hidden)
        hints = {text: _layer_variant(x, layer, mask, key) for key, text in LAYER_MISTAKES.items()}
        hints["the mask was ignored in the attention"] = layer(x, None)[0]
    compare_tensors(report, "the layer output", answer, expected, hints=hints)
    return report
