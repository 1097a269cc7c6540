"""Checkers for notebook 10b (BERT at work): aligning word labels to pieces, decoding a span.

Each runs the learner's function on small hand-made cases built so that every classic mistake
gives its own wrong answer, and names the mistake when the answer is one of them.
"""

from __future__ import annotations

import torch

from course_lib.masking import IGNORE_INDEX

from .cases import Case, Unreadable, check_cases
from .compare import as_plain_list
from .report import CheckReport, recorded

# ---- align_labels ------------------------------------------------------------------------------

ALIGN_CASES = [  # (what it is, word index of each token (None = [CLS]/[SEP]), one label per word)
    ("'oluwaseun lives in oslo'", [None, 0, 0, 0, 0, 1, 2, 3, None], [1, 0, 0, 3]),
    ("'kenji met priya szczepanski'", [None, 0, 1, 2, 3, 3, 3, 3, None], [1, 0, 1, 2]),
    ("a pair: '[CLS] words [SEP] more [SEP]'", [None, 0, 1, 1, None, 2, 3, None], [0, 5, 0, 6]),
]


def aligned(word_ids, word_labels, every_piece=False, special=IGNORE_INDEX, last=False):
    """The right alignment (first piece labelled, the rest and special tokens -100) or a
    deliberately wrong one."""
    out = []
    for i, word in enumerate(word_ids):
        if word is None:
            out.append(special)
            continue
        neighbour = word_ids[i + 1] if last else word_ids[i - 1]
        first = neighbour != word or (last and i + 1 == len(word_ids))
        out.append(word_labels[word] if first or every_piece else IGNORE_INDEX)
    return out


def _read_labels(answer) -> list:
    labels = as_plain_list(answer)
    if labels is None:
        raise Unreadable(f"return a list of ints, one per token, got {type(answer).__name__}")
    return [int(x) for x in labels]


@recorded
def check_align_labels(align_labels) -> CheckReport:
    """``align_labels(word_ids, word_labels) -> one label per token`` (first piece labelled)."""
    report = CheckReport("align_labels (one label per word -> one per token)")
    cases = []
    for label, word_ids, word_labels in ALIGN_CASES:
        cases.append(Case(label, (word_ids, word_labels), aligned(word_ids, word_labels), mistakes={
            "labels on every piece: only a word's first piece gets its label, the other pieces "
            "-100 (the loss skips them)": aligned(word_ids, word_labels, every_piece=True),
            "labels on every piece, [CLS] and [SEP] too: only a word's first piece is "
            "labelled": aligned(word_ids, word_labels, every_piece=True, special=0),
            "[CLS] and [SEP] got a label: special tokens (word id None) get -100":
                aligned(word_ids, word_labels, special=0),
            "the last piece of each word was labelled: label the first":
                aligned(word_ids, word_labels, last=True),
        }, call=f"align_labels({word_ids}, {word_labels})"))
    check_cases(report, "align_labels", align_labels, cases, read=_read_labels)
    return report


# ---- decode_span -------------------------------------------------------------------------------


def best_span(start, end, context, max_length, ordered=True, in_context=True, limit=True):
    """The (start, end) with the highest start + end score (or a deliberately wrong variant)."""
    seq = len(start)
    best, best_score = None, None
    for s in range(seq):
        for e in range(seq):
            if (ordered and e < s) or (limit and abs(e - s) + 1 > max_length):
                continue
            if in_context and not (context[s] and context[e]):
                continue
            score = float(start[s] + end[e])
            if best_score is None or score > best_score:
                best, best_score = (s, e), score
    return best


def _separate_argmax(start, end, context, max_length):
    masked = [torch.where(context, x, torch.tensor(float("-inf"))) for x in (start, end)]
    return int(masked[0].argmax()), int(masked[1].argmax())


def _span_case(label: str, start: list, end: list, question_length: int, max_length: int):
    """[CLS] question [SEP] context [SEP]: the context is after the first [SEP]."""
    start, end = torch.tensor(start, dtype=torch.float), torch.tensor(end, dtype=torch.float)
    seq = len(start)
    context = torch.zeros(seq, dtype=torch.bool)
    context[question_length + 2 : seq - 1] = True  # (seq,): True on the context's tokens
    args = (start, end, context, max_length)
    return Case(label, args, best_span(*args), mistakes={
        "start and end were each taken by argmax on their own: the best span maximises "
        "start + end over pairs with start <= end": _separate_argmax(*args),
        "an end before the start: only spans with start <= end are answers":
            best_span(*args, ordered=False),
        "a span inside the question (or on [CLS]/[SEP]): the answer must lie in the context, "
        "where context_mask is True": best_span(*args, in_context=False),
        "the span is longer than max_length: keep end - start + 1 <= max_length":
            best_span(*args, limit=False),
        "start and end were taken by argmax over the whole input": (int(start.argmax()),
                                                                    int(end.argmax())),
    }, call=f"decode_span(<{label}>, max_length={max_length})")


SPAN_CASES = [  # 12 tokens: [CLS] q q [SEP] c c c c c c c [SEP]
    ("the best end lies before the best start", [0, 0, 0, 0, 1, 2, 0, 7, 1, 0, 0, 0],
     [0, 0, 0, 0, 6, 0, 3, 0, 2, 0, 0, 0], 2, 5),
    ("high scores inside the question", [0, 9, 0, 0, 1, 0, 4, 0, 0, 0, 0, 0],
     [0, 0, 9, 0, 0, 0, 0, 5, 0, 0, 0, 0], 2, 5),
    ("a long span scores best", [0, 0, 0, 0, 0, 6, 2, 0, 0, 0, 0, 0],
     [0, 0, 0, 0, 9, 0, 0, 1, 0, 0, 7, 0], 2, 3),
    ("a short span that runs backwards scores best", [0, 0, 0, 0, 0, 0, 0, 0, 7, 1, 0, 0],
     [0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 8, 0], 2, 2),
    ("an ordinary case", [0, 1, 0, 0, 0, 3, 1, 0, 0, 2, 0, 0],
     [0, 0, 1, 0, 0, 0, 2, 4, 0, 0, 1, 0], 2, 4),
]


def _read_span(answer) -> tuple[int, int]:
    pair = as_plain_list(answer) if not isinstance(answer, tuple) else list(answer)
    try:
        start, end = (int(x) for x in pair)
    except (TypeError, ValueError):
        raise Unreadable("return two token positions: (start, end)") from None
    return start, end


@recorded
def check_decode_span(decode_span) -> CheckReport:
    """``decode_span(start_logits, end_logits, context_mask, max_length) -> (start, end)``."""
    report = CheckReport("decode_span (the best valid answer span)")
    cases = [_span_case(*case) for case in SPAN_CASES]
    check_cases(report, "decode_span", decode_span, cases, read=_read_span,
                same=lambda a, b: tuple(a) == tuple(b))
    return report


__all__ = ["check_align_labels", "check_decode_span"]
