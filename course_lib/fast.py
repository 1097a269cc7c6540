"""The inference fast path: the same maths as the modules, fewer passes over memory.

``BertModel.forward`` comes here when nothing needs gradients, the model is in eval mode and no
hooks watch its modules. The modules stay the readable definition of BERT (and the path used for
training); this file reads their parameters and computes the same numbers faster:

- tokens travel as one (tokens, hidden) matrix, so every dense layer is one matrix multiply;
- Q, K and V come from one matrix multiply with the three weights stacked (built once, cached);
- the attention output and the feed-forward output are added into the residual stream in place
  (``addmm_``: the bias and the residual are already in the output buffer), GELU runs in place:
  every avoided temporary is one pass less over memory and one page-faulting allocation less;
- attention runs in PyTorch's fused ``scaled_dot_product_attention`` unless maps are asked for;
- padding-free mode (``model.set_padding_free(True)``) drops padded tokens before the first layer
  and attends within each sequence, so no work is spent on padding at all;
- bf16 mode (``model.set_precision("bf16")``) runs the matrix multiplies in bfloat16 with cached
  bf16 weights, keeping the residual stream, LayerNorm and softmax in float32.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .attention import attention_weights
from .layers import ACTIVATIONS

# Matrix-multiply dtype of each precision mode; None: the parameters' own dtype (float32 as loaded).
PRECISIONS = {"fp32": None, "bf16": torch.bfloat16}

IN_PLACE_ACTIVATIONS = {  # the same functions as layers.ACTIVATIONS, writing into their input
    "gelu": lambda x: torch.ops.aten.gelu_(x),
    "gelu_new": lambda x: torch.ops.aten.gelu_(x, approximate="tanh"),
    "relu": F.relu_,
}


def activate_(activation, x: torch.Tensor) -> torch.Tensor:
    """Apply a feed-forward activation, in place when it is one of BERT's named activations."""
    for name, function in ACTIVATIONS.items():
        if activation is function:
            return IN_PLACE_ACTIVATIONS[name](x)
    return activation(x)  # an activation swapped in by hand: call it as it is


@dataclass
class TokenLayout:
    """How the rows of a (tokens, hidden) matrix form sequences.

    Uniform: ``batch`` sequences of ``seq`` tokens each, row ``b * seq + s``; ``mask`` (batch, 1, 1,
    seq) hides padded keys, or is None. Packed (padding-free): ``lengths`` real tokens per sequence,
    one sequence after the other; ``rows`` says where each token sits in the padded (batch * seq).
    """

    batch: int
    seq: int
    mask: torch.Tensor | None = None
    lengths: list[int] | None = None
    rows: torch.Tensor | None = None

    @property
    def packed(self) -> bool:
        return self.lengths is not None

    def unpack(self, x: torch.Tensor) -> torch.Tensor:
        """(tokens, hidden) -> (batch, seq, hidden); padded positions of a packed batch are 0."""
        if not self.packed:
            return x.view(self.batch, self.seq, -1)  # (batch, seq, hidden)
        padded = x.new_zeros(self.batch * self.seq, x.shape[-1])  # (batch * seq, hidden)
        padded.index_copy_(0, self.rows, x)
        return padded.view(self.batch, self.seq, -1)  # (batch, seq, hidden)


def watched_by_hooks(model: nn.Module) -> bool:
    """True if any forward hook (global or on a submodule) expects the modules to be called."""
    registry = nn.modules.module
    if getattr(registry, "_global_forward_hooks", None) or getattr(
        registry, "_global_forward_pre_hooks", None
    ):
        return True
    return any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())


def can_run(model: nn.Module) -> bool:
    """The fast path is inference only: eval mode, no autograd recording, no hooks to call."""
    return not (model.training or torch.is_grad_enabled() or watched_by_hooks(model))


# --- weights derived from the parameters, cached ---------------------------------------------


def derived_weight(module: nn.Module, name: str, sources: list[torch.Tensor], build):
    """A tensor computed from parameters, kept on ``module`` until one of them changes.

    A change is seen through each parameter's address, version counter (bumped by every in-place
    write: ``load_state_dict``, optimiser steps, ``nn.init``) and dtype. Writes through ``.data``
    bypass the version counter: call ``model.clear_fast_cache()`` after those.
    """
    if any(p.is_inference() for p in sources):  # made under inference_mode: no version counter,
        with torch.no_grad():  # so no way to see a change; rebuilt at every call instead
            return build()
    signature = tuple((p.data_ptr(), p._version, p.dtype, p.device) for p in sources)
    cache = module.__dict__.setdefault("_fast_cache", {})
    if name in cache and cache[name][0] == signature:
        return cache[name][1]
    with torch.no_grad():
        value = build()
    cache[name] = (signature, value)
    return value


