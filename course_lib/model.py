"""The full encoder: embeddings, a stack of layers, and BERT's random initialisation."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

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
            x, tuple(attentions) if output_attentions else None,
            tuple(hidden_states) if output_hidden_states else None)


class BertPooler(nn.Module):
    """The pre-training head on [CLS]: dense + tanh. Optional; the block itself does not use it."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.dense(hidden[:, 0]))  # (batch, hidden)


def init_bert_weights(module: nn.Module, std: float) -> None:
    """BERT's initialization of every part of ``module``: weights ~ Normal(0, std) (0.02),
    biases 0, LayerNorm scale 1."""
    for part in module.modules():
        if isinstance(part, (nn.Linear, nn.Embedding)):
            nn.init.normal_(part.weight, mean=0.0, std=std)
        if isinstance(part, nn.Linear) and part.bias is not None:
            nn.init.zeros_(part.bias)
        elif isinstance(part, nn.LayerNorm):
            nn.init.ones_(part.weight)
            nn.init.zeros_(part.bias)


class BertModel(nn.Module):
    """BERT from token IDs (batch, seq) to a :class:`BertOutput`: embeddings, the encoder, an
    optional pooler. This forward pass is the whole model, in every mode: edit a module and the
    output changes (``cl.InferenceBert.from_model(model)`` is the separate fast engine)."""

    def __init__(self, config: BertConfig | None = None, add_pooler: bool = False):
        super().__init__()
        self.config = config or BertConfig.base()
        self.embeddings = BertEmbeddings(self.config)
        self.encoder = BertEncoder(self.config)
        self.pooler = BertPooler(self.config) if add_pooler else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """BERT's initialization (``init_bert_weights``), the [PAD] vector zero."""
        init_bert_weights(self, self.config.initializer_range)
        with torch.no_grad():
            self.embeddings.word_embeddings.weight[self.config.pad_token_id].zero_()

    def set_fused_attention(self, enabled: bool) -> None:
        """Use PyTorch's fused attention when no maps are asked for (default), or always the
        hand-written attention of notebook 03 (``enabled=False``): same numbers, slower."""
        for layer in self.encoder.layers:
            layer.attention.use_fused = enabled

    def forward(
        self, input_ids, attention_mask=None, token_type_ids=None, output_attentions: bool = False,
        output_hidden_states: bool = False) -> BertOutput:
        """``attention_mask``: (batch, seq), 1 for real tokens; or (batch, seq, seq), 1 where
        query i may see key j (a causal mask, for example)."""
        inputs = check_inputs(  # one boundary; a CheckedInputs (from the block) passes as is
            input_ids,
            attention_mask,
            token_type_ids,
            config=self.config,
            pairwise_mask=True,
            device=self.embeddings.word_embeddings.weight.device,
        )
        ids, segments, keep = inputs.input_ids, inputs.token_type_ids, inputs.attention_mask
        if keep is not None:  # (batch, 1, 1, seq) for padding, (batch, 1, seq, seq) pairwise
            mask = keep[:, None, None, :] if keep.dim() == 2 else keep[:, None]
        else:
            mask = None
        x = self.embeddings(ids, segments)  # (batch, seq, hidden)
        x, attentions, hidden_states = self.encoder(x, mask, output_attentions,
                                                    output_hidden_states)
        pooled = self.pooler(x) if self.pooler is not None else None
        return BertOutput(x, attentions, hidden_states, pooled)

    def num_parameters(self) -> int:
        """How many numbers the model learns."""
        return sum(p.numel() for p in self.parameters())
