"""BERT's fine-tuning heads (Devlin et al. 2019, Figure 4): one linear layer on the encoder.

- :class:`BertForSequenceClassification`: one text or a pair ``[CLS] a [SEP] b [SEP]``; scores
  from the pooled [CLS] vector (the pooler: dense + tanh), as the released code does;
- :class:`BertForTokenClassification`: one score per label for every token (named entities);
- :class:`BertForQuestionAnswering`: a start and an end score for every token of the context.

Each runs the one ``BertModel.forward`` and computes ``.loss`` as ``transformers`` does: mean
cross-entropy, label -100 ignored; for QA the mean of the start and end losses, a position equal
to the input length meaning "the answer is not in this window" (ignored).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .config import BertConfig
from .heads import write_hf_folder
from .masking import IGNORE_INDEX
from .model import BertModel
from .names import HEAD_PREFIXES, head_model_name_to_ours, ours_to_checkpoint_name
from .validation import number_of_classes


@dataclass
class TaskOutput:
    """``logits`` (batch, labels) or (batch, seq, labels); for QA ``start_logits`` and
    ``end_logits`` (batch, seq); ``loss`` (0-dim) when labels or positions were given."""

    logits: torch.Tensor | None = None
    loss: torch.Tensor | None = None
    start_logits: torch.Tensor | None = None
    end_logits: torch.Tensor | None = None


class _TaskModel(nn.Module):
    """The encoder (``self.bert``), dropout and one linear head, loaded and saved by name."""

    head = "classifier"  # the head's attribute and checkpoint name
    uses_pooler = False

    def __init__(self, config: BertConfig | None = None, num_labels: int = 2):
        super().__init__()
        number_of_classes("num_labels", num_labels)
        self.config = config or BertConfig.base()
        self.num_labels = num_labels
        self.bert = BertModel(self.config, add_pooler=self.uses_pooler)
        self.dropout = nn.Dropout(self.config.hidden_dropout)
        linear = nn.Linear(self.config.hidden_size, num_labels)  # (hidden,) -> (labels,)
        nn.init.normal_(linear.weight, std=self.config.initializer_range)  # as BERT initialises
        nn.init.zeros_(linear.bias)
        setattr(self, self.head, linear)

    @classmethod
    def from_pretrained(cls, source: str | os.PathLike = "minilm", num_labels: int | None = None):
        """Load a checkpoint in the Hugging Face layout (same sources as ``cl.load_pretrained``).

        Its ``classifier.*`` / ``qa_outputs.*`` tensors fill the head when present; otherwise
        the head starts from BERT's random initialisation, with a warning that says so.
        """
        from .pretrained import read_pretrained
        from .weights import load_checkpoint_into

        folder, config, state = read_pretrained(source)
        state = {k.removeprefix("bert."): v for k, v in state.items()}
        found = {k: v for k, v in state.items() if k.startswith(f"{cls.head}.")}
        rows = found[f"{cls.head}.weight"].shape[0] if f"{cls.head}.weight" in found else None
        model = cls(config, num_labels or rows or 2)
        if rows is not None and rows != model.num_labels:
            raise ValueError(f"the checkpoint in {folder} has a {cls.head} head for {rows} "
                             f"labels, not num_labels={model.num_labels}; leave num_labels out "
                             "or load an encoder-only checkpoint to start a new head")
        encoder = {k: v for k, v in state.items() if not k.startswith(HEAD_PREFIXES)}
        if model.uses_pooler and "pooler.dense.weight" not in encoder:
            warnings.warn(f"the checkpoint in {folder} has no pooler: it starts from random "
                          "weights (train before use)", stacklevel=2)
            encoder.update({f"pooler.dense.{k}": v for k, v in
                            model.bert.pooler.dense.state_dict().items()})
        load_checkpoint_into(model.bert, encoder)
        if found:
            if set(found) != {f"{cls.head}.weight", f"{cls.head}.bias"}:
                raise ValueError(f"the checkpoint in {folder} has an incomplete {cls.head} "
                                 f"head: {', '.join(sorted(found))}")
            with torch.no_grad():
                for name, tensor in found.items():
                    model.state_dict()[head_model_name_to_ours(name)].copy_(tensor)
        else:
            warnings.warn(f"the checkpoint in {folder} has no {cls.head}.* head: a new one "
                          f"for {model.num_labels} labels starts from random weights (normal, "
                          "std 0.02), as transformers does; fine-tune before use", stacklevel=2)
        return model.eval()

    def checkpoint_state(self) -> dict[str, torch.Tensor]:
        """Our weights under Hugging Face's names."""
        from .weights import ours_to_checkpoint_state

        state = {f"bert.{k}": v for k, v in ours_to_checkpoint_state(self.bert).items()}
        ours = self.state_dict()
        state.update({ours_to_checkpoint_name(f"{self.head}.{kind}"): ours[f"{self.head}.{kind}"]
                      for kind in ("weight", "bias")})
        return {k: v.detach().contiguous().clone() for k, v in state.items()}

    def save_pretrained(self, folder: str | os.PathLike, tokenizer=None):
        """Write config.json and model.safetensors (and vocab.txt) that ``transformers`` reads."""
        hf = self.config.to_hf_dict()
        hf["architectures"] = [type(self).__name__]
        hf["id2label"] = {str(i): f"LABEL_{i}" for i in range(self.num_labels)}
        hf["label2id"] = {f"LABEL_{i}": i for i in range(self.num_labels)}
        return write_hf_folder(folder, hf, self.checkpoint_state(), tokenizer)


