"""Checkers for notebook 08's two inquiry tasks ("find a head that ..."): the learner names a head,
counted from 1 as in the text, and the checker measures whether it has the property asked for."""

from __future__ import annotations

import torch

from ..attribution import column_share, head_ablated, norm_weighted_attention
from .report import CheckReport, recorded

CLUE_TEXT = "late at night the [MASK] barked at the gate ."
CLUE_WORD, ANSWER = "barked", "dog"
CLUE_WEIGHT = 0.3  # the [MASK] row gives the clue at least this much attention ...
SMALL_EFFECT = 0.05  # ... but removing the head moves log p(answer) by less than this

NORM_TEXT = "The cat sat on the mat because it was tired."
CLS_WEIGHT = 0.5  # at least half of the attention weight goes to [CLS] ...
CLS_NORM = 0.1  # ... but under a tenth of the norm-weighted attention does


@torch.no_grad()
def answer_log_prob(model, tokenizer, text: str = CLUE_TEXT, answer: str = ANSWER) -> float:
    """log p(answer) at the [MASK] of ``text`` under a masked-LM model."""
    encoding = tokenizer.encode(text)
    position = encoding.tokens.index("[MASK]")
    logits = model(torch.tensor([encoding.input_ids])).logits[0, position]  # (vocab,)
    return torch.log_softmax(logits, dim=-1)[tokenizer.vocab[answer]].item()


def _named_head(report: CheckReport, config, layer, head) -> tuple[int, int] | None:
    """The Python indices of a head named from 1, or None (with a [fix]) when it does not exist."""
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in (layer, head)):
        report.fail("name the head with two whole numbers, layer and head, "
                    f"got {layer!r}, {head!r}")
        return None
    if not (1 <= layer <= config.num_layers and 1 <= head <= config.num_heads):
        report.fail(f"layer {layer}, head {head} does not exist: layers run "
                    f"1..{config.num_layers}, heads 1..{config.num_heads} (counted from 1, as in "
                    "the text)")
        return None
    return layer - 1, head - 1


@recorded
def check_ignored_clue_head(model, tokenizer, layer, head) -> CheckReport:
    """Task 1 (course-mlm): a head whose [MASK] row gives the clue word at least CLUE_WEIGHT of its
    attention, yet whose removal moves log p(answer) by less than SMALL_EFFECT."""
    report = CheckReport("a head that looks at the clue but is not needed")
    named = _named_head(report, model.config, layer, head)
    if named is None:
        return report
    encoding = tokenizer.encode(CLUE_TEXT)
    row, clue = encoding.tokens.index("[MASK]"), encoding.tokens.index(CLUE_WORD)
    with torch.no_grad():
        maps = model.bert(torch.tensor([encoding.input_ids]), output_attentions=True).attentions
    weight = maps[named[0]][0, named[1], row, clue].item()
    base = answer_log_prob(model, tokenizer)
    with head_ablated(model, *named):
        effect = abs(answer_log_prob(model, tokenizer) - base)
    described = f"layer {layer}, head {head}: [MASK] -> '{CLUE_WORD}' weight {weight:.2f}, " \
                f"removing it moves log p('{ANSWER}') by {effect:.3f}"
    if weight < CLUE_WEIGHT:
        report.fail(f"{described}; the weight on the clue is below {CLUE_WEIGHT}: look for a head "
                    "whose [MASK] row is dark at the clue")
    elif effect >= SMALL_EFFECT:
        report.fail(f"{described}; this head looks at the clue AND is needed (an effect of at "
                    f"least {SMALL_EFFECT}): the task asks for one that is not")
    else:
        report.ok(f"{described}: attention points at the clue, yet the prediction does not need "
                  "this head")
    return report


@recorded
def check_cls_norm_head(model, tokenizer, layer, head) -> CheckReport:
    """Task 2 (MiniLM): a head that gives [CLS] at least CLS_WEIGHT of its attention weight but
    under CLS_NORM of its norm-weighted attention (Kobayashi et al. 2020)."""
    report = CheckReport("a head whose [CLS] attention carries almost nothing")
    named = _named_head(report, model.config, layer, head)
    if named is None:
        return report
    encoding = tokenizer.encode(NORM_TEXT)
    weights, norms = norm_weighted_attention(model, torch.tensor(encoding.input_ids))
    cls = [i for i, token in enumerate(encoding.tokens) if token == "[CLS]"]
    by_weight = column_share(weights, cls)[named].item()
    by_norm = column_share(norms, cls)[named].item()
    described = f"layer {layer}, head {head}: [CLS] share {by_weight:.2f} by weight, " \
                f"{by_norm:.2f} by norm"
    if by_weight < CLS_WEIGHT:
        report.fail(f"{described}; the weight share is below {CLS_WEIGHT}: pick a head the pattern "
                    "table labels [CLS]")
    elif by_norm >= CLS_NORM:
        report.fail(f"{described}; here [CLS]'s vectors are not small: its norm share is at least "
                    f"{CLS_NORM}")
    else:
        report.ok(f"{described}: most of the weight goes to [CLS], but what [CLS] sends is "
                  "small, so this head's output comes mostly from the other tokens")
    return report


__all__ = ["check_cls_norm_head", "check_ignored_clue_head"]
