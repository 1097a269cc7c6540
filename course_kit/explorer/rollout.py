"""Attention rollout (Abnar and Zuidema, 2020): how much each token draws on each input token
after several layers, counting the residual path as attention to oneself."""

from __future__ import annotations

import numpy as np


def renormalize_rows(weights: np.ndarray) -> np.ndarray:
    """Divide every row by its sum so it sums to 1 again; rows that sum to 0 stay 0."""
    sums = weights.sum(axis=-1, keepdims=True)
    return np.divide(weights, sums, out=np.zeros_like(weights), where=sums > 0)


def attention_rollout(weights) -> np.ndarray:
    """Rollout after every layer, from maps of shape (layers, heads, seq, seq).

    For each layer: average the heads, add the identity (the residual connection), renormalise
    the rows, then multiply onto the layers below: R_1 = A_1, R_l = A_l @ R_(l-1).
    Returns (layers, seq, seq); entry [-1] is the rollout of the whole model.
    """
    array = np.asarray(weights)
    if array.ndim != 4 or array.shape[2] != array.shape[3]:
        raise ValueError(
            f"rollout needs maps of shape (layers, heads, seq, seq), got {array.shape}")
    seq = array.shape[2]
    per_layer = array.mean(axis=1, dtype=np.float64) + np.eye(seq)  # (layers, seq, seq)
    per_layer = renormalize_rows(per_layer)
    rollout = np.empty_like(per_layer)
    current = np.eye(seq)
    for layer, layer_map in enumerate(per_layer):
        current = layer_map @ current  # (seq, seq): the new layer mixes what the lower ones built
        rollout[layer] = current
    return rollout.astype(np.float32)
