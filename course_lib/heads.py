"""BERT's pre-training heads on top of the encoder: masked LM and next-sentence prediction.

``BertForMaskedLM`` = ``BertModel`` + a masked-LM head that turns each token's vector into a score
for every word of the vocabulary. ``BertForPreTraining`` adds the next-sentence head on the pooled
[CLS] vector, as in the BERT paper (Devlin et al. 2019), whose pre-training loss is the sum of both.

The masked-LM head is dense + activation + LayerNorm, then a "decoder" whose weight matrix IS the
word-embedding matrix (one tensor, tied), plus its own bias of one number per vocabulary word.
Tying means the score of word w at a position is the dot product of the position's vector with the
embedding of w: the same table reads words in and writes them out.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .config import BertConfig
from .layers import activation_function
from .masking import IGNORE_INDEX, causal_mask
from .model import BertModel
from .validation import check_inputs


@dataclass
class MaskedLMOutput:
    """``logits`` (batch, seq, vocab); ``loss`` (a 0-dim tensor) when labels were given.

    For pre-training also ``seq_relationship_logits`` (batch, 2): index 0 = "B follows A",
    index 1 = "B is a random sentence" (the convention of the original code).
    """

    logits: torch.Tensor
    loss: torch.Tensor | None = None
    seq_relationship_logits: torch.Tensor | None = None
    masked_lm_loss: torch.Tensor | None = None
    next_sentence_loss: torch.Tensor | None = None
    hidden_states: torch.Tensor | None = None  # the encoder's last_hidden_state


def masked_lm_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the labelled positions only; label -100 means "not chosen".

    logits: (batch, seq, vocab); labels: (batch, seq). Returns a 0-dim tensor.
    """
    vocab = logits.shape[-1]
    return F.cross_entropy(
        logits.reshape(-1, vocab),  # (batch * seq, vocab)
        labels.reshape(-1),  # (batch * seq,)
        ignore_index=IGNORE_INDEX,
    )


class BertLMHead(nn.Module):
    """Vectors (batch, seq, hidden) -> a score per vocabulary word (batch, seq, vocab)."""

    def __init__(self, config: BertConfig, word_embeddings: nn.Embedding):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.activation = activation_function(config.hidden_act)
        self.layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.decoder.weight = word_embeddings.weight  # tied: the very same Parameter, not a copy
        self.bias = nn.Parameter(torch.zeros(config.vocab_size))  # the head's own, per word

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        x = self.layer_norm(self.activation(self.dense(hidden)))  # (batch, seq, hidden)
        return self.decoder(x) + self.bias  # (batch, seq, vocab)


