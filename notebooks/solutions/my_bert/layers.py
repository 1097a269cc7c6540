"""my_bert.layers: my code from the course notebooks, saved by %%my_bert.

Each block is one definition of a cell; running the cell again replaces the
blocks of the names it defines, so edit the cell in the notebook rather than this
file."""

import math

import torch


# [my_bert cell] defines: gelu
def gelu(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


# [my_bert cell] defines: feed_forward
def feed_forward(x: torch.Tensor, ff) -> torch.Tensor:
    return ff.output(gelu(ff.intermediate(x)))  # (batch, seq, hidden) -> (batch, seq, 4 * hidden) -> back


# [my_bert cell] defines: encoder_layer
def encoder_layer(x: torch.Tensor, layer, mask: torch.Tensor) -> torch.Tensor:
    attended, _ = layer.attention(x, mask)  # (batch, seq, hidden)
    h = layer.attention_norm(x + attended)
    return layer.output_norm(h + feed_forward(h, layer.feed_forward))
