"""my_bert.multi_head: my code from the course notebooks, saved by %%my_bert.

Each block is one definition of a cell; running the cell again replaces the
blocks of the names it defines, so edit the cell in the notebook rather than this
file."""

import math

import torch


# [my_bert cell] defines: split_heads
def split_heads(x: torch.Tensor, num_heads: int) -> torch.Tensor:
    batch, seq, hidden = x.shape
    x = x.view(batch, seq, num_heads, hidden // num_heads)  # (batch, seq, heads, head_size)
    return x.transpose(1, 2)  # (batch, heads, seq, head_size)


# [my_bert cell] defines: merge_heads
def merge_heads(x: torch.Tensor) -> torch.Tensor:
    batch, heads, seq, head_size = x.shape
    x = x.transpose(1, 2)  # (batch, seq, heads, head_size)
    return x.reshape(batch, seq, heads * head_size)  # (batch, seq, hidden)


# [my_bert cell] defines: multi_head_attention
def multi_head_attention(x: torch.Tensor, attention, keep: torch.Tensor) -> torch.Tensor:
    heads = attention.num_heads
    q = split_heads(attention.query(x), heads)  # (batch, heads, seq, head_size)
    k = split_heads(attention.key(x), heads)
    v = split_heads(attention.value(x), heads)
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])  # (batch, heads, seq, seq)
    scores = scores.masked_fill(~keep[:, None, None, :], float("-inf"))
    context = torch.softmax(scores, dim=-1) @ v  # (batch, heads, seq, head_size)
    return attention.output(merge_heads(context))  # (batch, seq, hidden)
