"""One encoder layer: attention and a feed-forward network, each wrapped in residual + LayerNorm."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .attention import MultiHeadSelfAttention
from .config import BertConfig


def gelu(x: torch.Tensor) -> torch.Tensor:
    """BERT's activation: x * Phi(x), with Phi the standard normal CDF (exact, via erf)."""
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


ACTIVATIONS = {
    "gelu": F.gelu,
    "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
    "relu": F.relu,
}


class FeedForward(nn.Module):
    """Widen each vector 4x (768 -> 3072), apply GELU, project back: the same for every token."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.intermediate = nn.Linear(config.hidden_size, config.intermediate_size)
        self.output = nn.Linear(config.intermediate_size, config.hidden_size)
        self.activation = ACTIVATIONS[config.hidden_act]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output(self.activation(self.intermediate(x)))  # (batch, seq, hidden)


class EncoderLayer(nn.Module):
    """x -> LayerNorm(x + Attention(x)) -> LayerNorm(. + FeedForward(.)), as in the BERT paper."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.attention = MultiHeadSelfAttention(config)
        self.attention_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.feed_forward = FeedForward(config)
        self.output_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout)

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None = None, output_attentions: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        attended, weights = self.attention(x, mask, output_attentions)
        x = self.attention_norm(x + self.dropout(attended))  # (batch, seq, hidden)
        x = self.output_norm(x + self.dropout(self.feed_forward(x)))  # (batch, seq, hidden)
        return x, weights
