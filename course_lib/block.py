"""The BERT Encoder block: token IDs in, 768-wide vectors out (CLS or the whole sequence)."""

from __future__ import annotations

import torch
from torch import nn

from .config import BertConfig, check_fits_in_memory
from .model import BertModel
from .pooling import average_over, max_over
from .validation import MIN_BLOCK_LENGTH, SHIPPED_VOCAB_SIZE, check_inputs

OUTPUTS = ("cls", "sequence")
POOLINGS = {"average": average_over, "max": max_over}  # on checked vectors and masks


class BertEncoderBlock(nn.Module):
    """BERT-base as one block, following the block's reference page.

    - input: a 1-D vector of 3 to 512 token IDs, each in [0, vocab_size) (or a batch of them);
    - ``output="cls"`` (default): the first vector, which stands for the whole input;
    - ``output="sequence"``: one vector per token, which may only be followed by global average
      or global max pooling (``pooling="average"`` / ``"max"``, or the pooling functions).
    Random weights by default; ``BertEncoderBlock.from_pretrained(...)`` for trained ones.
    """

    def __init__(
        self, vocab_size: int = SHIPPED_VOCAB_SIZE, output: str = "cls", pooling: str | None = None,
        config: BertConfig | None = None, model: BertModel | None = None):
        super().__init__()
        self.output, self.pooling = _check_output(output, pooling)
        if config is not None and not isinstance(config, BertConfig):
            raise TypeError(f"config must be a cl.BertConfig, got {type(config).__name__}")
        if model is not None and not isinstance(model, BertModel):
            raise TypeError(
                f"model must be a cl.BertModel (e.g. cl.load_pretrained('minilm')), "
                f"got {type(model).__name__}")
        if model is None:
            config = config or BertConfig.base(vocab_size=vocab_size)
            if config.vocab_size != vocab_size:
                raise ValueError(
                    f"vocab_size {vocab_size} differs from config.vocab_size {config.vocab_size}")
            check_fits_in_memory(config)  # before a single weight is allocated
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
        inputs = check_inputs(  # the one boundary: the model trusts what passes here
            input_ids,
            attention_mask,
            config=self.model.config,
            min_length=MIN_BLOCK_LENGTH,
            allow_single=True,
            device=self.model.embeddings.word_embeddings.weight.device,
        )
        hidden = self.model(inputs).last_hidden_state  # (batch, seq, hidden)
        mask = inputs.attention_mask  # (batch, seq) bool, or None without padding
        if self.output == "cls":
            result = hidden[:, 0]  # (batch, hidden)
        elif self.pooling is not None:
            result = POOLINGS[self.pooling](hidden, mask)  # (batch, hidden)
        else:
            result = hidden  # (batch, seq, hidden)
        return result[0] if inputs.single else result


def _check_output(output: str, pooling: str | None) -> tuple[str, str | None]:
    if not isinstance(output, str) or output.lower() not in OUTPUTS:
        raise ValueError(f"output must be 'cls' (default) or 'sequence', got {output!r}")
    output = output.lower()
    if pooling is not None:
        if output != "sequence":
            raise ValueError(
                "pooling only follows output='sequence'; the 'cls' output is already one vector")
        if pooling not in POOLINGS:
            raise ValueError(
                "the 'sequence' output may only be followed by global average or global max "
                f"pooling: pooling must be 'average' or 'max', got {pooling!r}")
    return output, pooling