class BertForMaskedLM(nn.Module):
    """BERT with the masked-LM head: ``model(ids, labels=labels).loss``, ``.logits``.

    ``causal=True`` runs the same layers with a causal (left-to-right) attention mask: each
    position sees only itself and the positions on its left. BERT never does this; the course
    uses it to show what bidirectional attention buys.
    """

    has_pooler = False

    def __init__(self, config: BertConfig | None = None, causal: bool = False):
        super().__init__()
        self.config = config or BertConfig.base()
        self.causal = bool(causal)
        self.bert = BertModel(self.config, add_pooler=self.has_pooler)
        self.lm_head = BertLMHead(self.config, self.bert.embeddings.word_embeddings)
        self._init_heads()

    def _init_heads(self) -> None:
        """BERT's initialisation for the head weights (the tied decoder belongs to the encoder)."""
        std = self.config.initializer_range
        nn.init.normal_(self.lm_head.dense.weight, std=std)
        nn.init.zeros_(self.lm_head.dense.bias)
        nn.init.ones_(self.lm_head.layer_norm.weight)
        nn.init.zeros_(self.lm_head.layer_norm.bias)
        nn.init.zeros_(self.lm_head.bias)

    def encode(self, input_ids, attention_mask=None, token_type_ids=None) -> torch.Tensor:
        """The encoder's vectors (batch, seq, hidden), with the causal mask when ``causal``."""
        inputs = check_inputs(input_ids, attention_mask, token_type_ids, config=self.config,
                              device=self.bert.embeddings.word_embeddings.weight.device)
        if not self.causal:
            return self.bert(inputs).last_hidden_state
        ids = inputs.input_ids  # (batch, seq)
        mask = causal_mask(ids.shape[1], ids.device)[None, None]  # (1, 1, seq, seq)
        if inputs.attention_mask is not None:  # no padding as a key either
            mask = mask & inputs.attention_mask[:, None, None, :]  # (batch, 1, seq, seq)
        x = self.bert.embeddings(ids, inputs.token_type_ids)  # (batch, seq, hidden)
        return self.bert.encoder(x, mask)[0]  # (batch, seq, hidden)

    def forward(
        self, input_ids, attention_mask=None, token_type_ids=None, labels=None,
        next_sentence_label=None,
    ) -> MaskedLMOutput:
        if next_sentence_label is not None:
            raise ValueError(
                "BertForMaskedLM has no next-sentence head; use BertForPreTraining for "
                "next_sentence_label"
            )
        hidden = self.encode(input_ids, attention_mask, token_type_ids)  # (batch, seq, hidden)
        logits = self.lm_head(hidden)  # (batch, seq, vocab)
        loss = None if labels is None else masked_lm_loss(logits, _labels_like(labels, logits))
        return MaskedLMOutput(logits, loss, masked_lm_loss=loss, hidden_states=hidden)

    # ---- loading and saving ----------------------------------------------------------------

    @classmethod
    def from_pretrained(cls, source: str | os.PathLike = "course-mlm"):
        """Load a checkpoint in the Hugging Face layout, heads included, in eval mode.

        Same sources as ``cl.load_pretrained``, plus "course-mlm" (the small model the course
        trains in notebook 09 and ships). A checkpoint without the head this class needs
        (``cls.predictions.*``, and ``cls.seq_relationship.*`` for pre-training) is refused.
        """
        from .pretrained import read_pretrained
        from .weights import load_checkpoint_into

        # the encoder is checked here; the pooler goes with the next-sentence head, checked next
        folder, config, state = read_pretrained(source)
        model = cls(config)
        model._load_heads(state, folder)  # first, so that a missing head is named as such
        encoder_state = {k: v for k, v in state.items() if not k.startswith("cls.")}
        load_checkpoint_into(model.bert, encoder_state)
        return model.eval()

    def _load_heads(self, state: dict[str, torch.Tensor], folder: Path) -> None:
        """Copy the ``cls.*`` tensors into the heads; refuse a checkpoint that lacks them."""
        heads = {}
        for name, tensor in state.items():
            name = re.sub(r"\.gamma$", ".weight", re.sub(r"\.beta$", ".bias", name))
            if name.startswith("cls."):
                heads[name] = tensor
        wanted = dict(HEAD_NAME_MAP) if self.has_pooler else dict(MLM_HEAD_NAME_MAP)
        if "cls.predictions.bias" not in heads and "cls.predictions.decoder.bias" in heads:
            heads["cls.predictions.bias"] = heads["cls.predictions.decoder.bias"]
        missing = sorted(name for name in wanted if name not in heads)
        if missing:
            what = "next-sentence" if all(m.startswith("cls.seq") for m in missing) else "masked-LM"
            raise ValueError(
                f"the checkpoint in {folder} has no {what} head (missing: {', '.join(missing)}); "
                f"it holds an encoder only. {type(self).__name__} needs a checkpoint saved with "
                "its pre-training heads, e.g. bert-base-uncased or 'course-mlm'; for the encoder "
                "alone use cl.load_pretrained"
            )
        ours = self.state_dict()
        with torch.no_grad():
            for theirs, mine in wanted.items():
                if tuple(heads[theirs].shape) != tuple(ours[mine].shape):
                    raise ValueError(
                        f"{theirs} has shape {tuple(heads[theirs].shape)} in the checkpoint, "
                        f"the model expects {tuple(ours[mine].shape)}"
                    )
                ours[mine].copy_(heads[theirs])

    def checkpoint_state(self) -> dict[str, torch.Tensor]:
        """Our weights under Hugging Face's names (the tied decoder weight is written once)."""
        from .weights import ours_to_checkpoint_state

        state = {f"bert.{k}": v for k, v in ours_to_checkpoint_state(self.bert).items()}
        wanted = HEAD_NAME_MAP if self.has_pooler else MLM_HEAD_NAME_MAP
        ours = self.state_dict()
        for theirs, mine in wanted.items():
            state[theirs] = ours[mine]
        return {k: v.detach().contiguous().clone() for k, v in state.items()}

    def save_pretrained(self, folder: str | os.PathLike, tokenizer=None) -> Path:
        """Write config.json and model.safetensors (and vocab.txt when a tokenizer is given)."""
        hf = self.config.to_hf_dict()
        hf["architectures"] = [type(self).__name__]
        hf["tie_word_embeddings"] = True
        return write_hf_folder(folder, hf, self.checkpoint_state(), tokenizer)

    def num_parameters(self) -> int:
        """How many numbers the model learns (the tied matrix counted once)."""
        return sum(p.numel() for p in self.parameters())


