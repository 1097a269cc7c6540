"""Checkers for notebook 05 (the encoder layer): GELU, the feed-forward network, post-LN order.

The module exercises run at two sizes (``fixtures.SMALL`` then ``fixtures.OTHER``), so that sizes
written into the code are caught.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from course_lib.config import BertConfig
from course_lib.layers import EncoderLayer, FeedForward, gelu

from .cases import Case, check_cases
from .fixtures import OTHER, SMALL, keep_mask, randn, seeded_module, sizes_of
from .given_module import calls_given_module
from .report import CheckReport, recorded
from .rules import exercise


def gelu_mistakes(x: torch.Tensor) -> dict[str, torch.Tensor]:
    return {
        "it is the tanh approximation; BERT uses the exact formula "
        "0.5 * x * (1 + erf(x / sqrt(2)))": F.gelu(x, approximate="tanh"),
        "it is ReLU; GELU is x times the normal CDF of x": F.relu(x),
        "it is x * sigmoid(1.702 x), an approximation; use erf": x * torch.sigmoid(1.702 * x),
        "the factor 0.5 is missing": x * (1.0 + torch.erf(x / math.sqrt(2.0))),
        "the division by sqrt(2) inside erf is missing": 0.5 * x * (1.0 + torch.erf(x)),
        "erf(x / 2) instead of erf(x / sqrt(2))": 0.5 * x * (1.0 + torch.erf(x / 2.0)),
        "it is the normal CDF alone; multiply by x": 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0))),
    }


@exercise(forbids=("torch.nn.functional.gelu", "torch.nn.GELU", "course_lib.gelu"),
          write_from="`torch.erf`: 0.5 * x * (1 + erf(x / sqrt(2)))")
def check_gelu(gelu_fn) -> CheckReport:
    """Run ``gelu(x)`` on -6..6 against the exact erf formula."""
    report = CheckReport("gelu")
    x = torch.linspace(-6.0, 6.0, 241, dtype=torch.float64)  # (241,): every 0.05
    check_cases(report, "gelu", gelu_fn, [Case("gelu(x)", (x,), gelu(x), gelu_mistakes(x),
                                                call="gelu")], atol=1e-6)
    return report


def small_layer_inputs(config: BertConfig = SMALL) -> tuple[torch.Tensor, torch.Tensor]:
    """Vectors (batch, seq, hidden) and a (batch, 1, 1, seq) mask; the last input is padded."""
    lengths = [5, 3] if config is SMALL else [4, 2, 3]
    x = randn(9, len(lengths), max(lengths), config.hidden_size)  # (batch, seq, hidden)
    keep = keep_mask(lengths, max(lengths))  # (batch, seq)
    return x, keep[:, None, None, :]  # mask: (batch, 1, 1, seq)


def small_feed_forward(config: BertConfig = SMALL) -> FeedForward:
    return seeded_module(FeedForward, config, seed=10)


def feed_forward_mistakes(x, ff: FeedForward) -> dict[str, torch.Tensor]:
    wide = ff.intermediate(x)  # (batch, seq, intermediate)
    return {
        "it used ReLU; BERT's activation is GELU": ff.output(F.relu(wide)),
        "there is no activation between the two linear layers, so together they are just "
        "one linear map": ff.output(wide),
        "it used the tanh approximation of GELU; BERT uses the exact erf formula":
            ff.output(F.gelu(wide, approximate="tanh")),
        "the residual was added here; the feed-forward network alone has none": x + ff(x),
        "GELU was applied after the second linear layer; it goes between the two: "
        "output(gelu(intermediate(x)))": gelu(ff.output(wide)),
    }


def feed_forward_sizes(config: BertConfig) -> str:
    """The sizes a feed-forward network has (its number of heads plays no part)."""
    return f"hidden size {config.hidden_size}, intermediate size {config.intermediate_size}"


def _module_case(name: str, label: str, module, config: BertConfig, mistakes,
                 with_mask: bool) -> Case:
    """One case of a module exercise at ``config``'s size: ``name(x, module[, mask])``."""
    sizes = (feed_forward_sizes if name == "feed_forward" else sizes_of)(config)
    x, mask = small_layer_inputs(config)
    args = (x, module, mask) if with_mask else (x, module)
    with torch.no_grad():
        expected = module(x, mask)[0] if with_mask else module(x)  # (batch, seq, hidden)
        wrong = mistakes(*args)
    shown = label + ("" if config is SMALL else f" at {sizes}")
    return Case(shown, args, expected, wrong, call=f"{name} at {sizes}", sizes=sizes)


