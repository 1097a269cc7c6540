"""Pre-train a small BERT with masked LM, and ask it to fill in hidden words.

The course corpus and the probes that measure what it learned are in ``course_kit.probes``.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from .finetune import MAX_SEED, ProgressBar, clip_or_stop, real_number, whole_number
from .heads import BertForMaskedLM, BertForPreTraining
from .masking import IGNORE_INDEX, mask_tokens
from .tokenizer import WordPieceTokenizer

DEFAULT_WARMUP = 50  # steps of warm-up when train_masked_lm is not told


@dataclass
class TrainingRun:
    """What ``train_masked_lm`` did: the masked-LM loss of every step (and the sentence-order
    loss, when trained with pairs), each evaluation's result, and how long it took."""

    losses: list[float] = field(default_factory=list)
    order_losses: list[float] = field(default_factory=list)
    evaluations: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    steps: int = 0


def train_masked_lm(
    model: BertForMaskedLM,
    tokenizer: WordPieceTokenizer,
    texts: list[str] | list[tuple[str, str]],
    steps: int = 600,
    batch_size: int = 64,
    learning_rate: float = 2e-3,
    warmup: int | None = None,
    seed: int = 0,
    progress: bool = True,
    threads: int | None = 1,
    max_length: int | None = None,
    evaluate: Callable[[BertForMaskedLM], dict] | None = None,
    every: int = 100,
) -> TrainingRun:
    """Masked-LM training: each step draws a batch, masks 15% (80/10/10) anew, one AdamW step,
    with BERT's warm-up (``warmup`` steps; default 50, or all the steps of a shorter run) and
    linear decay, gradients clipped to 1. Leaves the model in eval mode.

    ``texts`` of (a, b) pairs train sentence-order prediction too (ALBERT's task, on BERT's
    next-sentence head; ``model`` must be a ``BertForPreTraining``): each pair is shown as
    ``[CLS] a [SEP] b [SEP]``, or swapped with label 1, half the time. ``max_length`` cuts longer
    inputs. ``evaluate(model)``, if given, runs before step 1, every ``every`` steps and at the
    end, in eval mode; its dicts go to ``run.evaluations`` with their "step".
    ``threads=1`` trains on one thread (restored afterwards): matrices this small make two threads
    wait for each other more than they compute. ``None`` keeps PyTorch's setting.
    """
    pairs = _check_texts(texts)
    if pairs and not isinstance(model, BertForPreTraining):
        raise TypeError("sentence pairs train sentence-order prediction on the next-sentence "
                        f"head: give a BertForPreTraining, not a {type(model).__name__}")
    steps, batch_size = whole_number("steps", steps), whole_number("batch_size", batch_size)
    learning_rate = real_number("learning_rate", learning_rate, low_allowed=False)
    warmup = min(DEFAULT_WARMUP, steps) if warmup is None else whole_number("warmup", warmup, 0,
                                                                             steps)
    seed = whole_number("seed", seed, 0, MAX_SEED)
    every = whole_number("every", every)
    if threads is not None:
        threads = whole_number("threads", threads)
    if evaluate is not None and not callable(evaluate):
        raise TypeError(f"evaluate must be a function of the model, got {type(evaluate).__name__}")
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        batches = _Batches(tokenizer, texts, pairs, max_length, seed)
        return _train(model, batches, steps, batch_size, learning_rate, warmup, progress,
                      evaluate, every)
    finally:
        torch.set_num_threads(before)


def _check_texts(texts) -> bool:
    """Whether ``texts`` are (a, b) pairs; a clear error unless sentences or pairs of them."""
    def sentence(item) -> bool:
        return isinstance(item, str)

    def pair(item) -> bool:
        return isinstance(item, tuple) and len(item) == 2 and all(map(sentence, item))

    if isinstance(texts, str) or not isinstance(texts, (list, tuple)) or not texts:
        raise ValueError("texts must be a non-empty list of sentences (strings) or of (a, b) "
                         f"tuples of them, got {type(texts).__name__} {str(texts)[:40]!r}")
    if all(map(sentence, texts)):
        return False
    if all(map(pair, texts)):
        return True
    raise ValueError("texts must be all sentences (strings) or all (a, b) tuples of two "
                     f"sentences; the first item is {str(texts[0])[:40]!r}")