class BertForSequenceClassification(_TaskModel):
    """One text or a pair -> (batch, num_labels) scores, from the pooler as BERT does."""

    uses_pooler = True

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, labels=None
                ) -> TaskOutput:
        pooled = self.bert(input_ids, attention_mask, token_type_ids).pooler_output  # (b, hidden)
        logits = self.classifier(self.dropout(pooled))  # (batch, num_labels)
        return TaskOutput(logits, _class_loss(logits, labels, "one label per input"))


class BertForTokenClassification(_TaskModel):
    """Every token's vector -> (batch, seq, num_labels) scores; label -100 marks tokens to skip
    (special tokens, padding, and the pieces after a word's first)."""

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, labels=None
                ) -> TaskOutput:
        hidden = self.bert(input_ids, attention_mask, token_type_ids).last_hidden_state
        logits = self.classifier(self.dropout(hidden))  # (batch, seq, num_labels)
        return TaskOutput(logits, _class_loss(logits, labels, "one label per token"))


class BertForQuestionAnswering(_TaskModel):
    """``[CLS] question [SEP] context [SEP]`` -> a start and an end score for every token."""

    head = "qa_outputs"

    def __init__(self, config: BertConfig | None = None, num_labels: int = 2):
        if num_labels != 2:
            raise ValueError(f"question answering has 2 outputs (start, end), got {num_labels}")
        super().__init__(config, 2)

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, start_positions=None,
                end_positions=None) -> TaskOutput:
        hidden = self.bert(input_ids, attention_mask, token_type_ids).last_hidden_state
        logits = self.qa_outputs(hidden)  # (batch, seq, 2): no dropout, as in transformers
        start, end = logits.unbind(-1)  # (batch, seq) each
        loss = None
        if (start_positions is None) != (end_positions is None):
            raise ValueError("give both start_positions and end_positions, or neither")
        if start_positions is not None:
            seq = start.shape[1]  # position seq = "not in this window": ignored, as in transformers
            first = _positions(start_positions, start, "start_positions").clamp(0, seq)
            last = _positions(end_positions, start, "end_positions").clamp(0, seq)
            inside = (first < seq) & (last < seq)
            if bool((inside & (last < first)).any()):
                raise ValueError("an end position lies before its start position; a span runs "
                                 "from its start token to its end token, start <= end")
            loss = (F.cross_entropy(start, first, ignore_index=seq)
                    + F.cross_entropy(end, last, ignore_index=seq)) / 2
        return TaskOutput(None, loss, start.contiguous(), end.contiguous())


def _class_loss(logits: torch.Tensor, labels, rule: str) -> torch.Tensor | None:
    """Mean cross-entropy over labels in [0, num_labels); -100 ignored. Shapes checked."""
    if labels is None:
        return None
    labels = torch.as_tensor(labels, device=logits.device)
    if labels.is_floating_point() or labels.dtype == torch.bool:
        raise ValueError(f"labels must be whole-number class indices, got dtype {labels.dtype}")
    if tuple(labels.shape) != tuple(logits.shape[:-1]):
        raise ValueError(f"labels must have shape {tuple(logits.shape[:-1])} ({rule}), "
                         f"got {tuple(labels.shape)}")
    labels = labels.long()
    classes = logits.shape[-1]
    bad = labels[(labels != IGNORE_INDEX) & ((labels < 0) | (labels >= classes))]
    if bad.numel():
        raise ValueError(f"labels must be in 0..{classes - 1} (or {IGNORE_INDEX} to skip), got "
                         f"{sorted(set(bad.tolist()))[:5]}")
    return F.cross_entropy(logits.reshape(-1, classes), labels.reshape(-1),  # (b*seq, classes)
                           ignore_index=IGNORE_INDEX)


def _positions(positions, logits: torch.Tensor, name: str) -> torch.Tensor:
    """Token positions, one per input, (batch,): whole numbers in 0..seq (seq = not in window)."""
    positions = torch.as_tensor(positions, device=logits.device)
    if positions.dim() == 2 and positions.shape[1] == 1:
        positions = positions.squeeze(-1)  # (batch, 1) -> (batch,), as transformers accepts
    if positions.is_floating_point() or tuple(positions.shape) != (logits.shape[0],):
        raise ValueError(f"{name} must be whole-number token positions of shape "
                         f"({logits.shape[0]},), got {positions.dtype} {tuple(positions.shape)}")
    seq = logits.shape[1]
    if bool(((positions < 0) | (positions > seq)).any()):
        raise ValueError(f"{name} must lie in 0..{seq - 1} (the input has {seq} tokens; {seq} "
                         f"means 'not in this window'), got {positions.tolist()[:5]}: a span "
                         "past the input")
    return positions.long()


__all__ = [
    "BertForQuestionAnswering",
    "BertForSequenceClassification",
    "BertForTokenClassification",
    "TaskOutput",
]