def clear_cache(model: nn.Module) -> None:
    """Forget every cached stacked or cast weight (they are rebuilt on the next call)."""
    for module in model.modules():
        module.__dict__.pop("_fast_cache", None)


def linear_weights(linear: nn.Linear, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """(weight, bias) of a Linear in ``dtype``: the parameters themselves, or a cached cast."""
    if linear.weight.dtype == dtype:
        return linear.weight, linear.bias
    sources = [linear.weight, linear.bias]
    return derived_weight(linear, str(dtype), sources, lambda: (linear.weight.to(dtype),
                                                                linear.bias.to(dtype)))


def stacked_qkv_weights(attention, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """Q, K, V weights stacked into one (3 * hidden, hidden) matrix, biases into (3 * hidden,).

    One matrix multiply ``x @ weight.T + bias`` then computes all three projections. Cached: the
    copy costs as much memory as the three weights (7 MB per BERT-base layer in fp32).
    """
    parts = (attention.query, attention.key, attention.value)
    sources = [t for part in parts for t in (part.weight, part.bias)]

    def build():
        weight = torch.cat([part.weight for part in parts]).to(dtype)  # (3 * hidden, hidden)
        bias = torch.cat([part.bias for part in parts]).to(dtype)  # (3 * hidden,)
        if dtype == torch.float32:  # MKL's fp32 GEMM is a few % faster with W^T contiguous
            weight = weight.t().contiguous().t()  # same values and (3h, h) shape, column-major
        return weight, bias

    return derived_weight(attention, f"qkv {dtype}", sources, build)


# --- the forward pass --------------------------------------------------------------------------


def layout_for(keep: torch.Tensor | None, batch: int, seq: int, padding_free: bool) -> TokenLayout:
    """Uniform layout (with a key mask if there is padding), or packed when padding is dropped."""
    if keep is None:
        return TokenLayout(batch, seq)
    if not padding_free:
        return TokenLayout(batch, seq, mask=keep[:, None, None, :])  # (batch, 1, 1, seq)
    rows = keep.reshape(-1).nonzero().squeeze(1)  # (tokens,): real positions in (batch * seq)
    return TokenLayout(batch, seq, lengths=keep.sum(dim=1).tolist(), rows=rows)


def embed(model, ids: torch.Tensor, segments: torch.Tensor, layout: TokenLayout) -> torch.Tensor:
    """Embeddings of the tokens as a (tokens, hidden) matrix; only real tokens when packed.

    The embedding module runs on the padded batch (lookups and one LayerNorm: cheap), so every
    token keeps the position it has there; packing picks the real rows afterwards.
    """
    x = model.embeddings(ids, segments).view(ids.numel(), -1)  # (batch * seq, hidden)
    return x[layout.rows] if layout.packed else x  # (tokens, hidden)


def attend(q, k, v, layout: TokenLayout, output_attentions: bool):
    """Attention over (batch, heads, seq, head_size) tensors; maps by hand only when asked for."""
    if output_attentions:
        weights = attention_weights(q.float(), k.float(), layout.mask)  # (batch, heads, seq, seq)
        return torch.matmul(weights.to(v.dtype), v), weights
    return F.scaled_dot_product_attention(q, k, v, attn_mask=layout.mask), None


class Scratch:
    """Output buffers that every layer of one forward pass reuses: fewer fresh allocations, so
    fewer page faults (large tensors come fresh from the operating system each time)."""

    def __init__(self):
        self.buffers: dict[str, torch.Tensor] = {}

    def get(self, name: str, rows: int, cols: int, like: torch.Tensor) -> torch.Tensor:
        """A (rows, cols) buffer of ``like``'s dtype and device; its old contents are garbage."""
        buffer = self.buffers.get(name)
        if buffer is None or buffer.shape != (rows, cols) or buffer.dtype != like.dtype:
            buffer = self.buffers[name] = like.new_empty(rows, cols)
        return buffer


def self_attention(attention, x: torch.Tensor, layout: TokenLayout, dtype, output_attentions,
                   scratch: Scratch):
    """Multi-head self-attention on (tokens, hidden); returns the merged heads before the output
    projection, (tokens, hidden), and the maps (batch, heads, seq, seq) or None."""
    heads, hidden = attention.num_heads, x.shape[-1]
    weight, bias = stacked_qkv_weights(attention, dtype)  # (3 * hidden, hidden), (3 * hidden,)
    out = scratch.get("qkv", x.shape[0], 3 * hidden, bias)
    qkv = torch.addmm(bias, x.to(dtype), weight.t(), out=out)  # (tokens, 3 * hidden)
    if not layout.packed:
        qkv = qkv.view(layout.batch, layout.seq, 3, heads, hidden // heads)  # (b, s, 3, h, d)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (batch, heads, seq, head_size), a view
        context, weights = attend(q, k, v, layout, output_attentions)
        context = context.transpose(1, 2).reshape(x.shape[0], hidden)  # (tokens, hidden)
        return context, weights
    context = scratch.get("context", x.shape[0], hidden, qkv)  # (tokens, hidden)
    start = 0
    for length in layout.lengths:  # each sequence attends only to itself: no padding anywhere
        rows = slice(start, start + length)
        one = qkv[rows].view(1, length, 3, heads, hidden // heads)  # (1, length, 3, h, d)
        q, k, v = one.permute(2, 0, 3, 1, 4)  # each (1, heads, length, head_size)
        out = F.scaled_dot_product_attention(q, k, v)  # (1, heads, length, head_size)
        context[rows] = out.transpose(1, 2).reshape(length, hidden)  # (length, hidden)
        start += length
    return context, None


def add_projection_(residual: torch.Tensor, x: torch.Tensor, linear: nn.Linear, dtype) -> None:
    """residual += linear(x), in place: in fp32 one ``addmm_`` with the residual as the output."""
    weight, bias = linear_weights(linear, dtype)
    if residual.dtype == dtype:
        residual.add_(bias).addmm_(x, weight.t())  # (tokens, hidden): residual + b + x W^T
    else:
        residual.add_(F.linear(x, weight, bias))  # low-precision product into the fp32 stream


def layer_norm(norm: nn.LayerNorm, x: torch.Tensor) -> torch.Tensor:
    """``norm(x)`` without the module call (hooks were ruled out before the fast path)."""
    return F.layer_norm(x, norm.normalized_shape, norm.weight, norm.bias, norm.eps)


def encoder_layer(layer, x, layout: TokenLayout, dtype, output_attentions, keep_input, scratch):
    """One post-LayerNorm encoder layer on (tokens, hidden); ``keep_input`` leaves x untouched."""
    context, weights = self_attention(layer.attention, x, layout, dtype, output_attentions, scratch)
    h = x.clone() if keep_input else x  # the residual stream, updated in place below
    add_projection_(h, context, layer.attention.output, dtype)
    h = layer_norm(layer.attention_norm, h)  # (tokens, hidden)

    ff = layer.feed_forward
    weight, bias = linear_weights(ff.intermediate, dtype)
    out = scratch.get("inner", x.shape[0], bias.shape[0], bias)
    inner = torch.addmm(bias, h.to(dtype), weight.t(), out=out)  # (tokens, intermediate)
    inner = activate_(ff.activation, inner)
    add_projection_(h, inner, ff.output, dtype)
    return layer_norm(layer.output_norm, h), weights


def forward(model, ids, segments, keep, output_attentions, output_hidden_states):
    """The whole encoder on the fast path; returns (last hidden, attentions, hidden states)."""
    batch, seq = ids.shape
    padding_free = model.padding_free and not output_attentions
    layout = layout_for(keep, batch, seq, padding_free)
    dtype = PRECISIONS[model.precision] or model.embeddings.word_embeddings.weight.dtype
    x = embed(model, ids, segments, layout)  # (tokens, hidden)
    attentions = []
    hidden_states = [layout.unpack(x)] if output_hidden_states else None
    scratch = Scratch()
    for layer in model.encoder.layers:
        x, weights = encoder_layer(layer, x, layout, dtype, output_attentions,
                                   keep_input=output_hidden_states, scratch=scratch)
        attentions.append(weights)
        if output_hidden_states:
            hidden_states.append(layout.unpack(x))
    last = hidden_states[-1] if output_hidden_states else layout.unpack(x)
    return (
        last,
        tuple(attentions) if output_attentions else None,
        tuple(hidden_states) if output_hidden_states else None,
    )
