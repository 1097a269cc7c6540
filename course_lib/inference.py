"""``InferenceBert``: an explicit fast engine for inference, built from a trained ``BertModel``.

``model.py`` is the readable BERT and the only thing that runs when you call a model. This engine
computes the same numbers with less work, only when asked for by name::

    engine = cl.InferenceBert.from_model(model)       # padding_free=True, precision="fp32"
    engine(input_ids, attention_mask).last_hidden_state

Why it is fast (each measured in ``benchmarks/`` and appendix A1):

- tokens travel as one (tokens, hidden) matrix; Q, K and V come from one stacked matrix multiply;
- residual adds happen in place (``addmm_``), GELU too, and every layer reuses one set of buffers;
- padding-free (default): padded tokens are dropped before the first layer; attention runs text
  by text on each text's own tokens; padded positions of the output are zeros;
- attention runs in PyTorch's fused ``scaled_dot_product_attention`` unless maps are asked for;
- ``prepack`` (CPUs): fp32 weights prepacked for oneDNN, bias + GELU and residual adds fused;
  by default on AMD CPUs only, where it took half the time (see :func:`prepack_pays`);
- ``precision="bf16"``: matrix multiplies in bfloat16, the rest float32; it pays only with bf16
  units (AMX, AVX512-BF16) or a GPU, and warns without them;
- ``precision="int8"``: dynamic int8 dense layers (Jacob et al. 2018): a symmetric int8 scale per
  weight row and a scale per input token, int32 sums in oneDNN (emulated in float32 where its
  kernel is missing); the rest float32; cosine >= 0.998 to fp32. Q/K/V's input gets a zero
  point per token too; the other inputs share one (128, or 16 after GELU, which never goes below
  -0.17), so the kernel subtracts it and one pass applies scale and bias. On the shipped MiniLM
  (360 sentences, mean cosine to fp32): one shared zero point everywhere 0.9976; a zero point
  per token for Q/K/V's input only 0.9983 (for one other layer's only: 0.9976 to 0.9979); per
  token everywhere 0.9988, at one more pass over every output.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from . import layers
from .attention import attention_weights
from .model import BertModel, BertOutput
from .validation import check_inputs

# The dtype of the float tensors each precision uses (for int8: the stream, around int8 products).
PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16, "int8": torch.float32}
LEVELS = 127  # int8, symmetric: -127..127 (-128 unused, so -w is representable)
ZERO_POINT = 128  # int8 activations: -128..127 travel as uint8 0..255, 0.0 at 128
SMALLEST_SCALE = 1e-30  # the scale of a token that is all zeros (1 / scale stays finite)
BF16_UNITS = {"amx_bf16", "avx512_bf16"}  # CPU flags of bf16 matrix units (Linux names)


def cpu_info(field: str) -> str:
    """One field of /proc/cpuinfo for the first CPU ("flags", "vendor_id"); "" elsewhere."""
    info = Path("/proc/cpuinfo")
    lines = info.read_text().splitlines() if info.exists() else []
    return next((line.split(":", 1)[1].strip() for line in lines
                 if line.split(":", 1)[0].strip() == field), "")


def cpu_flags() -> set[str]:
    """This CPU's feature flags as Linux lists them in /proc/cpuinfo; empty elsewhere."""
    return set(cpu_info("flags").split())


def prepack_pays() -> bool:
    """The default of ``prepack``: on for AMD CPUs, off elsewhere. BERT-base, 2 threads: on an
    AMD EPYC (Zen 5, 2026-12-06) prepacked oneDNN took half the time of torch's addmm (MKL) at
    1 x 128, 8 x 128 and 1 x 512 tokens; on an Intel Xeon (2026-12-01) 0.8x to 1.1x."""
    return cpu_info("vendor_id") == "AuthenticAMD"


def warn_without_bf16_units(device: torch.device) -> None:
    """bf16 pays only with bf16 matrix units; on a CPU without them, say so (never silently)."""
    if device.type == "cpu" and not cpu_flags() & BF16_UNITS:
        warnings.warn("precision='bf16' on a CPU without bf16 matrix units (no amx_bf16 or "
                      "avx512_bf16 in /proc/cpuinfo): bf16 is emulated here and slower than "
                      "fp32; use precision='fp32', or 'int8' for speed", RuntimeWarning,
                      stacklevel=4)  # points at the from_model call


