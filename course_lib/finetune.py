"""Fine-tuning for classification, BERT's recipe (Devlin et al. 2019, section 4, appendix A.3).

One linear layer on the pooled [CLS] vector; *everything* trained, encoder included, with AdamW,
a learning rate that warms up then decays linearly to zero, dropout on, gradients clipped to 1.
Inputs are ``tokenizer.encode_batch(texts)``'s padded (n, seq) tensors.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from .model import BertModel, BertPooler
from .pooling import global_average_pooling, global_max_pooling
from .validation import (
    INT64_MAX,
    as_id_tensor,
    check_attention_mask,
    number_of_classes,
    real_number,
    whole_number,
)

POOLINGS = ("pooler", "cls", "average")
MAX_SEED = INT64_MAX  # torch.manual_seed takes a 64-bit integer


# ---------------------------------------------------------------- checks of what a learner chooses
# (the numbers, such as steps or lr: whole_number and real_number, in validation.py)


def checked_batch(input_ids, attention_mask) -> tuple[torch.Tensor, torch.Tensor]:
    """IDs and mask of a data set, (n, seq) each with n >= 1; the mask holds only 0s and 1s."""
    ids = as_id_tensor(input_ids)
    if ids.dim() != 2:
        raise ValueError(f"input_ids must be (n, seq), got shape {tuple(ids.shape)}")
    if ids.shape[0] == 0 or ids.shape[1] == 0:
        raise ValueError("the data set is empty: input_ids has shape "
                         f"{tuple(ids.shape)}, at least one sentence is needed")
    return ids, check_attention_mask(attention_mask, ids).long()  # (n, seq) each


def class_labels(labels, n: int, num_classes: int | None) -> torch.Tensor:
    """One class number per sentence: integers of shape (n,), each in [0, num_classes)."""
    labels = as_id_tensor(labels, "labels")  # integers only: floats and bools are refused
    if tuple(labels.shape) != (n,):
        raise ValueError(f"labels must be of shape ({n},), one class per sentence, got "
                         f"{tuple(labels.shape)}")
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or (num_classes is not None and high >= num_classes):
        bad = low if low < 0 else high
        limit = f"[0, {num_classes})" if num_classes is not None else "0 or more"
        raise ValueError(f"labels must be class numbers in {limit}, got {bad} (every "
                         "sentence needs a class; -100 is for masked-LM labels only)")
    return labels


def num_classes_of(model: nn.Module) -> int | None:
    """How many classes the model's head scores, when it has a ``classifier`` layer."""
    return getattr(getattr(model, "classifier", None), "out_features", None)


class TrainingDiverged(FloatingPointError):
    """The loss or the gradient stopped being a finite number; the step that saw it changed no
    weight (the model is as it was before that step)."""


def clip_or_stop(parameters: list[nn.Parameter], loss: float, max_grad_norm: float | None,
                 lr: float, step: int | str = "this") -> None:
    """Clip the gradient norm to ``max_grad_norm`` (None: no clipping); before any update,
    raise :class:`TrainingDiverged` when the loss or the gradient norm is not finite."""
    limit = math.inf if max_grad_norm is None else max_grad_norm
    norm = float(nn.utils.clip_grad_norm_(parameters, limit))  # the norm before clipping
    if math.isfinite(loss) and math.isfinite(norm):
        return
    for parameter in parameters:
        parameter.grad = None
    clipping = ("no clipping (max_grad_norm=None) let one large gradient through"
                if max_grad_norm is None else f"gradients clipped to norm {max_grad_norm:g}")
    raise TrainingDiverged(
        f"training stopped at step {step}: the loss is {loss:g} and the gradient norm {norm:g}, "
        f"not finite numbers, so the weights were left as they were before this step. Likely "
        f"cause: the learning rate (here {lr:g}) is too high (try 10 times smaller); {clipping}")


