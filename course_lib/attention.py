"""Self-attention: one head written out by hand, then many heads at once."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .config import BertConfig


def attention_weights(
    q: torch.Tensor, k: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """softmax(q k^T / sqrt(d)): how much each query looks at each key. q, k: (..., seq, d); mask
    broadcastable to (..., seq_q, seq_k), True where a key may be seen -> rows summing to 1."""
    scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(q.shape[-1])  # (..., seq_q, seq_k)
    if mask is not None:
        scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
    return torch.softmax(scores, dim=-1)


def scaled_dot_product_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """One head of attention by hand: each output is a weighted average of the value vectors.
    Returns (output (..., seq_q, d_v), weights (..., seq_q, seq_k))."""
    weights = attention_weights(q, k, mask)
    return torch.matmul(weights, v), weights


def split_heads(x: torch.Tensor, num_heads: int) -> torch.Tensor:
    """(batch, seq, hidden) -> (batch, heads, seq, head_size)."""
    batch, seq, hidden = x.shape
    x = x.view(batch, seq, num_heads, hidden // num_heads)  # (batch, seq, heads, head_size)
    return x.transpose(1, 2)  # (batch, heads, seq, head_size)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """(batch, heads, seq, head_size) -> (batch, seq, hidden): the heads side by side."""
    batch, heads, seq, head_size = x.shape
    x = x.transpose(1, 2)  # (batch, seq, heads, head_size)
    return x.reshape(batch, seq, heads * head_size)  # (batch, seq, hidden)


class MultiHeadSelfAttention(nn.Module):
    """Twelve heads in parallel: project to Q, K, V, attend per head, merge, project back. Without
    ``output_attentions`` PyTorch's fused attention does the same maths faster; with it, or with
    ``use_fused=False``, the hand-written version above runs (and returns the maps when asked)."""

    # The functions it calls (notebook 07b gives it the learner's own in their place).
    split_heads = staticmethod(split_heads)
    merge_heads = staticmethod(merge_heads)
    attention_weights = staticmethod(attention_weights)

    def __init__(self, config: BertConfig):
        super().__init__()
        self.num_heads = config.num_heads
        self.query = nn.Linear(config.hidden_size, config.hidden_size)
        self.key = nn.Linear(config.hidden_size, config.hidden_size)
        self.value = nn.Linear(config.hidden_size, config.hidden_size)
        self.output = nn.Linear(config.hidden_size, config.hidden_size)
        self.attention_dropout = config.attention_dropout
        self.use_fused = True

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None = None, output_attentions: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x: (batch, seq, hidden); mask: (batch, 1, 1, seq) bool, True for real tokens."""
        q = self.split_heads(self.query(x), self.num_heads)  # (batch, heads, seq, head_size)
        k = self.split_heads(self.key(x), self.num_heads)  # (batch, heads, seq, head_size)
        v = self.split_heads(self.value(x), self.num_heads)  # (batch, heads, seq, head_size)
        dropout = self.attention_dropout if self.training else 0.0
        if output_attentions or not self.use_fused:
            weights = self.attention_weights(q, k, mask)  # (batch, heads, seq, seq)
            context = torch.matmul(F.dropout(weights, dropout, self.training), v)
        else:
            weights = None
            context = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout)
        return self.output(self.merge_heads(context)), weights  # (batch, seq, hidden)
