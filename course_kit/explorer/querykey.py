"""The query/key view: for one head and one looking token, its query vector, every key vector,
their elementwise products, the scores (the products summed, divided by sqrt(head size)) and the
softmax of the scores, which is that token's row of the attention map.

The vectors are caught with forward hooks on the attention module's ``query`` and ``key``
projections, so any course model works (the learner's own included) as long as each encoder
layer has ``attention.query`` and ``attention.key``. The softmax is checked against the map the
model reports: a model that computes attention some other way is refused, not shown wrongly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .maps import _threads, threads_for

MATCH_TOLERANCE = 1e-4  # largest allowed gap between our softmax and the model's map


@dataclass(frozen=True)
class QueryKeyView:
    """One head's scores for one looking token. query: (d,); keys, products: (seq, d);
    scores, weights: (seq,), weights = softmax(scores)."""

    query: np.ndarray
    keys: np.ndarray
    products: np.ndarray
    scores: np.ndarray
    weights: np.ndarray


def query_key_view(queries, keys, token: int) -> QueryKeyView:
    """The view for looking token ``token`` (from 0) of one head's queries and keys, each of
    shape (seq, d): products q * k_j, scores sum(q * k_j) / sqrt(d), their softmax."""
    q_all, k_all = (np.asarray(x, dtype=np.float64) for x in (queries, keys))
    if q_all.ndim != 2 or q_all.shape != k_all.shape:
        raise ValueError(f"queries and keys must both be (seq, d), got {q_all.shape} and "
                         f"{k_all.shape}")
    if not 0 <= token < q_all.shape[0]:
        raise ValueError(f"token must be between 0 and {q_all.shape[0] - 1} (counted from 0), "
                         f"got {token}")
    query = q_all[token]
    products = k_all * query  # (seq, d): feature f of key j times feature f of the query
    scores = products.sum(axis=1) / math.sqrt(q_all.shape[1])  # (seq,)
    weights = np.exp(scores - scores.max())
    weights /= weights.sum()
    return QueryKeyView(*(a.astype(np.float32) for a in (query, k_all, products, scores,
                                                          weights)))


def _attention_module(model, layer: int):
    """The attention module of encoder layer ``layer``, or an error naming what is missing."""
    layers = getattr(getattr(model, "encoder", None), "layers", None)
    if layers is None:
        raise TypeError("the query/key view needs a course BertModel (model.encoder.layers)")
    if not 0 <= layer < len(layers):
        raise ValueError(f"layer must be between 0 and {len(layers) - 1} (counted from 0), "
                         f"got {layer}")
    attention = getattr(layers[layer], "attention", None)
    if not all(hasattr(attention, name) for name in ("query", "key", "num_heads")):
        raise TypeError(f"layer {layer + 1} has no attention.query, attention.key and "
                        "attention.num_heads: the query/key view reads those projections")
    return attention


def query_key_vectors(model, input_ids, token_type_ids, layer: int):
    """Every head's queries and keys in ``layer`` for one input, as NumPy arrays of shape
    (heads, seq, head size), and the model's attention maps of that layer (heads, seq, seq).

    One forward pass with hooks on the layer's query and key projections; the softmax of
    q . k / sqrt(d) is checked to be the map the model reports.
    """
    attention = _attention_module(model, layer)
    caught = {}

    def catch(name):
        def hook(module, inputs, output):
            caught[name] = output.detach()
        return hook

    handles = [attention.query.register_forward_hook(catch("query")),
               attention.key.register_forward_hook(catch("key"))]
    was_training = model.training
    model.eval()
    try:  # as many threads as for the maps (see maps.threads_for)
        with torch.no_grad(), _threads(threads_for(input_ids.shape[1])):
            out = model(input_ids, token_type_ids=token_type_ids, output_attentions=True)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    heads = attention.num_heads
    vectors = []
    for name in ("query", "key"):
        batch, seq, hidden = caught[name].shape
        split = caught[name].view(batch, seq, heads, hidden // heads)  # (1, seq, heads, d)
        vectors.append(split[0].transpose(0, 1).float().cpu().numpy())  # (heads, seq, d)
    reported = out.attentions[layer][0].float().cpu().numpy()  # (heads, seq, seq)
    q, k = vectors
    scores = np.einsum("hid,hjd->hij", q, k) / math.sqrt(q.shape[-1])  # (heads, seq, seq)
    ours = np.exp(scores - scores.max(axis=-1, keepdims=True))
    ours /= ours.sum(axis=-1, keepdims=True)
    gap = float(np.abs(ours - reported).max())
    if gap > MATCH_TOLERANCE:
        raise ValueError(f"in layer {layer + 1}, softmax(q . k / sqrt(d)) differs from the "
                         f"model's attention by up to {gap:.2g}: this model does not compute "
                         "attention from its query and key projections alone, so the "
                         "query/key view would be wrong")
    return q, k, reported


def encode_for_model(model, tokenizer, text: str, text_pair: str | None = None,
                     max_tokens: int | None = None):
    """(input_ids, token_type_ids) tensors of shape (1, seq) as the explorer encodes a text."""
    limit = model.config.max_position_embeddings
    if max_tokens is not None:
        limit = min(limit, max_tokens)
    encoding = tokenizer.encode(text, text_pair=text_pair or None, max_length=limit)
    device = next(model.parameters()).device
    ids = torch.tensor([list(encoding)], dtype=torch.long, device=device)  # (1, seq)
    types = torch.tensor([list(encoding.token_type_ids)], dtype=torch.long,
                         device=device)  # (1, seq)
    return ids, types
