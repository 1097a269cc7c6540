"""Checker for notebook 10 (fine-tuning the block): one training step.

The learner's ``training_step(model, input_ids, attention_mask, labels, optimizer,
max_grad_norm)`` runs two steps in a row on a tiny classifier that an evaluation has just left
in eval mode. The checker replays the right step, and each typical mistake, on copies of the same
model with the same dropout masks, and compares the update every parameter received.

Plain SGD with learning rate 1 makes the update equal to the gradient that was used, so every
mistake shows: forgetting ``zero_grad`` adds the previous step's gradient, ``model.eval()`` left on
switches dropout off, and a missing (or misplaced) clip leaves the gradient too long.
"""

from __future__ import annotations

import copy
import functools
import math

import torch
import torch.nn.functional as F
from torch import nn

from course_lib.config import BertConfig
from course_lib.finetune import SentenceClassifier
from course_lib.model import BertModel

from ._learner import call_learner, clones, seeded
from .core import CheckReport, compare_tensors
from .report import recorded

MAX_GRAD_NORM = 0.05  # well below the raw gradient norm of the checker's batch, so clipping acts
STEPS = 2
DROPOUT_SEEDS = (301, 302)  # the dropout masks of step 1 and step 2


def _tiny_classifier() -> SentenceClassifier:
    """2 layers, 16 wide, dropout 0.3 (strong, so that train and eval mode differ clearly)."""
    config = BertConfig(vocab_size=40, hidden_size=16, num_layers=2, num_heads=2,
                        intermediate_size=32, max_position_embeddings=16, hidden_dropout=0.3)
    with seeded(30):
        return SentenceClassifier(BertModel(config), num_classes=3, pooling="pooler")


def _batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """4 sentences of 8, 6, 5 and 8 tokens, padded to 8, and their labels."""
    with seeded(31):
        ids = torch.randint(5, 40, (4, 8))  # (batch, seq)
    mask = torch.tensor([[1] * 8, [1] * 6 + [0] * 2, [1] * 5 + [0] * 3, [1] * 8])
    ids[:, 0] = 2  # [CLS] of this tiny vocabulary
    ids[mask == 0] = 0  # [PAD]
    labels = torch.tensor([0, 2, 1, 2])
    return ids, mask, labels


def _flat(model: nn.Module) -> torch.Tensor:
    """All parameters as one vector, (n_parameters,)."""
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


@functools.cache
def _replay(mistake: str | None) -> tuple[tuple[torch.Tensor, float], ...]:
    """Run STEPS steps the right way (``mistake=None``) or with one mistake; return, per step,
    the update every parameter received and the loss (computed once, then cached)."""
    model = _tiny_classifier()
    model.eval()  # as the learner's model: an evaluation has just run
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    ids, mask, labels = _batch()
    results = []
    for seed in DROPOUT_SEEDS:
        before = _flat(model)
        if mistake != "eval mode":
            model.train()
        if mistake != "no zero_grad":
            optimizer.zero_grad()
        with seeded(seed):
            loss = F.cross_entropy(model(ids, mask), labels)
        loss.backward()
        if mistake not in ("no clipping", "clip after step"):
            nn.utils.clip_grad_norm_(model.parameters(), MAX_GRAD_NORM)
        if mistake != "no step":
            optimizer.step()
        results.append((before - _flat(model), loss.item()))  # update = lr * gradient used
    return tuple(results)  # cached: the same for every learner, never modified


MISTAKES = {
    "no zero_grad": "the gradients of the previous step were still there: PyTorch adds each "
                    "backward() to .grad, so call optimizer.zero_grad() (or model.zero_grad()) "
                    "before loss.backward()",
    "eval mode": "the model stayed in eval mode (dropout off): an evaluation had left it there, "
                 "so call model.train() at the start of the step",
    "no clipping": "the gradients were not clipped before the update: call "
                   "torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm) after "
                   "loss.backward() and before optimizer.step()",
    "no step": "the parameters did not change: call optimizer.step() after clipping",
}


@recorded
def check_training_step(training_step) -> CheckReport:
    """``training_step(model, input_ids, attention_mask, labels, optimizer, max_grad_norm)``:
    dropout on, fresh gradients, cross-entropy, backward, clipped gradients, one update; returns
    the loss (a number or a 0-d tensor)."""
    report = CheckReport("one training step")
    model = _tiny_classifier()
    model.eval()  # an evaluation has just run: the step must switch dropout back on
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    ids, mask, labels = _batch()
    right = _replay(None)
    wrong = {why: _replay(mistake) for mistake, why in MISTAKES.items()}
    for step, seed in enumerate(DROPOUT_SEEDS):
        before = _flat(model)
        with seeded(seed):
            ran, loss = call_learner(report, f"training_step (step {step + 1})", training_step,
                                     model, *clones(ids, mask, labels), optimizer, MAX_GRAD_NORM)
        if not ran:
            return report
        if not model.training:
            report.fail(f"step {step + 1}: {MISTAKES['eval mode']}")
        update = before - _flat(model)  # (n_parameters,): lr 1, so the gradient used
        hints = {why: chain[step][0] for why, chain in wrong.items()
                 if not torch.allclose(chain[step][0], right[step][0], atol=1e-6, rtol=0)}
        if not compare_tensors(report, f"step {step + 1}: the update of the parameters", update,
                               right[step][0], atol=1e-6, hints=hints):
            return report
        _check_loss(report, step + 1, loss, right[step][1])
    return report


def _check_loss(report: CheckReport, step: int, loss, expected: float) -> None:
    try:
        value = float(loss.detach() if isinstance(loss, torch.Tensor) else loss)
    except (TypeError, ValueError, RuntimeError):
        report.fail(f"step {step}: return the loss as a number (loss.item()), "
                    f"got {type(loss).__name__}")
        return
    if math.isclose(value, expected, rel_tol=1e-5, abs_tol=1e-6):
        report.ok(f"step {step}: the loss returned is the batch's cross-entropy")
    else:
        report.fail(f"step {step}: returned {value:.4g}, but the batch's cross-entropy was "
                    f"{expected:.4g}: return the loss of this step's forward pass")


def raw_gradient_norm() -> float:
    """The unclipped gradient norm of the checker's first step (the tests assert that it is far
    above MAX_GRAD_NORM, so that a missing clip cannot go unnoticed)."""
    model = copy.deepcopy(_tiny_classifier()).train()
    ids, mask, labels = _batch()
    with seeded(DROPOUT_SEEDS[0]):
        F.cross_entropy(model(ids, mask), labels).backward()
    return math.sqrt(sum(float(p.grad.pow(2).sum()) for p in model.parameters()))


__all__ = ["MAX_GRAD_NORM", "check_training_step", "raw_gradient_norm"]
