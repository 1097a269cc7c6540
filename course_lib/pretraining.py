"""Pre-train a small BERT with masked LM, and ask it to fill in hidden words.

The course corpus and the probes that measure what it learned are in ``course_kit.probes``.
"""

from __future__ import annotations

import math
import numbers
import time
from dataclasses import dataclass, field

import torch

from .finetune import MAX_SEED, ProgressBar, clip_or_stop, real_number, whole_number
from .heads import BertForMaskedLM
from .masking import IGNORE_INDEX, mask_tokens
from .tokenizer import WordPieceTokenizer


@dataclass
class TrainingRun:
    """What ``train_masked_lm`` did: the loss of every step and how long it took."""

    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0
    steps: int = 0


def train_masked_lm(
    model: BertForMaskedLM,
    tokenizer: WordPieceTokenizer,
    texts: list[str],
    steps: int = 600,
    batch_size: int = 64,
    learning_rate: float = 2e-3,
    warmup: int = 50,
    seed: int = 0,
    progress: bool = True,
    threads: int | None = 1,
) -> TrainingRun:
    """Masked-LM training: each step draws a batch, masks 15% (80/10/10) anew, one AdamW step,
    with BERT's warm-up and linear decay and gradients clipped to 1. Leaves the model in eval mode.

    ``threads=1`` trains on one thread (restored afterwards): matrices this small make two threads
    wait for each other more than they compute. ``None`` keeps PyTorch's setting.
    """
    steps, batch_size = whole_number("steps", steps), whole_number("batch_size", batch_size)
    learning_rate = real_number("learning_rate", learning_rate, low_allowed=False)
    warmup = whole_number("warmup", warmup, 0, steps)
    seed = whole_number("seed", seed, 0, MAX_SEED)
    if threads is not None:
        threads = whole_number("threads", threads)
    if isinstance(texts, str) or not texts or not all(isinstance(t, str) for t in texts):
        raise ValueError("texts must be a non-empty list of sentences (strings), got "
                         f"{type(texts).__name__} {str(texts)[:40]!r}")
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _train(model, tokenizer, texts, steps, batch_size, learning_rate, warmup, seed,
                      progress)
    finally:
        torch.set_num_threads(before)


def _train(model, tokenizer, texts, steps, batch_size, learning_rate, warmup, seed, progress):
    """The loop of ``train_masked_lm``."""
    batch = tokenizer.encode_batch(texts)  # every sentence once, padded to the longest
    ids, keep = batch["input_ids"], batch["attention_mask"]  # (num_texts, seq)
    generator = torch.Generator().manual_seed(seed)  # one stream: new batches and masks each step
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.01)

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (steps - step) / max(1, steps - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    run = TrainingRun()
    bar = ProgressBar(steps, "training", show=progress)
    start = time.perf_counter()
    parameters = [p for p in model.parameters() if p.requires_grad]
    model.train()
    try:
        for step in range(1, steps + 1):
            masked, labels, rows = _masked_batch(ids, tokenizer, batch_size, generator)
            loss = model(masked, keep[rows], labels=labels).loss
            optimizer.zero_grad()
            loss.backward()
            clip_or_stop(parameters, loss.item(), 1.0, optimizer.param_groups[0]["lr"],
                         f"{step} of {steps}")
            optimizer.step()
            scheduler.step()
            run.losses.append(loss.item())
            bar.update(f"loss {run.losses[-1]:.2f}")
    finally:
        model.eval()
    bar.close(f"final loss {run.losses[-1]:.2f}")
    run.seconds, run.steps = time.perf_counter() - start, steps
    return run


def _masked_batch(ids: torch.Tensor, tokenizer, batch_size: int, generator: torch.Generator,
                  tries: int = 20):
    """A random batch of rows, masked anew, with at least one token to predict (a batch where
    the 15% draw chose nothing has no loss: it is drawn again, a bounded number of times)."""
    for _ in range(tries):
        rows = torch.randint(len(ids), (batch_size,), generator=generator)  # (batch,)
        masked, labels = mask_tokens(ids[rows], tokenizer, 0.15, generator)  # (batch, seq) each
        if bool((labels != IGNORE_INDEX).any()):
            return masked, labels, rows
    raise ValueError(f"{tries} batches in a row had no word to mask: the texts hold (almost) "
                     "only special tokens or empty lines; give sentences with words")


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
]
