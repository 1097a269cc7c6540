"""The BERT Encoder block: token IDs in, 768-wide vectors out (CLS or the whole sequence)."""

from __future__ import annotations

import torch
from torch import nn

from .config import BertConfig
from .model import BertModel
from .pooling import global_average_pooling, global_max_pooling
from .validation import (
    MIN_BLOCK_LENGTH,
    as_id_tensor,
    as_mask_tensor,
    check_attention_mask,
    check_input_ids,
)

OUTPUTS = ("cls", "sequence")
POOLINGS = {"average": global_average_pooling, "max": global_max_pooling}


class BertEncoderBlock(nn.Module):
    """BERT-base as one block, following the block's reference page.

    - input: a 1-D vector of 3 to 512 token IDs, each in [0, vocab_size) (or a batch of them);
    - ``output="cls"`` (default): the first vector, which stands for the whole input;
    - ``output="sequence"``: one vector per token, which may only be followed by global average
      or global max pooling (``pooling="average"`` / ``"max"``, or the pooling functions).
    Random weights by default; ``BertEncoderBlock.from_pretrained(...)`` for trained ones.
    """

    def __init__(
        self,
        vocab_size: int = 30522,
        output: str = "cls",
        pooling: str | None = None,
        config: BertConfig | None = None,
        model: BertModel | None = None,
    ):
        super().__init__()
        self.output, self.pooling = _check_output(output, pooling)
        if model is None:
            config = config or BertConfig.base(vocab_size=vocab_size)
            if config.vocab_size != vocab_size:
                raise ValueError(
                    f"vocab_size {vocab_size} differs from config.vocab_size {config.vocab_size}"
                )
            model = BertModel(config)
        self.model = model

    @classmethod
    def from_pretrained(
        cls, source: str = "bert-base-uncased", output: str = "cls", pooling: str | None = None
    ) -> BertEncoderBlock:
        """A block with trained weights: "bert-base-uncased", "bert-base-multilingual-cased",
        "minilm" (shipped, offline) or a folder in the Hugging Face layout."""
        from .pretrained import load_pretrained

        model = load_pretrained(source)
        return cls(model.config.vocab_size, output, pooling, model=model)

    @property
    def vocab_size(self) -> int:
        """The largest ID the block accepts, plus one."""
        return self.model.config.vocab_size

    @property
    def max_length(self) -> int:
        return self.model.config.max_position_embeddings

    def forward(self, input_ids, attention_mask=None) -> torch.Tensor:
        """IDs (seq,) -> (hidden,) or (seq, hidden); a batch (batch, seq) -> (batch, hidden) or
        (batch, seq, hidden)."""
        ids = as_id_tensor(input_ids)
        if ids.dim() not in (1, 2):
            raise ValueError(
                f"the block's input must be a 1-dimensional vector of token IDs (or a batch of "
                f"them, 2-D); got {ids.dim()} dimensions {tuple(ids.shape)}"
            )
        single = ids.dim() == 1
        batch_ids = ids.unsqueeze(0) if single else ids  # (batch, seq)
        check_input_ids(batch_ids, self.vocab_size, self.max_length, MIN_BLOCK_LENGTH)
        mask = None
        if attention_mask is not None:
            mask = as_mask_tensor(attention_mask)
            mask = mask.unsqueeze(0) if single and mask.dim() == 1 else mask  # (batch, seq)
            mask = check_attention_mask(mask, batch_ids).long()
        hidden = self.model(
            batch_ids, attention_mask=mask
        ).last_hidden_state  # (batch, seq, hidden)
        if self.output == "cls":
            result = hidden[:, 0]  # (batch, hidden)
        elif self.pooling is not None:
            result = POOLINGS[self.pooling](hidden, mask)  # (batch, hidden)
        else:
            result = hidden  # (batch, seq, hidden)
        return result[0] if single else result


def _check_output(output: str, pooling: str | None) -> tuple[str, str | None]:
    if not isinstance(output, str) or output.lower() not in OUTPUTS:
        raise ValueError(f"output must be 'cls' (default) or 'sequence', got {output!r}")
    output = output.lower()
    if pooling is not None:
        if output != "sequence":
            raise ValueError(
                "pooling only follows output='sequence'; the 'cls' output is already one vector"
            )
        if pooling not in POOLINGS:
            raise ValueError(
                "the 'sequence' output may only be followed by global average or global max "
                f"pooling: pooling must be 'average' or 'max', got {pooling!r}"
            )
    return output, pooling
