"""BERT's pre-training heads on the encoder: masked LM and next-sentence prediction (Devlin et al.
2019). The masked-LM head is dense + activation + LayerNorm, then a decoder whose weight IS the
word-embedding matrix (tied), plus a bias per word: the score of word w at a position is the dot
product of the position's vector with w's embedding.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .config import BertConfig
from .files import write_atomic
from .layers import activation_function
from .masking import IGNORE_INDEX, causal_mask
from .model import BertModel, init_bert_weights
from .names import head_model_name_to_ours, ours_to_checkpoint_name
from .validation import as_id_tensor, check_inputs


@dataclass
class MaskedLMOutput:
    """``logits`` (batch, seq, vocab); ``loss`` (0-dim) when labels were given; for pre-training
    ``seq_relationship_logits`` (batch, 2): 0 = "B follows A", 1 = "B is a random sentence"."""

    logits: torch.Tensor
    loss: torch.Tensor | None = None
    seq_relationship_logits: torch.Tensor | None = None
    masked_lm_loss: torch.Tensor | None = None
    next_sentence_loss: torch.Tensor | None = None
    hidden_states: torch.Tensor | None = None  # the encoder's last_hidden_state


def masked_lm_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the labelled positions only (-100: "not chosen"); logits (batch,
    seq, vocab), labels (batch, seq) -> a 0-dim tensor."""
    vocab = logits.shape[-1]
    return F.cross_entropy(
        logits.reshape(-1, vocab),  # (batch * seq, vocab)
        labels.reshape(-1),  # (batch * seq,)
        ignore_index=IGNORE_INDEX)


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
    ``causal=True``: the same layers, each position seeing only itself and its left (BERT never
    does this; the course uses it to show what bidirectional attention buys)."""

    has_pooler = False

    def __init__(self, config: BertConfig | None = None, causal: bool = False):
        super().__init__()
        self.config = config or BertConfig.base()
        self.causal = bool(causal)
        self.bert = BertModel(self.config, add_pooler=self.has_pooler)
        self.lm_head = BertLMHead(self.config, self.bert.embeddings.word_embeddings)
        for part in (self.lm_head.dense, self.lm_head.layer_norm):  # the decoder is the encoder's
            init_bert_weights(part, self.config.initializer_range)

    def encode(self, input_ids, attention_mask=None, token_type_ids=None) -> torch.Tensor:
        """The encoder's vectors (batch, seq, hidden), with the causal mask when ``causal``."""
        inputs = check_inputs(input_ids, attention_mask, token_type_ids, config=self.config,
                              device=self.bert.embeddings.word_embeddings.weight.device)
        if self.causal:  # a (batch, seq, seq) mask through the same forward pass
            ids, keep = inputs.input_ids, inputs.attention_mask  # (batch, seq) each
            seq = ids.shape[1]
            mask = causal_mask(seq, ids.device)[None]  # (1, seq, seq): the left and itself
            if keep is not None:  # no padding as a key either; a padding query sees itself
                mask = mask & keep[:, None, :] | torch.eye(seq, dtype=torch.bool, device=ids.device)
            mask = mask.expand(ids.shape[0], seq, seq)  # (batch, seq, seq)
            return self.bert(ids, mask, inputs.token_type_ids).last_hidden_state
        return self.bert(inputs).last_hidden_state

    def forward(
        self, input_ids, attention_mask=None, token_type_ids=None, labels=None,
        next_sentence_label=None) -> MaskedLMOutput:
        if next_sentence_label is not None:
            raise ValueError(
                "BertForMaskedLM has no next-sentence head; use BertForPreTraining for "
                "next_sentence_label")
        hidden = self.encode(input_ids, attention_mask, token_type_ids)  # (batch, seq, hidden)
        logits = self.lm_head(hidden)  # (batch, seq, vocab)
        loss = None if labels is None else masked_lm_loss(logits, _labels_like(labels, logits))
        return MaskedLMOutput(logits, loss, masked_lm_loss=loss, hidden_states=hidden)

    # ---- loading and saving ----------------------------------------------------------------

    @classmethod
    def from_pretrained(cls, source: str | os.PathLike = "course-mlm"):
        """Load a checkpoint in the Hugging Face layout, heads included (refused without them),
        in eval mode: ``cl.load_pretrained``'s sources plus "course-mlm" (notebook 09's model)
        and "shakespeare-bert" (notebook 09b's)."""
        from .pretrained import read_pretrained
        from .weights import load_checkpoint_into

        # the encoder is checked here; the pooler goes with the next-sentence head, checked next
        folder, config, state = read_pretrained(source)
        model = cls(config)
        model._load_heads(state, folder)  # first, so that a missing head is named as such
        encoder_state = {k: v for k, v in state.items() if not k.startswith("cls.")}
        load_checkpoint_into(model.bert, encoder_state)
        return model.eval()

    def _head_names(self) -> list[str]:
        """Our names of the heads' parameters (the tied decoder weight belongs to the encoder)."""
        return [name for name in self.state_dict()
                if not name.startswith("bert.") and name != "lm_head.decoder.weight"]

    def _load_heads(self, state: dict[str, torch.Tensor], folder: Path) -> None:
        """Copy the heads' tensors (``cls.*``) in; refuse a checkpoint that lacks them."""
        heads = {head_model_name_to_ours(name): tensor for name, tensor in state.items()}
        if "lm_head.bias" not in heads and "cls.predictions.decoder.bias" in state:
            heads["lm_head.bias"] = state["cls.predictions.decoder.bias"]  # another name for it
        missing = [ours_to_checkpoint_name(name) for name in self._head_names()
                   if name not in heads]
        if missing:
            what = "next-sentence" if all(m.startswith("cls.seq") for m in missing) else "masked-LM"
            raise ValueError(
                f"the checkpoint in {folder} has no {what} head (missing: {', '.join(missing)}); "
                f"it holds an encoder only. {type(self).__name__} needs a checkpoint saved with "
                "its pre-training heads, e.g. bert-base-uncased or 'course-mlm'; for the encoder "
                "alone use cl.load_pretrained")
        ours = self.state_dict()
        with torch.no_grad():
            for mine in self._head_names():
                if tuple(heads[mine].shape) != tuple(ours[mine].shape):
                    raise ValueError(
                        f"{ours_to_checkpoint_name(mine)} has shape {tuple(heads[mine].shape)} "
                        f"in the checkpoint, the model expects {tuple(ours[mine].shape)}")
                ours[mine].copy_(heads[mine])

    def checkpoint_state(self) -> dict[str, torch.Tensor]:
        """Our weights under Hugging Face's names (the tied decoder weight is written once)."""
        from .weights import ours_to_checkpoint_state

        state = {f"bert.{k}": v for k, v in ours_to_checkpoint_state(self.bert).items()}
        ours = self.state_dict()
        state.update({ours_to_checkpoint_name(name): ours[name] for name in self._head_names()})
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
    """BERT as pre-trained: masked LM on every token, next-sentence prediction on the pooler;
    ``loss`` is the sum of the two losses whose labels were given (the paper's sum)."""

    has_pooler = True

    def __init__(self, config: BertConfig | None = None, causal: bool = False):
        super().__init__(config, causal)
        self.nsp_head = nn.Linear(self.config.hidden_size, 2)  # on the pooled [CLS] vector
        init_bert_weights(self.nsp_head, self.config.initializer_range)

    def encode(self, input_ids, attention_mask=None, token_type_ids=None):
        if self.causal:
            raise ValueError("BertForPreTraining has no causal mode; use BertForMaskedLM")
        return super().encode(input_ids, attention_mask, token_type_ids)

    def forward(
        self, input_ids, attention_mask=None, token_type_ids=None, labels=None,
        next_sentence_label=None) -> MaskedLMOutput:
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
    vocab.txt when a tokenizer is given.

    Every file is made in memory first, then each replaces its old version at once
    (``write_atomic``): a failure, or a kernel stopped mid-save, leaves the files already there
    as they were, never half a file."""
    import json

    from safetensors.torch import save

    folder = Path(folder)
    files = {"model.safetensors": save(state, metadata={"format": "pt"})}
    if tokenizer is not None:
        files["vocab.txt"] = "\n".join(tokenizer.ids_to_tokens) + "\n"
    files["config.json"] = json.dumps(hf_config, indent=2) + "\n"  # last: new config, new weights
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        write_atomic(folder / name, data)
    return folder


def _labels_like(labels, logits: torch.Tensor) -> torch.Tensor:
    """Masked-LM labels as a long tensor of shape (batch, seq), checked against the logits:
    token IDs in [0, vocab) at the positions to predict, -100 elsewhere, at least one to predict."""
    labels = as_id_tensor(labels, "labels").to(logits.device)  # integers only: floats refused
    if tuple(labels.shape) != tuple(logits.shape[:-1]):
        raise ValueError(
            f"labels must have the shape of input_ids {tuple(logits.shape[:-1])}, "
            f"got {tuple(labels.shape)}"
        )
    chosen = labels != IGNORE_INDEX  # (batch, seq)
    if not bool(chosen.any()):
        raise ValueError("every label is -100 (nothing to predict), so the loss would be 0/0; "
                         "keep the token ID at the positions the model must recover")
    wrong = labels[chosen & ((labels < 0) | (labels >= logits.shape[-1]))]
    if wrong.numel():
        raise ValueError(f"labels must be token IDs in [0, {logits.shape[-1]}) or -100 "
                         f"(ignored), got {int(wrong[0])}")
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
            f"got {tuple(labels.shape)}")
    if labels.is_floating_point() and not torch.equal(labels, labels.round()):
        raise ValueError("next_sentence_label must hold whole numbers 0 or 1, got fractions")
    labels = labels.long()
    if ((labels != 0) & (labels != 1)).any():
        raise ValueError(
            "next_sentence_label must be 0 (B follows A) or 1 (B is a random span), "
            f"got {sorted(set(labels.tolist()))}")
    return labels


__all__ = [
    "BertForMaskedLM", "BertForPreTraining", "BertLMHead", "MaskedLMOutput", "masked_lm_loss"]
