"""Two checks on what attention maps do and do not say (notebook 08, "attention is not
explanation").

- ``head_ablated(model, layer, head)``: a context manager that removes one head's output (its 64
  (head_size) columns of the merged heads are set to 0 before the output projection), so the
  change in a prediction measures what the model *uses* that head for (Michel et al. 2019 ablate
  heads the same way).
- ``norm_weighted_attention(model, input_ids)``: Kobayashi et al. (2020)'s view: what head h adds
  to token i from token j is ``a_ij * f_h(x_j)``, with ``f_h(x) = (x W_V + b_V)_h W_O,h`` the
  head's value vector pushed through its slice of the output projection. The weight ``a_ij`` can
  be large while ``||f_h(x_j)||`` is small, so the norms ``||a_ij f_h(x_j)||`` can tell a
  different story from the weights.

Layers and heads are Python indices here (from 0); the notebook counts them from 1.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

from course_lib.model import BertModel


def _encoder_of(model) -> BertModel:
    """The BertModel inside a task model (``.bert``) or the model itself."""
    encoder = getattr(model, "bert", model)
    if not isinstance(encoder, BertModel):
        raise TypeError("expected a course BertModel or a model with .bert, "
                        f"got {type(model).__name__}")
    return encoder


def _check_head(encoder: BertModel, layer: int, head: int) -> None:
    config = encoder.config
    if not 0 <= layer < config.num_layers or not 0 <= head < config.num_heads:
        raise ValueError(f"layer {layer} / head {head} (Python indices, from 0) is outside this "
                         f"model's {config.num_layers} layers x {config.num_heads} heads")


@contextmanager
def head_ablated(model, layer: int, head: int) -> Iterator[None]:
    """Inside the block, head ``head`` of layer ``layer`` (from 0) contributes nothing."""
    encoder = _encoder_of(model)
    _check_head(encoder, layer, head)
    size = encoder.config.head_size
    columns = slice(head * size, (head + 1) * size)

    def zero_head(module, inputs):
        merged = inputs[0].clone()  # (batch, seq, hidden): the heads side by side
        merged[..., columns] = 0.0
        return (merged, *inputs[1:])

    projection = encoder.encoder.layers[layer].attention.output
    handle = projection.register_forward_pre_hook(zero_head)
    try:
        yield
    finally:
        handle.remove()


@torch.no_grad()
def norm_weighted_attention(model, input_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For one text, input_ids (seq,) or (1, seq): (weights, norms), both (layers, heads, seq, seq).

    weights[l, h, i, j] = a_ij; norms[l, h, i, j] = ||a_ij f_h(x_j)|| (Kobayashi et al. 2020).
    """
    encoder = _encoder_of(model).eval()
    ids = input_ids.reshape(1, -1)  # (1, seq)
    out = encoder(ids, output_attentions=True, output_hidden_states=True)
    config = encoder.config
    seq, size = ids.shape[1], config.head_size
    all_weights, all_norms = [], []
    for index, layer in enumerate(encoder.encoder.layers):
        attention = layer.attention
        x = out.hidden_states[index][0]  # (seq, hidden): this layer's input
        values = attention.value(x).view(seq, config.num_heads, size)  # (seq, heads, size)
        values = values.transpose(0, 1)  # (heads, seq, size)
        # output.weight is (hidden, hidden); its columns h*size..(h+1)*size read head h
        out_weight = attention.output.weight.view(config.hidden_size, config.num_heads, size)
        transformed = torch.einsum("hjd,khd->hjk", values, out_weight)  # (heads, seq, hidden)
        lengths = transformed.norm(dim=-1)  # (heads, seq): ||f_h(x_j)||
        weights = out.attentions[index][0]  # (heads, seq, seq)
        all_weights.append(weights)
        all_norms.append(weights * lengths[:, None, :])  # (heads, seq, seq): ||a_ij f_h(x_j)||
    return torch.stack(all_weights), torch.stack(all_norms)


def column_share(maps: torch.Tensor, columns: list[int]) -> torch.Tensor:
    """(layers, heads): the part of each row that goes to ``columns``, rows renormalised to sum to
    1 first, averaged over all rows: the course's definition of a share, for weights or norms."""
    rows = maps / maps.sum(dim=-1, keepdim=True)  # (layers, heads, seq, seq)
    return rows[..., columns].sum(dim=-1).mean(dim=-1)


__all__ = ["column_share", "head_ablated", "norm_weighted_attention"]