def _check_module(fn, name: str, label: str, build, mistakes, with_mask: bool,
                  given: tuple[str, str]) -> CheckReport:
    """A module exercise at both sizes: ``build(config)`` makes the module, ``mistakes`` the
    catalogue; ``given`` (the module's call, its parts) says what to use when ``fn`` calls the
    module instead of computing it."""
    report = CheckReport(name)
    cases = [_module_case(name, label, build(config), config, mistakes, with_mask)
             for config in (SMALL, OTHER)]
    if calls_given_module(report, name, fn, cases[0].args, cases[0].args[1], *given):
        return report
    check_cases(report, name, fn, cases)
    return report


@exercise(forbids=("course_lib.FeedForward", "torch.nn.functional.gelu", "torch.nn.GELU",
                   "course_lib.gelu"),
          write_from="`ff.intermediate`, your own GELU and `ff.output`")
def check_feed_forward(feed_forward) -> CheckReport:
    """Run ``feed_forward(x, ff)`` (ff: a course_lib FeedForward) against ff(x)."""
    return _check_module(feed_forward, "feed_forward", "the feed-forward output",
                         small_feed_forward, feed_forward_mistakes, with_mask=False,
                         given=("ff(x)", "ff.intermediate, GELU, then ff.output"))


def small_encoder_layer(config: BertConfig = SMALL) -> EncoderLayer:
    """A seeded layer; LayerNorm scales and shifts made non-trivial; eval mode."""
    return seeded_module(EncoderLayer, config, seed=11, norms=("attention_norm", "output_norm"))


def _layer_variant(x, layer: EncoderLayer, mask, mistake: str) -> torch.Tensor:
    """An encoder layer with one typical mistake in the order of its parts."""

    def attend(h: torch.Tensor) -> torch.Tensor:
        return layer.attention(h, mask)[0]  # (batch, seq, hidden)

    ff, norm1, norm2 = layer.feed_forward, layer.attention_norm, layer.output_norm
    if mistake == "pre-LN":
        h = x + attend(norm1(x))
        return h + ff(norm2(h))
    if mistake == "no residuals":
        return norm2(ff(norm1(attend(x))))
    if mistake == "no first residual":
        h = norm1(attend(x))
        return norm2(h + ff(h))
    if mistake == "no second residual":
        return norm2(ff(norm1(x + attend(x))))
    if mistake == "norms swapped":
        h = norm2(x + attend(x))
        return norm1(h + ff(h))
    if mistake == "one norm twice":
        h = norm1(x + attend(x))
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
    "no first residual": "the first residual is missing: h = LayerNorm(x + attention(x))",
    "no second residual": "the second residual is missing: LayerNorm(h + feed_forward(h))",
    "norms swapped": "the two LayerNorms are swapped: attention_norm follows the attention, "
                     "output_norm follows the feed-forward network",
    "one norm twice": "attention_norm was used after the feed-forward network too: the "
                      "second LayerNorm is layer.output_norm",
    "residual from the input": "the second residual adds the layer's input x; it should add h, "
                               "the feed-forward network's input",
}


def layer_mistakes(x, layer: EncoderLayer, mask) -> dict[str, torch.Tensor]:
    mistakes = {text: _layer_variant(x, layer, mask, key) for key, text in LAYER_MISTAKES.items()}
    mistakes["the mask was ignored in the attention"] = layer(x, None)[0]
    return mistakes


@recorded
def check_encoder_layer(encoder_layer) -> CheckReport:
    """Run ``encoder_layer(x, layer, mask)`` (layer: a course_lib EncoderLayer) against it."""
    return _check_module(encoder_layer, "encoder_layer", "the layer output",
                         small_encoder_layer, layer_mistakes, with_mask=True,
                         given=("layer(x, mask)", "layer.attention, layer.attention_norm, "
                                "layer.feed_forward and layer.output_norm, with the residuals"))