class _Batches:
    """Every text (or pair, in order and then swapped) encoded once; ``draw`` gives a random
    batch, masked anew, from one seeded stream."""

    def __init__(self, tokenizer, texts, pairs: bool, max_length, seed: int):
        self.tokenizer, self.pairs, self.count = tokenizer, pairs, len(texts)
        self.generator = torch.Generator().manual_seed(seed)
        if pairs:  # rows 0..count-1: (a, b); rows count..2 count-1: the same pairs as (b, a)
            a, b = [first for first, _ in texts], [second for _, second in texts]
            self.encoded = tokenizer.encode_batch(a + b, b + a, max_length=max_length)
        else:
            self.encoded = tokenizer.encode_batch(list(texts), max_length=max_length)

    def draw(self, batch_size: int, tries: int = 20) -> dict[str, torch.Tensor]:
        """input_ids, attention_mask, token_type_ids, labels (and the order label for pairs),
        with at least one token to predict (a batch where the 15% draw chose nothing has no loss:
        it is drawn again, a bounded number of times)."""
        for _ in range(tries):
            rows = torch.randint(self.count, (batch_size,), generator=self.generator)  # (batch,)
            if self.pairs:  # swap half of the pairs: take those rows from the swapped half
                order = torch.randint(2, (batch_size,), generator=self.generator)  # (batch,)
                rows = rows + order * self.count
            batch = {key: value[rows] for key, value in self.encoded.items()}  # (batch, seq)
            masked, labels = mask_tokens(batch["input_ids"], self.tokenizer, 0.15, self.generator)
            if bool((labels != IGNORE_INDEX).any()):
                batch.update(input_ids=masked, labels=labels)
                if self.pairs:
                    batch["next_sentence_label"] = order
                return batch
        raise ValueError(f"{tries} batches in a row had no word to mask: the texts hold (almost) "
                         "only special tokens or empty lines; give sentences with words")


