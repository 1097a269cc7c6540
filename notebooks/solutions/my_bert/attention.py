"""my_bert.attention: my code from the course notebooks, saved by %%my_bert.

Each block is one definition of a cell; running the cell again replaces the
blocks of the names it defines, so edit the cell in the notebook rather than this
file."""

import math

import torch


# [my_bert cell] defines: attention_weights
def attention_weights(q: torch.Tensor, k: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])  # (seq_q, seq_k)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))  # (seq_k,) broadcasts over the rows
    return torch.softmax(scores, dim=-1)


# [my_bert cell] defines: one_head
def one_head(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None):
    weights = attention_weights(q, k, mask)  # (seq, seq)
    return weights @ v, weights  # (seq, d), (seq, seq)