def in_place_activation(activation):
    """The in-place version of one of BERT's named activations, else the function itself."""
    if activation is layers.gelu:
        return torch.ops.aten.gelu_
    if activation is layers.gelu_tanh:
        return lambda x: torch.ops.aten.gelu_(x, approximate="tanh")
    if activation is F.relu:
        return F.relu_
    return activation  # an activation swapped in by hand: called as it is, not in place


# int8: how a dense layer's inputs are quantized when they come out of an activation with a known
# lowest value, (floor, zero point): GELU (-0.16997; its tanh form -0.17004) keeps 239 of the 256
# levels for the positive side, ReLU all 256.
ACTIVATION_RANGES = {layers.gelu: (-0.171, 16), layers.gelu_tanh: (-0.171, 16), F.relu: (0.0, 0)}


def after_activation(activation) -> dict:
    """int8: the input settings of the dense layer that reads ``activation``'s output."""
    floor, zero_point = ACTIVATION_RANGES.get(activation, (None, ZERO_POINT))
    return dict(floor=floor, zero_point=zero_point)


# oneDNN's post-operations for the named activations: (name, algorithm) for _linear_pointwise.
FUSED_ACTIVATIONS = {layers.gelu: ("gelu", "none"), layers.gelu_tanh: ("gelu", "tanh"),
                     F.relu: ("relu", "")}


def can_prepack(weight: torch.Tensor, dtype: torch.dtype) -> bool:
    """oneDNN prepacking is used for fp32 weights on a CPU build that has oneDNN."""
    return (dtype == torch.float32 and weight.device.type == "cpu"
            and torch.backends.mkldnn.is_available()
            and hasattr(torch.ops.mkldnn, "_linear_pointwise"))


@dataclass
class Norm:
    """A LayerNorm's parameters, applied without a module call."""

    weight: torch.Tensor
    bias: torch.Tensor
    eps: float

    @classmethod
    def of(cls, norm: nn.LayerNorm) -> Norm:
        return cls(norm.weight.detach().clone(), norm.bias.detach().clone(), norm.eps)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, self.eps)


