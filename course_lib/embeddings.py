"""Token + position + segment embeddings, summed and normalised: BERT's input layer."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import BertConfig


def layer_norm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float):
    """(x - mean) / sqrt(variance + eps) * weight + bias, over the last dimension (..., hidden)."""
    return F.layer_norm(x, x.shape[-1:], weight, bias, eps)


class LayerNorm(nn.LayerNorm):
    """``nn.LayerNorm`` (same parameters) whose maths is the function in ``self.layer_norm``."""

    layer_norm = staticmethod(layer_norm)  # the function it calls (07b may give it another)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer_norm(x, self.weight, self.bias, self.eps)


class BertEmbeddings(nn.Module):
    """Map IDs (batch, seq) to vectors (batch, seq, hidden): the sum of three learned vectors,
    what the token is (word), where it is (position) and which sentence it is in (segment)."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.layer_norm = LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout)

    def forward(
        self, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        """IDs (batch, seq) -> vectors (batch, seq, hidden); no segment IDs means all segment A."""
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        seq_len = input_ids.shape[1]
        positions = torch.arange(seq_len, device=input_ids.device)  # (seq,)
        summed = (
            self.word_embeddings(input_ids)  # (batch, seq, hidden)
            + self.token_type_embeddings(token_type_ids)  # (batch, seq, hidden)
            + self.position_embeddings(positions)  # (seq, hidden), broadcast over the batch
        )
        return self.dropout(self.layer_norm(summed))
