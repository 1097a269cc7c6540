"""The checkers of notebook 10b pass a right answer and name each classic mistake."""

from __future__ import annotations

import pytest

from course_kit.checks.tasks import aligned, best_span, check_align_labels, check_decode_span


def test_right_answers_pass():
    assert check_align_labels(aligned).passed
    assert check_decode_span(lambda s, e, c, m: best_span(s, e, c, m)).passed


@pytest.mark.parametrize("wrong, named", [
    (lambda w, lab: aligned(w, lab, every_piece=True), "labels on every piece"),
    (lambda w, lab: aligned(w, lab, special=0), "[CLS] and [SEP] got a label"),
    (lambda w, lab: aligned(w, lab, last=True), "the last piece"),
    (lambda w, lab: [0] * len(w), "expected"),
])
def test_align_labels_mistakes_are_named(wrong, named):
    report = check_align_labels(wrong)
    assert not report.passed
    assert any(named in point for point in report.failed_points), report


@pytest.mark.parametrize("wrong, named", [
    (lambda s, e, c, m: (int(s.masked_fill(~c, -1e9).argmax()), int(e.masked_fill(~c, -1e9)
                                                                      .argmax())),
     "each taken by argmax on their own"),
    (lambda s, e, c, m: best_span(s, e, c, m, ordered=False), "an end before the start"),
    (lambda s, e, c, m: best_span(s, e, c, m, in_context=False), "inside the question"),
    (lambda s, e, c, m: best_span(s, e, c, m, limit=False), "longer than max_length"),
])
def test_decode_span_mistakes_are_named(wrong, named):
    report = check_decode_span(wrong)
    assert not report.passed
    assert any(named in point for point in report.failed_points), report


def test_right_answers_in_other_forms_pass():
    """A tensor of labels, or a span as a tensor or a list, is as right as plain ints."""
    import torch

    assert check_align_labels(lambda w, lab: torch.tensor(aligned(w, lab))).passed
    assert check_decode_span(lambda s, e, c, m: torch.tensor(best_span(s, e, c, m))).passed
    assert check_decode_span(lambda s, e, c, m: list(best_span(s, e, c, m))).passed