@dataclass
class Dense:
    """A Linear layer for inference: bias (out,) and either the weight (out, in) in the matrix
    multiplies' dtype (plain ``addmm``) or the same weight prepacked for oneDNN (``packed``)."""

    weight: torch.Tensor | None  # None when packed: one copy of each weight is enough
    bias: torch.Tensor
    packed: torch.Tensor | None = None

    @classmethod
    def of(cls, *linears: nn.Linear, dtype: torch.dtype, prepack: bool) -> Dense:
        """One Linear, or several stacked into one: Q, K, V -> (3 * hidden, hidden)."""
        weight = torch.cat([linear.weight.detach() for linear in linears]).to(dtype)
        bias = torch.cat([linear.bias.detach() for linear in linears]).to(dtype)
        if prepack and can_prepack(weight, dtype):
            return cls(None, bias, torch.ops.mkldnn._reorder_linear_weight(weight))
        if dtype == torch.float32:  # MKL's fp32 GEMM is a few % faster with W^T contiguous
            weight = weight.t().contiguous().t()  # same values and shape, column-major
        return cls(weight, bias)  # torch.cat made copies: the model's own tensors stay apart

    def __call__(self, x: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        """x W^T + b for x (tokens, in) -> (tokens, out); ``out`` is a buffer it may reuse."""
        if self.packed is not None:
            return torch.ops.mkldnn._linear_pointwise(x, self.packed, self.bias, "none", [], "")
        return torch.addmm(self.bias, x.to(self.weight.dtype), self.weight.t(), out=out)

    def activated(self, x: torch.Tensor, activation, out: torch.Tensor | None = None):
        """activation(x W^T + b): fused into the matrix multiply when oneDNN knows it."""
        if self.packed is not None and activation in FUSED_ACTIVATIONS:
            name, algorithm = FUSED_ACTIVATIONS[activation]
            return torch.ops.mkldnn._linear_pointwise(x, self.packed, self.bias, name, [],
                                                      algorithm)
        return in_place_activation(activation)(self(x, out))

    def add_to(self, residual: torch.Tensor, x: torch.Tensor, in_place: bool) -> torch.Tensor:
        """residual + x W^T + b, (tokens, out). Fused with oneDNN; with ``addmm_`` written into
        the residual itself when ``in_place`` (bias and residual already sit in the output)."""
        if self.packed is not None:
            return torch.ops.mkldnn._linear_pointwise.binary(x, residual, self.packed, self.bias,
                                                             "add")
        residual = residual if in_place else residual.clone()
        if residual.dtype == self.weight.dtype:
            return residual.add_(self.bias).addmm_(x, self.weight.t())
        return residual.add_(F.linear(x, self.weight, self.bias))  # bf16 product, fp32 stream


def quantize_weight(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel symmetric int8: (out, in) float -> int8 (out, in) and a scale per row (out,),
    so that weight ~ int8 * scale[:, None]. A row of zeros gets scale 1 (its int8 are 0)."""
    scale = weight.abs().amax(dim=1) / LEVELS  # (out,)
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    quantized = torch.round(weight / scale[:, None]).clamp_(-LEVELS, LEVELS)
    return quantized.to(torch.int8), scale.float()


def _as_uint8(shifted: torch.Tensor) -> torch.Tensor:
    """Float whole-number-to-be values in -128..127 -> uint8 0..255 (the value plus 128), rounded.
    PyTorch converts float to int8 with vector instructions (to uint8 several times slower), and
    an int8 plus 128 is the same byte with its top bit flipped, read as uint8."""
    return shifted.round_().to(torch.int8).bitwise_xor_(-128).view(torch.uint8)


def _finite(scale: torch.Tensor) -> torch.Tensor:
    """The per-token scales, after checking that no input held inf or NaN."""
    if not math.isfinite(scale.sum().item()):  # NaN and inf both reach the sum
        raise ValueError("int8 engine: a dense layer's input holds inf or NaN; the weights or "
                         "the inputs are broken (the fp32 engine would return NaN there)")
    return scale.clamp_(min=SMALLEST_SCALE)  # an all-zero token: any scale > 0 (x / scale is 0)


def quantize_per_token(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-token asymmetric uint8: x (tokens, in) -> (q (tokens, in), scale (tokens, 1), zero point
    (tokens, 1) in 0..255 as float32), x ~ (q - zero_point) * scale, 0.0 exact: all 256 levels
    span each token's own range."""
    low = x.amin(dim=1, keepdim=True).clamp_(max=0)  # (tokens, 1); amin and amax separately:
    high = x.amax(dim=1, keepdim=True).clamp_(min=0)  # many times faster than aminmax on rows
    scale = _finite((high - low).div_(255))  # (tokens, 1)
    zero_point = low.div_(scale).neg_().round_()  # (tokens, 1): where 0.0 lands, 0..255
    shifted = torch.addcmul(zero_point - 128, x, scale.reciprocal())  # (tokens, in)
    return _as_uint8(shifted.clamp_(-128, 127)), scale, zero_point


def quantize_with_zero_point(x: torch.Tensor, zero_point: int, floor: float | None = None
                             ) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token scale, one zero point for every token: x (tokens, in) -> (q (tokens, in),
    scale (tokens, 1)), x ~ (q - zero_point) * scale. 128 is symmetric; an input known to stay
    above ``floor`` (GELU's output) gets a low zero point and needs no minimum measured."""
    scale = x.amax(dim=1, keepdim=True).div_(255 - zero_point)  # (tokens, 1): the top fits
    if floor is None:  # and the bottom: measured, or known (nothing to fit for a floor of 0)
        scale = torch.maximum(scale, x.amin(dim=1, keepdim=True).div_(-zero_point))
    elif zero_point:
        scale.clamp_(min=-floor / zero_point)
    scale = _finite(scale)  # (tokens, 1)
    shifted = torch.mul(x, scale.reciprocal())  # (tokens, in), in -zero_point..255 - zero_point
    if zero_point != ZERO_POINT:
        shifted.add_(zero_point - ZERO_POINT)
    return _as_uint8(shifted), scale


def onednn_int8_works(device: torch.device) -> bool:
    """True when oneDNN's int8 matrix multiply runs here (x86 CPU builds): tried once, tiny."""
    if device.type != "cpu" or not torch.backends.mkldnn.is_available():
        return False
    try:
        weight = torch.ones(2, 2, dtype=torch.int8)
        packed = torch.ops.onednn.qlinear_prepack(weight, None)
        torch.ops.onednn.qlinear_pointwise(
            torch.ones(1, 2, dtype=torch.uint8), 1.0, 0, packed, torch.ones(2),
            torch.zeros(2, dtype=torch.long), None, 1.0, 0, torch.float32, "none", [None], "")
    except (AttributeError, RuntimeError, NotImplementedError):
        return False
    return True


@dataclass
class QuantizedDense:
    """A Linear layer in dynamic int8 (``packed`` for oneDNN; None: emulated in float32). With
    q_x, s_x, z_x from the quantizers above and q_W, s_W from :func:`quantize_weight`::

        y = s_x * ((q_x - z_x) q_W^T * s_W) + b
          = s_x * (q_x q_W^T * s_W  -  z_x * c) + b,   c = (column sums of q_W^T) * s_W

    oneDNN computes q_x q_W^T * s_W (uint8 x int8 summed in int32), minus z_x c itself when the
    zero point is one number for every token; then s_x and the bias follow in one pass. A zero
    point per token (``zero_point=None``) costs one more pass over the output, for z_x c.
    """

    weight: torch.Tensor  # int8 (out, in)
    scale: torch.Tensor  # float32 (out,)
    bias: torch.Tensor  # float32 (out,)
    zero_point_term: torch.Tensor  # float32 (out,): c above, what a zero point of 1 takes away
    packed: torch.Tensor | None = None
    weight_zero_points: torch.Tensor | None = None  # int64 zeros (out,), as oneDNN wants them
    zero_point: int | None = None  # the inputs': None, one per token; or one for every token
    floor: float | None = None  # the inputs never go below this (an activation's minimum)

    @classmethod
    def of(cls, *linears: nn.Linear, onednn: bool, zero_point: int | None = None,
           floor: float | None = None) -> QuantizedDense:
        """One Linear, or several stacked (Q, K, V): per-row scales, so stacking changes
        nothing. ``zero_point`` and ``floor``: how inputs are quantized (see the quantizers)."""
        if zero_point == 0 and (floor is None or floor < 0):
            raise ValueError("int8: zero point 0 leaves no level for negative inputs; it needs "
                             "floor=0.0 (inputs that are never negative, such as ReLU's)")
        weight = torch.cat([linear.weight.detach() for linear in linears]).float()
        bias = torch.cat([linear.bias.detach() for linear in linears]).float()
        quantized, scale = quantize_weight(weight)
        term = quantized.sum(dim=1, dtype=torch.int32).float() * scale  # (out,)
        packed = torch.ops.onednn.qlinear_prepack(quantized, None) if onednn else None
        return cls(quantized, scale, bias, term, packed,
                   torch.zeros(scale.shape, dtype=torch.long),  # symmetric weights: zeros
                   zero_point, floor)

    def _product(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """((q_x - z) q_W^T * s_W (tokens, out), s_x (tokens, 1), the per-token z_x (tokens, 1)
        still to subtract, or None) for x (tokens, in); z is the common zero point, else 0."""
        if self.zero_point is None:
            qx, x_scale, x_zero = quantize_per_token(x)
        else:
            (qx, x_scale), x_zero = quantize_with_zero_point(x, self.zero_point, self.floor), None
        common = self.zero_point or 0
        if self.packed is None:  # emulated: whole numbers up to 2^24 are exact in float32
            product = ((qx.float() - common) @ self.weight.float().t()).mul_(self.scale)
        else:
            product = torch.ops.onednn.qlinear_pointwise(
                qx, 1.0, common, self.packed, self.scale, self.weight_zero_points,
                None, 1.0, 0, torch.float32, "none", [None], "")  # float32 out
        return product, x_scale, x_zero

    def __call__(self, x: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        """x W^T + b for x (tokens, in) -> (tokens, out), into ``out`` if given."""
        product, x_scale, x_zero = self._product(x)
        if x_zero is None:
            return torch.addcmul(self.bias, product, x_scale, out=out)  # b + s_x * product
        y = torch.addr(self.bias, (x_scale * x_zero).squeeze(1), self.zero_point_term,
                       alpha=-1, out=out)  # b - s_x z_x c, (tokens, out)
        return y.addcmul_(product, x_scale)  # + s_x * product

    def activated(self, x: torch.Tensor, activation, out: torch.Tensor | None = None):
        """activation(x W^T + b), the activation in place."""
        return in_place_activation(activation)(self(x, out))

    def add_to(self, residual: torch.Tensor, x: torch.Tensor, in_place: bool) -> torch.Tensor:
        """residual + x W^T + b, (tokens, out), into ``residual`` itself when ``in_place``."""
        product, x_scale, x_zero = self._product(x)
        y = (residual if in_place else residual.clone()).add_(self.bias)
        if x_zero is not None:
            y.addr_((x_scale * x_zero).squeeze(1), self.zero_point_term, alpha=-1)
        return y.addcmul_(product, x_scale)


@dataclass
class Layer:
    """What one encoder layer needs at inference time."""

    heads: int
    qkv: Dense
    attention_output: Dense
    attention_norm: Norm
    intermediate: Dense
    activation: object  # the function the model's feed-forward calls
    output: Dense
    output_norm: Norm


@dataclass
class TokenLayout:
    """How the rows of a (tokens, hidden) matrix form texts. Uniform: row ``b * seq + s``, ``mask``
    (batch, 1, 1, seq) hides padded keys (or None). Packed (padding-free): only the real tokens,
    ``rows`` (tokens,) says where each sits in the padded (batch * seq), text after text;
    ``lengths`` how many rows each text has."""

    batch: int
    seq: int
    mask: torch.Tensor | None = None
    packed: bool = False
    rows: torch.Tensor | None = None
    lengths: list[int] | None = None

    def unpack(self, x: torch.Tensor) -> torch.Tensor:
        """(tokens, hidden) -> (batch, seq, hidden); padded positions of a packed batch are 0."""
        if not self.packed:
            return x.view(self.batch, self.seq, -1)  # (batch, seq, hidden)
        padded = x.new_zeros(self.batch * self.seq, x.shape[-1])  # (batch * seq, hidden)
        padded.index_copy_(0, self.rows, x)
        return padded.view(self.batch, self.seq, -1)  # (batch, seq, hidden)


class Scratch:
    """Output buffers that every layer of one forward pass reuses (fewer fresh allocations, so
    fewer page faults: large tensors come fresh from the operating system each time)."""

    def __init__(self):
        self.buffers: dict[str, torch.Tensor] = {}

    def get(self, name: str, rows: int, cols: int, like: torch.Tensor) -> torch.Tensor:
        """A (rows, cols) buffer of ``like``'s dtype and device; its old contents are garbage."""
        buffer = self.buffers.get(name)
        if buffer is None or buffer.shape != (rows, cols) or buffer.dtype != like.dtype:
            buffer = self.buffers[name] = like.new_empty(rows, cols)
        return buffer


class InferenceBert:
    """A fast, inference-only copy of a ``BertModel``, called like it, returning a
    :class:`BertOutput`. It copies the weights: a later change to the model is NOT seen (call
    ``from_model`` again)."""

    def __init__(self, model: BertModel, padding_free: bool = True, precision: str = "fp32",
                 prepack: bool | None = None):
        if not isinstance(model, BertModel):
            raise TypeError(f"InferenceBert.from_model needs a cl.BertModel, got "
                            f"{type(model).__name__}")
        if precision not in PRECISIONS:
            choices = ", ".join(repr(name) for name in PRECISIONS)
            raise ValueError(f"precision must be one of {choices}, got {precision!r}")
        self.config = model.config
        self.padding_free = bool(padding_free)
        self.precision = precision
        dtype = PRECISIONS[precision]
        self.dtype = dtype
        device = model.embeddings.word_embeddings.weight.device
        if precision == "bf16":
            warn_without_bf16_units(device)
        onednn_int8 = precision == "int8" and onednn_int8_works(device)
        prepack = prepack_pays() if prepack is None else prepack

        def dense(*linears, **int8_inputs):
            if precision == "int8":
                return QuantizedDense.of(*linears, onednn=onednn_int8, **int8_inputs)
            return Dense.of(*linears, dtype=dtype, prepack=prepack)

        emb = model.embeddings
        self.word = emb.word_embeddings.weight.detach().clone()  # (vocab, hidden)
        self.position = emb.position_embeddings.weight.detach().clone()  # (positions, hidden)
        self.segment = emb.token_type_embeddings.weight.detach().clone()  # (types, hidden)
        self.embedding_norm = Norm.of(emb.layer_norm)
        self.layers = [
            Layer(
                heads=layer.attention.num_heads,
                qkv=dense(layer.attention.query, layer.attention.key, layer.attention.value),
                attention_output=dense(layer.attention.output, zero_point=ZERO_POINT),
                attention_norm=Norm.of(layer.attention_norm),
                intermediate=dense(layer.feed_forward.intermediate, zero_point=ZERO_POINT),
                activation=layer.feed_forward.activation,
                output=dense(layer.feed_forward.output,
                             **after_activation(layer.feed_forward.activation)),
                output_norm=Norm.of(layer.output_norm),
            )
            for layer in model.encoder.layers
        ]
        pooler = model.pooler
        self.pooler = Dense.of(pooler.dense, dtype=torch.float32, prepack=False) if pooler else None

    @classmethod
    def from_model(cls, model: BertModel, padding_free: bool = True, precision: str = "fp32",
                   prepack: bool | None = None) -> InferenceBert:
        """Build the engine from a model's current weights. ``prepack`` (see the module docstring;
        None: where it measured faster, :func:`prepack_pays`) is ignored on GPUs and for bf16;
        int8 always prepacks where oneDNN can."""
        return cls(model, padding_free, precision, prepack)

    def __repr__(self) -> str:
        return (f"InferenceBert({len(self.layers)} layers, hidden {self.config.hidden_size}, "
                f"padding_free={self.padding_free}, precision={self.precision!r}, "
                f"matrix multiplies: {self.kernel})")

    @property
    def prepacked(self) -> bool:
        """True when the dense layers run as prepacked oneDNN matrix multiplies (fp32 or int8)."""
        return all(layer.qkv.packed is not None for layer in self.layers)

    @property
    def kernel(self) -> str:
        """Which kernel runs the dense layers, in words."""
        if self.precision == "int8":
            return "oneDNN int8" if self.prepacked else "int8 emulated in float32"
        return "oneDNN prepacked" if self.prepacked else "torch addmm"

    # --- the forward pass ----------------------------------------------------------------------

    @torch.no_grad()
    def __call__(self, input_ids, attention_mask=None, token_type_ids=None,
                 output_attentions: bool = False, output_hidden_states: bool = False) -> BertOutput:
        ids, segments, keep = self._checked(input_ids, attention_mask, token_type_ids)
        batch, seq = ids.shape
        layout = self._layout(keep, batch, seq, packed=self.padding_free and not output_attentions)
        x = self._embed(ids, segments, layout)  # (tokens, hidden)
        attentions = []
        hidden_states = [layout.unpack(x)] if output_hidden_states else None
        scratch = Scratch()
        for layer in self.layers:
            x, weights = self._layer(layer, x, layout, output_attentions,
                                     keep_input=output_hidden_states, scratch=scratch)
            attentions.append(weights)
            if output_hidden_states:
                hidden_states.append(layout.unpack(x))
        last = hidden_states[-1] if output_hidden_states else layout.unpack(x)
        pooled = None
        if self.pooler is not None:
            pooled = torch.tanh(F.linear(last[:, 0], self.pooler.weight, self.pooler.bias))
        return BertOutput(
            last,
            tuple(attentions) if output_attentions else None,
            tuple(hidden_states) if output_hidden_states else None,
            pooled,
        )

    def _checked(self, input_ids, attention_mask, token_type_ids):
        """The model's own input rules (one boundary); returns (ids, segments, keep or None)."""
        inputs = check_inputs(input_ids, attention_mask, token_type_ids, config=self.config,
                              device=self.word.device)
        keep = inputs.attention_mask  # (batch, seq) bool, True for real tokens; None: no padding
        if keep is not None and self.padding_free and not bool(keep[:, 0].all()):
            text = int((~keep[:, 0]).nonzero()[0]) + 1
            raise ValueError(
                f"attention_mask hides position 1 ([CLS]) of text {text}: with padding_free=True "
                "the output there would be zeros. Pad on the right, as the course's tokenizer "
                "does, or build the engine with padding_free=False"
            )
        return inputs.input_ids, inputs.token_type_ids, keep

    @staticmethod
    def _layout(keep, batch: int, seq: int, packed: bool) -> TokenLayout:
        """Uniform layout (with a key mask if there is padding), or packed when dropping it."""
        if keep is None:
            return TokenLayout(batch, seq)
        if not packed:
            return TokenLayout(batch, seq, mask=keep[:, None, None, :])  # (batch, 1, 1, seq)
        rows = keep.reshape(-1).nonzero().squeeze(1)  # (tokens,): real positions in batch * seq
        lengths = keep.sum(dim=1).tolist()  # each text's real tokens
        return TokenLayout(batch, seq, packed=True, rows=rows, lengths=lengths)

    def _embed(self, ids, segments, layout: TokenLayout) -> torch.Tensor:
        """Word + position + segment embeddings, normalized, as a (tokens, hidden) matrix."""
        flat_ids, flat_segments = ids.reshape(-1), segments.reshape(-1)  # (batch * seq,)
        positions = torch.arange(ids.numel(), device=ids.device) % layout.seq  # (batch * seq,)
        if layout.packed:  # only real tokens, each keeping its position in its text
            flat_ids, flat_segments, positions = (
                flat_ids[layout.rows], flat_segments[layout.rows], positions[layout.rows])
        x = F.embedding(flat_ids, self.word)  # (tokens, hidden)
        x += F.embedding(flat_segments, self.segment)
        x += F.embedding(positions, self.position)
        return self.embedding_norm(x)

    def _attend(self, layer: Layer, x, layout: TokenLayout, output_attentions, scratch):
        """Multi-head self-attention on (tokens, hidden) up to the merged heads (before the
        output projection): (tokens, hidden), and the maps (batch, heads, seq, seq) or None."""
        heads, hidden = layer.heads, x.shape[-1]
        qkv = layer.qkv(x, out=scratch.get("qkv", x.shape[0], 3 * hidden, layer.qkv.bias))
        if not layout.packed:
            qkv = qkv.view(layout.batch, layout.seq, 3, heads, hidden // heads)  # (b, s, 3, h, d)
            q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (batch, heads, seq, head_size), a view
            if output_attentions:
                weights = attention_weights(q.float(), k.float(), layout.mask)  # (b, h, s, s)
                context = torch.matmul(weights.to(v.dtype), v)  # (batch, heads, seq, head_size)
            else:
                weights = None
                context = F.scaled_dot_product_attention(q, k, v, attn_mask=layout.mask)
            return context.transpose(1, 2).reshape(x.shape[0], hidden), weights  # (tokens, h)
        # Packed: the dense layers saw real tokens only, each text's in consecutive rows, so
        # attention runs text by text on those rows alone, with nothing to mask (16 texts of
        # 8..128 tokens: 2.3x faster than one call on the padded grid with the key mask).
        context = scratch.get("context", x.shape[0], hidden, qkv)  # (tokens, hidden)
        for text, into in zip(qkv.split(layout.lengths), context.split(layout.lengths),
                              strict=True):  # (n, 3 * hidden) and (n, hidden), views
            n = text.shape[0]
            text = text.view(n, 3, heads, hidden // heads)  # (n, 3, heads, head_size)
            q, k, v = text.permute(1, 2, 0, 3).unsqueeze(1)  # each (1, heads, n, head_size)
            out = F.scaled_dot_product_attention(q, k, v)  # (1, heads, n, head_size)
            into.copy_(out[0].transpose(0, 1).reshape(n, hidden))  # (n, hidden)
        return context, None

    def _layer(self, layer: Layer, x, layout, output_attentions, keep_input, scratch):
        """One post-LayerNorm encoder layer on (tokens, hidden); ``keep_input`` leaves x as is."""
        context, weights = self._attend(layer, x, layout, output_attentions, scratch)
        h = layer.attention_output.add_to(x, context, in_place=not keep_input)  # (tokens, hidden)
        h = layer.attention_norm(h)
        buffer = scratch.get("inner", x.shape[0], layer.intermediate.bias.shape[0],
                             layer.intermediate.bias)
        inner = layer.intermediate.activated(h, layer.activation, out=buffer)  # (tokens, 4 * h)
        h = layer.output.add_to(h, inner, in_place=True)  # (tokens, hidden)
        return layer.output_norm(h), weights