class BertForPreTraining(BertForMaskedLM):
    """BERT as pre-trained: masked LM on every token, next-sentence prediction on the pooler.

    ``loss`` is the masked-LM loss plus the next-sentence loss (the paper's sum) when both
    ``labels`` and ``next_sentence_label`` are given; with only one of them, that one.
    """

    has_pooler = True

    def __init__(self, config: BertConfig | None = None, causal: bool = False):
        super().__init__(config, causal)
        self.nsp_head = nn.Linear(self.config.hidden_size, 2)  # on the pooled [CLS] vector
        nn.init.normal_(self.nsp_head.weight, std=self.config.initializer_range)
        nn.init.zeros_(self.nsp_head.bias)

    def encode(self, input_ids, attention_mask=None, token_type_ids=None):
        if self.causal:
            raise ValueError("BertForPreTraining has no causal mode; use BertForMaskedLM")
        return super().encode(input_ids, attention_mask, token_type_ids)

    def forward(
        self, input_ids, attention_mask=None, token_type_ids=None, labels=None,
        next_sentence_label=None,
    ) -> MaskedLMOutput:
        out = self.bert(input_ids, attention_mask, token_type_ids)
        logits = self.lm_head(out.last_hidden_state)  # (batch, seq, vocab)
        nsp_logits = self.nsp_head(out.pooler_output)  # (batch, 2)
        mlm = None if labels is None else masked_lm_loss(logits, _labels_like(labels, logits))
        nsp = None
        if next_sentence_label is not None:
            target = _next_sentence_labels(next_sentence_label, nsp_logits)
            nsp = F.cross_entropy(nsp_logits, target)
        parts = [part for part in (mlm, nsp) if part is not None]
        loss = sum(parts[1:], parts[0]) if parts else None
        return MaskedLMOutput(logits, loss, nsp_logits, mlm, nsp, out.last_hidden_state)


def write_hf_folder(folder, hf_config: dict, state: dict, tokenizer=None) -> Path:
    """A checkpoint folder in the Hugging Face layout: config.json, model.safetensors, and
    vocab.txt when a tokenizer is given."""
    import json

    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(hf_config, indent=2) + "\n"
    (folder / "config.json").write_text(text, encoding="utf-8")
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    if tokenizer is not None:
        vocab = "\n".join(tokenizer.ids_to_tokens) + "\n"
        (folder / "vocab.txt").write_text(vocab, encoding="utf-8")
    return folder


def _labels_like(labels, logits: torch.Tensor) -> torch.Tensor:
    """Labels as a long tensor of shape (batch, seq), checked against the logits."""
    labels = torch.as_tensor(labels, device=logits.device).long()
    if tuple(labels.shape) != tuple(logits.shape[:-1]):
        raise ValueError(
            f"labels must have the shape of input_ids {tuple(logits.shape[:-1])}, "
            f"got {tuple(labels.shape)}"
        )
    return labels


def _next_sentence_labels(labels, nsp_logits: torch.Tensor) -> torch.Tensor:
    """Next-sentence labels as a long tensor of shape (batch,): 0 = B follows A, 1 = random B."""
    labels = torch.as_tensor(labels, device=nsp_logits.device)
    batch = nsp_logits.shape[0]
    if labels.dim() == 0 and batch == 1:
        labels = labels.reshape(1)  # () -> (1,): one pair, one label
    if tuple(labels.shape) != (batch,):
        raise ValueError(
            f"next_sentence_label must hold one label per pair, shape ({batch},), "
            f"got {tuple(labels.shape)}"
        )
    if labels.is_floating_point() and not torch.equal(labels, labels.round()):
        raise ValueError("next_sentence_label must hold whole numbers 0 or 1, got fractions")
    labels = labels.long()
    if ((labels != 0) & (labels != 1)).any():
        raise ValueError(
            "next_sentence_label must be 0 (B follows A) or 1 (B is a random span), "
            f"got {sorted(set(labels.tolist()))}"
        )
    return labels


# Hugging Face checkpoint name -> our name, for the heads.
MLM_HEAD_NAME_MAP = {
    "cls.predictions.transform.dense.weight": "lm_head.dense.weight",
    "cls.predictions.transform.dense.bias": "lm_head.dense.bias",
    "cls.predictions.transform.LayerNorm.weight": "lm_head.layer_norm.weight",
    "cls.predictions.transform.LayerNorm.bias": "lm_head.layer_norm.bias",
    "cls.predictions.bias": "lm_head.bias",
    # cls.predictions.decoder.weight is the word-embedding matrix (tied): read from bert.embeddings
}
HEAD_NAME_MAP = {
    **MLM_HEAD_NAME_MAP,
    "cls.seq_relationship.weight": "nsp_head.weight",
    "cls.seq_relationship.bias": "nsp_head.bias",
}

__all__ = [
    "BertForMaskedLM",
    "BertForPreTraining",
    "BertLMHead",
    "MaskedLMOutput",
    "masked_lm_loss",
]