class SentenceClassifier(nn.Module):
    """The encoder with a head: sentence vector -> dropout -> Linear -> scores (batch, classes).

    ``pooling``: "pooler" (BERT's: tanh(dense([CLS])), new and BERT-initialised if the model has
    none), "cls" (the raw [CLS] vector) or "average" (the mean of the real tokens' vectors).
    """

    def __init__(self, encoder: BertModel, num_classes: int, pooling: str = "pooler",
                 dropout: float | None = None):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        number_of_classes("num_classes", num_classes)
        config = encoder.config
        self.encoder = encoder
        self.pooling = pooling
        if pooling == "pooler" and encoder.pooler is None:
            encoder.pooler = BertPooler(config)
            nn.init.normal_(encoder.pooler.dense.weight, std=config.initializer_range)
            nn.init.zeros_(encoder.pooler.dense.bias)
        dropout = config.hidden_dropout if dropout is None else real_number("dropout", dropout,
                                                                             0.0, 1.0)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(config.hidden_size, num_classes)  # (hidden,) -> (classes,)
        nn.init.normal_(self.classifier.weight, std=config.initializer_range)
        nn.init.zeros_(self.classifier.bias)

    def sentence_vector(self, input_ids: torch.Tensor,
                        attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        """One vector per sentence, (batch, hidden), chosen by ``self.pooling``."""
        out = self.encoder(input_ids, attention_mask=attention_mask)
        if self.pooling == "pooler":
            return out.pooler_output  # (batch, hidden)
        if self.pooling == "cls":
            return out.last_hidden_state[:, 0]  # (batch, hidden)
        return global_average_pooling(out.last_hidden_state, attention_mask)  # (batch, hidden)

    def forward(self, input_ids: torch.Tensor,
                attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        vector = self.sentence_vector(input_ids, attention_mask)  # (batch, hidden)
        return self.classifier(self.dropout(vector))  # (batch, num_classes)


# ---------------------------------------------------------------- optimiser and schedule


def make_optimizer(model: nn.Module, lr: float, weight_decay: float = 0.01
                   ) -> torch.optim.AdamW:
    """AdamW as BERT uses it: weight decay on the weight matrices and embedding tables only,
    never on biases or LayerNorm parameters (the 1-D tensors)."""
    decay = [p for p in model.parameters() if p.requires_grad and p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.dim() < 2]
    lr = real_number("lr", lr, low_allowed=False)
    weight_decay = real_number("weight_decay", weight_decay)
    groups = [{"params": decay, "weight_decay": weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    try:  # the fused kernel does one pass over all parameters: several times faster on a CPU
        return torch.optim.AdamW(groups, lr=lr, fused=True)
    except (RuntimeError, TypeError):  # older PyTorch, or a device without the fused kernel
        return torch.optim.AdamW(groups, lr=lr)


def warmup_linear_decay(optimizer: torch.optim.Optimizer, warmup_steps: int, total_steps: int
                        ) -> torch.optim.lr_scheduler.LambdaLR:
    """Learning rate x factor(step): up linearly over ``warmup_steps`` (so the first noisy updates
    cannot wreck the pretrained weights), then down linearly to 0 at ``total_steps``."""
    total_steps = whole_number("total_steps", total_steps)
    warmup_steps = whole_number("warmup_steps", warmup_steps, 0, total_steps)

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / (warmup_steps + 1)  # never exactly 0: the first step moves
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


# ---------------------------------------------------------------- one step and the loop


def training_step(model: nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                  labels: torch.Tensor, optimizer: torch.optim.Optimizer,
                  scheduler=None, max_grad_norm: float | None = 1.0,
                  step: int | str = "this") -> float:
    """One update of every trainable parameter on one mini-batch; returns the loss. A loss or
    gradient that is not finite stops it before any weight changes (:class:`TrainingDiverged`)."""
    model.train()  # dropout on: an evaluation may have left the model in eval mode
    optimizer.zero_grad()  # PyTorch *adds* new gradients to the old ones otherwise
    scores = model(input_ids, attention_mask)  # (batch, num_classes)
    loss = F.cross_entropy(scores, labels)
    loss.backward()
    parameters = [p for p in model.parameters() if p.grad is not None]
    clip_or_stop(parameters, loss.item(), max_grad_norm, optimizer.param_groups[0]["lr"], step)
    optimizer.step()
    if scheduler is not None:
        scheduler.step()
    return loss.item()


@dataclass
class TrainingSetup:
    """How to train: the same setup (steps, batch size) is the same budget for every model."""

    steps: int = 60
    batch_size: int = 16
    lr: float = 5e-5
    warmup_fraction: float = 0.1
    weight_decay: float = 0.01
    max_grad_norm: float | None = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        """Every setting within its rule, or an error naming it (called again before training,
        since a field may be changed after the setup was made)."""
        whole_number("steps", self.steps)
        whole_number("batch_size", self.batch_size)
        real_number("lr", self.lr, low_allowed=False)
        real_number("warmup_fraction", self.warmup_fraction, 0.0, 1.0)
        real_number("weight_decay", self.weight_decay)
        if self.max_grad_norm is not None:
            real_number("max_grad_norm", self.max_grad_norm, low_allowed=False)
        whole_number("seed", self.seed, 0, MAX_SEED)


@dataclass
class TrainingHistory:
    """What happened during training: one loss and one learning rate per step."""

    losses: list[float] = field(default_factory=list)
    learning_rates: list[float] = field(default_factory=list)
    seconds: float = 0.0


def trim_padding(input_ids: torch.Tensor, attention_mask: torch.Tensor
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """Drop the columns that are padding in every row: (b, seq) -> (b, longest real length)."""
    longest = int(attention_mask.sum(dim=1).max())
    return input_ids[:, :longest], attention_mask[:, :longest]  # (b, longest) each


def shuffled_batches(n: int, batch_size: int, steps: int, generator: torch.Generator):
    """``steps`` mini-batches of example indices: passes over a fresh random order of all ``n``
    examples, cut into batches (a short last batch of a pass is kept)."""
    n, batch_size = whole_number("n", n), whole_number("batch_size", batch_size)
    steps = whole_number("steps", steps, 0)
    produced = 0
    while produced < steps:
        order = torch.randperm(n, generator=generator)  # (n,)
        for start in range(0, n, batch_size):
            if produced == steps:
                return
            yield order[start : start + batch_size]  # (<= batch_size,)
            produced += 1


def train_classifier(model: nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                     labels: torch.Tensor, setup: TrainingSetup | None = None,
                     progress: bool = True, description: str = "training") -> TrainingHistory:
    """Train all of ``model`` for ``setup.steps`` mini-batches of (n, seq) inputs and (n,) labels;
    the same ``setup.seed`` gives the same run. Leaves the model in eval mode."""
    setup = setup or TrainingSetup()
    if not isinstance(setup, TrainingSetup):
        raise TypeError(f"setup must be a TrainingSetup, got {type(setup).__name__}")
    setup.check()
    input_ids, attention_mask = checked_batch(input_ids, attention_mask)  # (n, seq) each
    labels = class_labels(labels, input_ids.shape[0], num_classes_of(model))  # (n,)
    torch.manual_seed(setup.seed)  # dropout masks
    generator = torch.Generator().manual_seed(setup.seed)  # the order of the examples
    optimizer = make_optimizer(model, setup.lr, setup.weight_decay)
    warmup = round(setup.warmup_fraction * setup.steps)
    scheduler = warmup_linear_decay(optimizer, warmup, setup.steps)
    history = TrainingHistory()
    bar = ProgressBar(setup.steps, description, show=progress)
    start = time.perf_counter()
    batches = shuffled_batches(len(labels), setup.batch_size, setup.steps, generator)
    try:
        for step, chosen in enumerate(batches, start=1):
            ids, mask = trim_padding(input_ids[chosen], attention_mask[chosen])  # (b, seq') each
            history.learning_rates.append(optimizer.param_groups[0]["lr"])
            loss = training_step(model, ids, mask, labels[chosen], optimizer, scheduler,
                                 setup.max_grad_norm, step=f"{step} of {setup.steps}")
            history.losses.append(loss)
            bar.update(f"loss {loss:.3f}")
    finally:
        model.eval()
    history.seconds = time.perf_counter() - start
    bar.close(f"final loss {history.losses[-1]:.3f}, {history.seconds:.0f} s")
    return history


# ---------------------------------------------------------------- evaluation


@torch.no_grad()
def predict(model: nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor,
            batch_size: int = 64) -> torch.Tensor:
    """The predicted class of every example, (n,): eval mode (no dropout), gradients off."""
    input_ids, attention_mask = checked_batch(input_ids, attention_mask)  # (n, seq) each
    batch_size = whole_number("batch_size", batch_size)
    model.eval()
    out = []
    for start in range(0, input_ids.shape[0], batch_size):
        ids, mask = trim_padding(input_ids[start : start + batch_size],
                                 attention_mask[start : start + batch_size])  # (b, seq')
        out.append(model(ids, mask).argmax(dim=1))  # (b,)
    return torch.cat(out)  # (n,)


def accuracy(model: nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor,
             labels: torch.Tensor) -> float:
    """The fraction of examples whose predicted class is the label."""
    predicted = predict(model, input_ids, attention_mask)  # (n,)
    labels = class_labels(labels, len(predicted), num_classes_of(model))  # (n,)
    return (predicted == labels).float().mean().item()


@torch.no_grad()
def sentence_vectors(encoder, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                     batch_size: int = 64) -> dict[str, torch.Tensor]:
    """Frozen features of every sentence from an encoder (a ``BertModel``, or the engine
    ``InferenceBert`` built from one): {"CLS", "average", "max"} -> (n, hidden) each."""
    input_ids, attention_mask = checked_batch(input_ids, attention_mask)  # (n, seq) each
    batch_size = whole_number("batch_size", batch_size)
    if isinstance(encoder, nn.Module):
        encoder.eval()  # no dropout: the features of a sentence never change
    parts: dict[str, list[torch.Tensor]] = {"CLS": [], "average": [], "max": []}
    for start in range(0, input_ids.shape[0], batch_size):
        ids, mask = trim_padding(input_ids[start : start + batch_size],
                                 attention_mask[start : start + batch_size])  # (b, seq')
        hidden = encoder(ids, attention_mask=mask).last_hidden_state  # (b, seq', hidden)
        parts["CLS"].append(hidden[:, 0])  # (b, hidden)
        parts["average"].append(global_average_pooling(hidden, mask))  # (b, hidden)
        parts["max"].append(global_max_pooling(hidden, mask))  # (b, hidden)
    return {name: torch.cat(chunks) for name, chunks in parts.items()}  # (n, hidden) each


# ---------------------------------------------------------------- a progress bar


class ProgressBar:
    """A one-line text bar, redrawn in place: in a notebook's output, or on a terminal's stderr."""

    WIDTH = 30

    def __init__(self, total: int, description: str = "", show: bool = True):
        self.total, self.done, self.description = max(1, int(total)), 0, description
        self.show = show
        self._handle = None
        try:
            from IPython import get_ipython
            from IPython.display import Pretty, display

            if show and get_ipython() is not None and "IPKernelApp" in get_ipython().config:
                self._handle = display(Pretty(self._line("")), display_id=True)
        except ImportError:  # no IPython: a terminal
            pass

    def _line(self, note: str) -> str:
        filled = math.floor(self.WIDTH * self.done / self.total)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        return f"{self.description} [{bar}] {self.done}/{self.total} {note}".rstrip()

    def update(self, note: str = "") -> None:
        """One more step done; ``note`` is shown after the counter (e.g. the loss)."""
        self.done = min(self.total, self.done + 1)
        self._show(note)

    def close(self, note: str = "") -> None:
        self._show(note, end="\n")

    def _show(self, note: str, end: str = "") -> None:
        if not self.show:
            return
        if self._handle is not None:
            from IPython.display import Pretty

            self._handle.update(Pretty(self._line(note)))
        else:
            sys.stderr.write("\r" + self._line(note) + end)
            sys.stderr.flush()


__all__ = [
    "POOLINGS",
    "ProgressBar",
    "SentenceClassifier",
    "TrainingDiverged",
    "TrainingHistory",
    "TrainingSetup",
    "accuracy",
    "make_optimizer",
    "predict",
    "sentence_vectors",
    "shuffled_batches",
    "train_classifier",
    "training_step",
    "trim_padding",
    "warmup_linear_decay",
]
