"""Checkers for notebook 09 (pre-training BERT): BERT's masking, the masked-LM loss, a causal mask.

Each checker runs the learner's function on inputs it builds itself and names the usual mistakes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from course_lib.masking import IGNORE_INDEX, causal_mask, special_token_ids
from course_lib.tokenizer import WordPieceTokenizer

from ._learner import call_learner, clones, seeded
from .core import CheckReport, compare_tensors
from .rules import exercise

TEXTS = [
    "the dog barked at the gate .",
    "anna bought a yellow banana at the market .",
    "we learned that rome is the capital of italy .",
    "once again the owl hooted .",
]
WORDS = sorted({word for text in TEXTS for word in text.split()})


def _tokenizer() -> WordPieceTokenizer:
    """A small vocabulary: the five special tokens and the words of TEXTS."""
    return WordPieceTokenizer.from_vocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS])


def _batch(tokenizer: WordPieceTokenizer, rows: int = 600) -> torch.Tensor:
    """(rows, seq) IDs with [CLS], [SEP] and padding: enough positions for sampling statistics."""
    return tokenizer.encode_batch([TEXTS[i % len(TEXTS)] for i in range(rows)])["input_ids"]


def _within(share: float, expected: float, n: int) -> bool:
    """True when an observed share is within 5 standard errors of the expected one."""
    return abs(share - expected) <= 5 * (expected * (1 - expected) / max(n, 1)) ** 0.5 + 1e-9


@exercise(forbids=("course_lib.mask_tokens",),
          write_from="the generator's random numbers: 15%, then 80/10/10")
def check_mask_tokens(mask_tokens) -> CheckReport:
    """``mask_tokens(input_ids, tokenizer, probability, generator) -> (masked_ids, labels)``."""
    report = CheckReport("mask_tokens (BERT's 15%, then 80/10/10)")
    tokenizer = _tokenizer()
    ids = _batch(tokenizer)
    original = ids.clone()
    ran, result = call_learner(report, "mask_tokens(ids, tok, 0.15, generator)", mask_tokens,
                               ids, tokenizer, 0.15, torch.Generator().manual_seed(0))
    if not ran:
        return report
    if not (isinstance(result, (tuple, list)) and len(result) == 2
            and all(isinstance(t, torch.Tensor) for t in result)):
        report.fail("return two tensors: (masked_ids, labels)")
        return report
    masked, labels = result
    if tuple(masked.shape) != tuple(ids.shape) or tuple(labels.shape) != tuple(ids.shape):
        report.fail(f"masked_ids and labels must both have the shape of input_ids "
                    f"{tuple(ids.shape)}, got {tuple(masked.shape)} and {tuple(labels.shape)}")
        return report
    report.ok(f"two tensors of shape {tuple(ids.shape)}")
    if not torch.equal(ids, original):
        report.fail("input_ids was changed in place: work on a copy (input_ids.clone())")
        ids = original

    special = torch.isin(ids, special_token_ids(tokenizer))
    chosen = labels != IGNORE_INDEX
    candidates = int((~special).sum())
    if (chosen & special).any() or (masked[special] != ids[special]).any():
        report.fail("special tokens or padding were chosen: [CLS], [SEP] and [PAD] must never "
                    "be masked or get a label (build a mask of them and exclude it)")
    else:
        report.ok("[CLS], [SEP] and [PAD] are never chosen")
    share = int(chosen.sum()) / candidates
    if share > 0.5:
        report.fail(f"{share:.0%} of the words have a label: labels must be -100 at every "
                    "position that was not chosen, so that the loss ignores it")
        return report
    if not _within(share, 0.15, candidates):
        report.fail(f"{share:.1%} of the words were chosen, expected about 15%")
    else:
        report.ok(f"{share:.1%} of the words chosen (about 15%)")
    if (masked[~chosen] != ids[~chosen]).any():
        report.fail("some positions without a label were changed: only chosen positions may "
                    "become [MASK] or a random token")
    n = int(chosen.sum())
    if n == 0:
        return report
    if (labels[chosen] == tokenizer.mask_token_id).float().mean() > 0.5:
        report.fail("the labels hold [MASK]: they must hold the ORIGINAL token IDs (what the "
                    "model should recover)")
    elif (labels[chosen] != ids[chosen]).any():
        report.fail("labels at chosen positions must be the original token IDs")
    else:
        report.ok("labels hold the original IDs at chosen positions and -100 elsewhere")
    _check_shares(report, masked[chosen], ids[chosen], tokenizer.mask_token_id, n)
    _check_generator(report, mask_tokens, tokenizer, ids)
    return report


def _check_shares(report, masked, original, mask_id, n) -> None:
    """80% [MASK], 10% random, 10% unchanged, among the chosen positions."""
    to_mask = float((masked == mask_id).float().mean())
    kept = float((masked == original).float().mean())
    other = 1 - to_mask - kept
    if to_mask > 0.97:
        report.fail("every chosen token became [MASK]: BERT replaces 80% with [MASK], 10% with "
                    "a random token and keeps 10% (so the model also learns on real words)")
    elif _within(to_mask, 0.8, n) and abs(kept - 0.1) < 0.06 and abs(other - 0.1) < 0.06:
        report.ok(f"chosen tokens: {to_mask:.0%} [MASK], {other:.0%} random, {kept:.0%} kept "
                  "(80/10/10)")
    else:
        report.fail(f"chosen tokens: {to_mask:.0%} [MASK], {other:.0%} random, {kept:.0%} kept; "
                    "expected 80/10/10")


def _check_generator(report, mask_tokens, tokenizer, ids) -> None:
    """Same seed -> same masks; the next call on the same generator -> new masks."""
    small = ids[:40]
    runs = []
    for generator in (torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)):
        ran, result = call_learner(report, "mask_tokens with a seeded generator", mask_tokens,
                                   *clones(small), tokenizer, 0.15, generator)
        if not ran:
            return
        again = call_learner(report, "mask_tokens called again", mask_tokens,
                             *clones(small), tokenizer, 0.15, generator)[1]
        runs.append((result, again))
    (first, second), (first_b, _) = runs
    if second is None or first_b is None:
        return
    if torch.equal(first[1], second[1]) and torch.equal(first[0], second[0]):
        report.fail("two calls on the same generator gave the same masks: the same random stream "
                    "every batch (draw from the generator you are given; never re-seed it or "
                    "make a new one inside the function)")
    elif not (torch.equal(first[0], first_b[0]) and torch.equal(first[1], first_b[1])):
        report.fail("two generators with the same seed gave different masks: pass "
                    "generator=generator to every torch.rand / torch.randint call")
    else:
        report.ok("reproducible with a seeded generator, and new masks on every call")


def reference_masked_lm_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the positions whose label is not -100."""
    vocab = logits.shape[-1]
    return F.cross_entropy(logits.reshape(-1, vocab), labels.reshape(-1), ignore_index=-100)