def _train(model, batches: _Batches, steps, batch_size, learning_rate, warmup, progress,
           evaluate, every):
    """The loop of ``train_masked_lm``."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.01)

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (steps - step) / max(1, steps - warmup))

    def evaluate_at(step: int) -> None:
        model.eval()
        with torch.no_grad():
            run.evaluations.append({"step": step, **evaluate(model)})
        model.train()

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    run = TrainingRun()
    bar = ProgressBar(steps, "training", show=progress)
    start = time.perf_counter()
    parameters = [p for p in model.parameters() if p.requires_grad]
    model.train()
    try:
        if evaluate is not None:
            evaluate_at(0)
        for step in range(1, steps + 1):
            out = model(**batches.draw(batch_size))
            loss = out.loss  # masked LM, plus sentence order for pairs
            optimizer.zero_grad()
            loss.backward()
            clip_or_stop(parameters, loss.item(), 1.0, optimizer.param_groups[0]["lr"],
                         f"{step} of {steps}")
            optimizer.step()
            scheduler.step()
            run.losses.append(out.masked_lm_loss.item())
            if batches.pairs:
                run.order_losses.append(out.next_sentence_loss.item())
            if evaluate is not None and (step % every == 0 or step == steps):
                evaluate_at(step)
            bar.update(f"loss {run.losses[-1]:.2f}")
    finally:
        model.eval()
    bar.close(f"final loss {run.losses[-1]:.2f}")
    run.seconds, run.steps = time.perf_counter() - start, steps
    return run


@torch.no_grad()
def validation_loss(model: BertForMaskedLM, tokenizer: WordPieceTokenizer, texts: list[str],
                    seed: int = 0, batch_size: int = 128, max_length: int | None = None) -> float:
    """The mean masked-LM loss on ``texts`` with the same masks at every call (drawn from
    ``seed``), so that two calls, or two models, are compared on the same hidden words.
    ``exp`` of it is the perplexity on masked tokens."""
    if _check_texts(texts):
        raise ValueError("validation_loss takes sentences, not (a, b) pairs")
    generator = torch.Generator().manual_seed(whole_number("seed", seed, 0, MAX_SEED))
    batch_size = whole_number("batch_size", batch_size)
    total, count = 0.0, 0
    was_training = model.training
    model.eval()
    try:
        for first in range(0, len(texts), batch_size):
            batch = tokenizer.encode_batch(texts[first:first + batch_size], max_length=max_length)
            masked, labels = mask_tokens(batch["input_ids"], tokenizer, 0.15, generator)
            logits = model(masked, batch["attention_mask"]).logits  # (batch, seq, vocab)
            chosen = labels != IGNORE_INDEX  # (batch, seq)
            total += torch.nn.functional.cross_entropy(
                logits[chosen], labels[chosen], reduction="sum").item()
            count += int(chosen.sum())
    finally:
        model.train(was_training)
    if count == 0:
        raise ValueError("no token of texts was masked: give more (or longer) sentences")
    return total / count


def token_position(tokenizer: WordPieceTokenizer, sentence: str, word_position: int) -> int:
    """Where word number ``word_position`` of the sentence starts in its token IDs ([CLS] = 0)."""
    words = sentence.split()
    return 1 + sum(len(tokenizer.tokenize(word)) for word in words[:word_position])


@torch.no_grad()
def predict_masked(model: BertForMaskedLM, tokenizer: WordPieceTokenizer, sentence: str,
                   word_position: int, k: int = 1) -> list[str]:
    """The model's top-k tokens for word number ``word_position`` of the sentence, hidden
    (words counted from 0, split at spaces)."""
    if not isinstance(sentence, str) or not sentence.split():
        raise ValueError(f"sentence must be a string with at least one word, got {sentence!r}")
    words = len(sentence.split())
    word_position = whole_number("word_position", word_position, 0, words - 1)
    ids = torch.tensor([tokenizer.encode(sentence).input_ids])  # (1, seq)
    at = token_position(tokenizer, sentence, word_position)
    if at >= ids.shape[1] - 1:  # past the end: the sentence was cut to the model's length
        raise ValueError(f"word {word_position} lies beyond the {ids.shape[1]} tokens the "
                         "tokenizer keeps of this sentence; choose an earlier word")
    ids[0, at] = tokenizer.mask_token_id
    return [word for word, _ in _top_k(model, tokenizer, ids, at, k)]


@torch.no_grad()
def fill_in_the_blank(model: BertForMaskedLM, tokenizer: WordPieceTokenizer, text: str,
                      k: int = 3) -> list[tuple[str, float]]:
    """Top-k words (with probabilities) for the first [MASK] of ``text``."""
    ids = torch.tensor([tokenizer.encode(text).input_ids])  # (1, seq)
    where = (ids[0] == tokenizer.mask_token_id).nonzero()
    if len(where) == 0:
        raise ValueError(f"text has no [MASK] to fill in: {text!r}")
    return _top_k(model, tokenizer, ids, where[0].item(), k)


def _top_k(model, tokenizer, ids: torch.Tensor, at: int, k: int) -> list[tuple[str, float]]:
    """The k likeliest tokens at position ``at`` of ``ids`` (1, seq), with their probabilities."""
    k = whole_number("k", k, 1, tokenizer.vocab_size)
    top = model(ids).logits[0, at].softmax(-1).topk(k)  # (vocab,) -> the k best
    words = tokenizer.convert_ids_to_tokens(top.indices.tolist())
    return list(zip(words, top.values.tolist(), strict=True))


def perplexity(losses: list[float], last: int = 50) -> float:
    """exp of the mean loss over the last steps: "how many words the model hesitates between"."""
    last = whole_number("last", last)
    tail = list(losses)[-last:]
    if not tail:
        raise ValueError("perplexity needs at least one loss; losses is empty (train first)")
    if not all(isinstance(x, numbers.Real) and math.isfinite(x) for x in tail):
        raise ValueError("losses must be finite numbers (a run that diverged has no perplexity)")
    return math.exp(sum(tail) / len(tail))


__all__ = [
    "TrainingRun",
    "fill_in_the_blank",
    "predict_masked",
    "train_masked_lm",
    "validation_loss",
]
