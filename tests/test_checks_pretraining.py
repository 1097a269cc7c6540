"""The notebook-09 (pre-training) checkers: right answers written differently pass, each named
mistake is named."""

from __future__ import annotations

import torch
import torch.nn.functional as F

import course_lib as cl
from course_kit.checks.pretraining import (
    check_causal_mask,
    check_mask_tokens,
    check_masked_lm_loss,
)


def _special(ids, tok):
    return (ids == tok.cls_token_id) | (ids == tok.sep_token_id) | (ids == tok.pad_token_id)


def loop_mask_tokens(input_ids, tok, probability, generator):
    """A right answer written as a loop over positions, one draw at a time."""
    masked, labels = input_ids.clone(), torch.full_like(input_ids, -100)
    special = _special(input_ids, tok)
    for index in range(input_ids.numel()):
        row, col = divmod(index, input_ids.shape[1])
        r = torch.rand(2, generator=generator)
        random_id = torch.randint(tok.vocab_size, (1,), generator=generator).item()
        if special[row, col] or r[0] >= probability:
            continue
        labels[row, col] = input_ids[row, col]
        if r[1] < 0.8:
            masked[row, col] = tok.mask_token_id
        elif r[1] < 0.9:
            masked[row, col] = random_id
    return masked, labels


def bernoulli_mask_tokens(input_ids, tok, probability, generator):
    """A right answer with torch.bernoulli, as in many tutorials."""
    ids = input_ids.clone()
    special = _special(ids, tok)
    chosen = torch.bernoulli(torch.full(ids.shape, probability), generator=generator).bool()
    chosen &= ~special
    labels = torch.where(chosen, ids, -100)
    to_mask = torch.bernoulli(torch.full(ids.shape, 0.8), generator=generator).bool() & chosen
    to_random = (torch.bernoulli(torch.full(ids.shape, 0.5), generator=generator).bool()
                 & chosen & ~to_mask)
    ids[to_mask] = tok.mask_token_id
    ids[to_random] = torch.randint(tok.vocab_size, ids.shape, generator=generator)[to_random]
    return ids, labels


def library_named(report, name: str) -> None:
    """Right values, but the exercise's rule forbids course_lib's own version: named."""
    assert [p.split(":")[0] for p in report.failed_points] == [f"you called `{name}`"], str(report)


def test_right_answers_pass():
    library_named(check_mask_tokens(cl.mask_tokens), "cl.mask_tokens")
    assert check_mask_tokens(loop_mask_tokens).passed
    assert check_mask_tokens(bernoulli_mask_tokens).passed


def _failed(report, *words):
    text = " ".join(report.failed_points)
    assert not report.passed
    assert all(word in text for word in words), text


def test_mask_tokens_mistakes_are_named():
    def masks_specials(ids, tok, p, g):
        chosen = torch.rand(ids.shape, generator=g) < p
        return torch.where(chosen, tok.mask_token_id, ids), torch.where(chosen, ids, -100)

    def labels_everywhere(ids, tok, p, g):
        masked, _ = cl.mask_tokens(ids, tok, p, g)
        return masked, ids.clone()

    def all_become_mask(ids, tok, p, g):
        _, labels = cl.mask_tokens(ids, tok, p, g)
        return torch.where(labels != -100, tok.mask_token_id, ids), labels

    def same_stream(ids, tok, p, g):
        return cl.mask_tokens(ids, tok, p, torch.Generator().manual_seed(0))

    def global_rng(ids, tok, p, g):
        return cl.mask_tokens(ids, tok, p)

    def labels_are_mask(ids, tok, p, g):
        masked, labels = cl.mask_tokens(ids, tok, p, g)
        return masked, torch.where(labels != -100, masked, labels)

    _failed(check_mask_tokens(masks_specials), "special tokens")
    _failed(check_mask_tokens(labels_everywhere), "-100", "not chosen")
    _failed(check_mask_tokens(all_become_mask), "80%")
    _failed(check_mask_tokens(same_stream), "same random stream")
    _failed(check_mask_tokens(global_rng), "generator=generator")
    _failed(check_mask_tokens(labels_are_mask), "ORIGINAL")
    _failed(check_mask_tokens(lambda ids, tok, p, g: None), "returned None")


def test_masked_lm_loss_right_answers_pass():
    def by_selection(logits, labels):
        keep = labels != -100
        return F.cross_entropy(logits[keep], labels[keep])

    def by_hand(logits, labels):
        keep = labels != -100
        logp = logits.log_softmax(-1)[keep]  # (n, vocab)
        return -logp.gather(1, labels[keep][:, None]).mean()

    for fn in (by_selection, by_hand):
        assert check_masked_lm_loss(fn).passed
    library_named(check_masked_lm_loss(cl.masked_lm_loss), "cl.masked_lm_loss")


def test_masked_lm_loss_mistakes_are_named():
    def all_positions(logits, labels):
        v = logits.shape[-1]
        return F.cross_entropy(logits.reshape(-1, v), labels.clamp(min=0).reshape(-1))

    def index_crash(logits, labels):
        logp = logits.log_softmax(-1)
        return -logp.gather(2, labels[..., None]).mean()

    def divided_by_all(logits, labels):
        v = logits.shape[-1]
        loss = F.cross_entropy(logits.reshape(-1, v), labels.reshape(-1), reduction="sum")
        return loss / labels.numel()

    def summed(logits, labels):
        v = logits.shape[-1]
        return F.cross_entropy(logits.reshape(-1, v), labels.reshape(-1), reduction="sum")

    _failed(check_masked_lm_loss(all_positions), "forgetting -100")
    _failed(check_masked_lm_loss(index_crash), "forgetting -100")
    _failed(check_masked_lm_loss(divided_by_all), "averaged over all positions")
    _failed(check_masked_lm_loss(summed), "sum instead of a mean")


def test_causal_mask_checker():
    library_named(check_causal_mask(cl.causal_mask), "cl.causal_mask")
    assert check_causal_mask(
        lambda n: torch.arange(n)[None, :] <= torch.arange(n)[:, None]).passed
    assert check_causal_mask(lambda n: ~torch.ones(n, n, dtype=torch.bool).triu(1)).passed
    ones = lambda n: torch.ones(n, n, dtype=torch.bool)  # noqa: E731
    _failed(check_causal_mask(lambda n: ones(n).triu()), "upper triangle", "tril")
    _failed(check_causal_mask(lambda n: ones(n).tril(-1)), "diagonal is excluded")
    _failed(check_causal_mask(ones), "bidirectional")
    _failed(check_causal_mask(lambda n: torch.ones(n, n).tril()), "bool")