def _right_token(scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """(batch, seq, vocab) -> (batch, seq): each position's score of its label (-100 read as 0)."""
    return scores.gather(-1, labels.clamp(min=0)[..., None])[..., 0]


@exercise(forbids=("course_lib.masked_lm_loss",),
          write_from="a cross-entropy over the chosen positions")
def check_masked_lm_loss(masked_lm_loss) -> CheckReport:
    """``masked_lm_loss(logits (batch, seq, vocab), labels (batch, seq)) -> 0-dim tensor``."""
    report = CheckReport("masked-LM loss")
    with seeded(9):
        logits = torch.randn(3, 7, 11) * 2  # (batch, seq, vocab)
        labels = torch.full((3, 7), IGNORE_INDEX)
        chosen = torch.rand(3, 7) < 0.3
        chosen[0, 1] = True
        labels[chosen] = torch.randint(0, 11, (int(chosen.sum()),))
    expected = reference_masked_lm_loss(logits, labels)
    per_position = F.cross_entropy(logits.reshape(-1, 11), labels.clamp(min=0).reshape(-1),
                                   reduction="none")  # (batch * seq,)
    hints = {
        "forgetting -100: the unchosen positions were scored too (as token 0); only the "
        "chosen positions count": per_position.mean(),
        "the loss was averaged over all positions; divide by the number of chosen ones":
            (per_position * chosen.reshape(-1)).sum() / labels.numel(),
        "a sum instead of a mean over the chosen positions": (per_position * chosen.reshape(-1)
                                                              ).sum(),
        "the log is missing: the loss is -log p(right token), not -p(right token)":
            -_right_token(logits.softmax(dim=-1), labels)[chosen].mean(),
        "the softmax ran over the wrong axis (the sequence); it runs over the vocabulary, the "
        "last axis": -_right_token(logits.log_softmax(dim=1), labels)[chosen].mean(),
    }
    ran, loss = call_learner(report, "masked_lm_loss(logits, labels)", masked_lm_loss,
                             *clones(logits, labels))
    if not ran:
        if any("out of bounds" in p or "index" in p.lower() for p in report.failed_points):
            report.fail("label -100 was used as a token index: forgetting -100 (pass "
                        "ignore_index=-100, or keep only the positions where labels != -100)")
        return report
    if isinstance(loss, torch.Tensor) and loss.dim() != 0:
        report.fail(f"return one number (a 0-dim tensor), got shape {tuple(loss.shape)}: "
                    "average over the chosen positions")
        return report
    compare_tensors(report, "loss", loss, expected, atol=1e-5, hints=hints)
    return report


@exercise(forbids=("course_lib.causal_mask",),
          write_from="`torch.tril` or a comparison of positions")
def check_causal_mask(causal_mask_fn) -> CheckReport:
    """``causal_mask(seq_len) -> (seq, seq)`` bool, True where query i may see key j (j <= i)."""
    report = CheckReport("causal mask")
    for seq_len in (4, 7, 1):  # the hints need room: 1 comes last
        ran, mask = call_learner(report, f"causal_mask({seq_len})", causal_mask_fn, seq_len)
        if not ran:
            return report
        if not isinstance(mask, torch.Tensor):
            report.fail(f"return a torch.Tensor, got {type(mask).__name__}")
            return report
        if mask.dtype != torch.bool:
            report.fail(f"return a bool tensor (True = may look), got {mask.dtype}: e.g. "
                        "torch.ones(n, n, dtype=torch.bool)")
            return report
        expected = causal_mask(seq_len)
        ones = torch.ones(seq_len, seq_len, dtype=torch.bool)
        hints = {
            "the upper triangle: position i would see the future and not the past "
            "(use torch.tril, not torch.triu)": torch.triu(ones),
            "the diagonal is excluded: a position must also see itself (tril with diagonal=0)":
                torch.tril(ones, diagonal=-1),
            "the upper triangle without the diagonal": torch.triu(ones, diagonal=1),
            "everything allowed: that is BERT's bidirectional mask, not a causal one": ones,
        }
        if seq_len == 1:
            if tuple(mask.shape) != (1, 1) or not bool(mask.all()):
                report.fail("causal_mask(1) must be [[True]]: one position sees itself")
                return report
            continue
        if not compare_tensors(report, f"causal_mask({seq_len})", mask, expected, hints=hints):
            return report
    return report


__all__ = ["check_causal_mask", "check_mask_tokens", "check_masked_lm_loss",
           "reference_masked_lm_loss"]
