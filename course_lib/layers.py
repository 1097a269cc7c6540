"""One encoder layer: attention and a feed-forward network, each wrapped in residual + LayerNorm."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .attention import MultiHeadSelfAttention
from .config import BertConfig
from .embeddings import LayerNorm


def gelu_formula(x: torch.Tensor) -> torch.Tensor:
    """GELU written out: x * Phi(x), Phi the standard normal CDF: (1 + erf(x / √2)) / 2."""
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def gelu(x: torch.Tensor) -> torch.Tensor:
    """BERT's activation, x * Phi(x) exactly as ``gelu_formula`` (tested), in one fused kernel:
    the function ``FeedForward`` looks up here and the model calls."""
    return F.gelu(x)


def gelu_tanh(x: torch.Tensor) -> torch.Tensor:
    """The tanh approximation of GELU (``hidden_act="gelu_new"``, used by some checkpoints)."""
    return F.gelu(x, approximate="tanh")


def activation_function(name: str):
    """The activation a config names; read from this module at call time, so a replaced
    ``course_lib.layers.gelu`` is what a model built afterwards uses."""
    return {"gelu": gelu, "gelu_new": gelu_tanh, "relu": F.relu}[name]


class FeedForward(nn.Module):
    """Widen each vector 4x (768 -> 3072), apply GELU, project back: the same for every token."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.intermediate = nn.Linear(config.hidden_size, config.intermediate_size)
        self.output = nn.Linear(config.intermediate_size, config.hidden_size)
        self.activation = activation_function(config.hidden_act)  # e.g. gelu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output(self.activation(self.intermediate(x)))  # (batch, seq, hidden)


class EncoderLayer(nn.Module):
    """x -> LayerNorm(x + Attention(x)) -> LayerNorm(. + FeedForward(.)), as in the BERT paper."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.attention = MultiHeadSelfAttention(config)
        self.attention_norm = LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.feed_forward = FeedForward(config)
        self.output_norm = LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout)

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None = None, output_attentions: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        attended, weights = self.attention(x, mask, output_attentions)
        x = self.attention_norm(x + self.dropout(attended))  # (batch, seq, hidden)
        x = self.output_norm(x + self.dropout(self.feed_forward(x)))  # (batch, seq, hidden)
        return x, weights
