"""The full encoder: embeddings, a stack of layers, and BERT's random initialisation."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from . import fast
from .config import BertConfig
from .embeddings import BertEmbeddings
from .layers import EncoderLayer
from .validation import check_inputs


@dataclass
class BertOutput:
    """What the model returns. Shapes: (batch, seq, hidden) and (batch, heads, seq, seq)."""

    last_hidden_state: torch.Tensor
    attentions: tuple[torch.Tensor, ...] | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None
    pooler_output: torch.Tensor | None = None


class BertEncoder(nn.Module):
    """``num_layers`` encoder layers, applied one after the other."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.layers = nn.ModuleList(EncoderLayer(config) for _ in range(config.num_layers))

    def forward(self, x, mask=None, output_attentions=False, output_hidden_states=False):
        attentions, hidden_states = [], [x]
        for layer in self.layers:
            x, weights = layer(x, mask, output_attentions)  # (batch, seq, hidden)
            attentions.append(weights)
            hidden_states.append(x)
        return (
            x,
            tuple(attentions) if output_attentions else None,
            tuple(hidden_states) if output_hidden_states else None,
        )


class BertPooler(nn.Module):
    """The pre-training head on [CLS]: dense + tanh. Optional; the block itself does not use it."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.dense(hidden[:, 0]))  # (batch, hidden)


class BertModel(nn.Module):
    """BERT from token IDs to one vector per token.

    ``model(input_ids)`` takes IDs of shape (batch, seq) and returns a :class:`BertOutput`.
    In eval mode with gradients off (``torch.no_grad()`` / ``torch.inference_mode()``) the call
    takes the inference fast path of ``course_lib/fast.py`` (same numbers, less work); training
    and grad-recording calls, hooks and ``set_fused_attention(False)`` run the modules below.
    """

    def __init__(self, config: BertConfig | None = None, add_pooler: bool = False):
        super().__init__()
        self.config = config or BertConfig.base()
        self.embeddings = BertEmbeddings(self.config)
        self.encoder = BertEncoder(self.config)
        self.pooler = BertPooler(self.config) if add_pooler else None
        self.padding_free = False  # see set_padding_free
        self.precision = "fp32"  # see set_precision
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """BERT's initialisation: weights ~ Normal(0, 0.02), biases 0, LayerNorm scale 1."""
        std = self.config.initializer_range
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, mean=0.0, std=std)
            if isinstance(module, nn.Linear):
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        with torch.no_grad():
            self.embeddings.word_embeddings.weight[self.config.pad_token_id].zero_()

    def set_fused_attention(self, enabled: bool) -> None:
        """Use PyTorch's fused attention when no maps are asked for (default), or always by hand."""
        for layer in self.encoder.layers:
            layer.attention.use_fused = enabled

    def set_padding_free(self, enabled: bool) -> None:
        """Skip padded tokens entirely in inference (off by default).

        With a padding mask, only the real tokens go through the layers and each sequence attends
        to itself alone; the padded positions of ``last_hidden_state`` (and ``hidden_states``) are
        then zeros instead of the values the reference computes for them, which nothing should
        read anyway. Real tokens get the same vectors. Runs with maps asked for stay padded.
        """
        self.padding_free = bool(enabled)

    def set_precision(self, precision: str) -> None:
        """Choose "fp32" (default) or "bf16": matrix multiplies in bfloat16, the rest in float32.

        bf16 keeps a cached bfloat16 copy of the dense weights for inference; training and other
        grad-recording calls run under ``torch.autocast``. Fast only on CPUs with bf16 matrix
        units (AMX, AVX512-BF16); elsewhere it is slower than fp32. Outputs stay float32.
        """
        if precision not in fast.PRECISIONS:
            choices = ", ".join(repr(name) for name in fast.PRECISIONS)
            raise ValueError(f"precision must be one of {choices}, got {precision!r}")
        if precision != self.precision:
            fast.clear_cache(self)  # the other mode's cast weights would only take memory
        self.precision = precision

    def clear_fast_cache(self) -> None:
        """Drop the cached stacked/cast weights; needed only after writing weights via ``.data``."""
        fast.clear_cache(self)

    def forward(
        self,
        input_ids,
        attention_mask=None,
        token_type_ids=None,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
    ) -> BertOutput:
        inputs = check_inputs(  # one boundary; a CheckedInputs (from the block) passes as is
            input_ids,
            attention_mask,
            token_type_ids,
            config=self.config,
            device=self.embeddings.word_embeddings.weight.device,
        )
        ids, segments, keep = inputs.input_ids, inputs.token_type_ids, inputs.attention_mask

        fused = all(layer.attention.use_fused for layer in self.encoder.layers)
        if fused and fast.can_run(self):
            x, attentions, hidden_states = fast.forward(
                self, ids, segments, keep, output_attentions, output_hidden_states
            )
        else:
            mask = None if keep is None else keep[:, None, None, :]  # (batch, 1, 1, seq)
            with torch.autocast(ids.device.type, torch.bfloat16, enabled=self.precision == "bf16"):
                x = self.embeddings(ids, segments)  # (batch, seq, hidden)
                x, attentions, hidden_states = self.encoder(
                    x, mask, output_attentions, output_hidden_states
                )
            if self.precision == "bf16":
                x = x.float()  # autocast leaves bfloat16 behind; the output is always float32
        pooled = self.pooler(x) if self.pooler is not None else None
        return BertOutput(x, attentions, hidden_states, pooled)

    def num_parameters(self) -> int:
        """How many numbers the model learns."""
        return sum(p.numel() for p in self.parameters())
