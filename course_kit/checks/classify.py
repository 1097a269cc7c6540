"""Checkers for notebook 10 (fine-tuning the block), its frozen-features part: sentence features
from the encoder's output, standardising with the training statistics only, and accuracy
measured on held-out data. The "one training step" checker is in ``finetune.py``."""

from __future__ import annotations

import math

import torch

from . import calling
from .calling import call_learner
from .cases import Case, check_cases
from .compare import as_number
from .fixtures import clones, keep_mask, randn, seeded
from .report import CheckReport, recorded
from .rules import exercise

POOLINGS = ("cls", "average", "max")
TRAINING_ALLOWANCE = 6  # training a classifier may take longer than the usual time limit


def _padded_hidden() -> tuple[torch.Tensor, torch.Tensor]:
    """Encoder-like output for 3 sentences of 6, 4 and 3 real tokens, padded to 6; the padding
    holds large values so that pooling which includes it is visibly wrong."""
    hidden = randn(9, 3, 6, 8)  # (batch, seq, hidden)
    mask = keep_mask([6, 4, 3], 6).long()  # (batch, seq)
    hidden[mask == 0] = 20.0
    return hidden, mask


def _feature_hints(hidden: torch.Tensor, mask: torch.Tensor) -> dict[str, torch.Tensor]:
    """What the usual mistakes produce, each named in plain words."""
    keep = mask.bool().unsqueeze(-1)  # (batch, seq, 1)
    last_real = mask.sum(dim=1) - 1  # (batch,) position of [SEP]
    return {
        "the vector of the last position was taken (padding or [SEP]); [CLS] is the first":
            hidden[:, -1],
        "the vector of the last real token ([SEP]) was taken; [CLS] is the first":
            hidden[torch.arange(hidden.shape[0]), last_real],
        "padding was included in the average: divide the sum over real tokens by their count":
            hidden.mean(dim=1),
        "padding was zeroed but the sum was divided by the full length, not the real count":
            (hidden * keep).sum(dim=1) / hidden.shape[1],
        "padding was included in the max (it holds 20.0 here)": hidden.max(dim=1).values,
        "padding was set to 0 before the max; fill it with -inf instead":
            (hidden * keep).max(dim=1).values,
        "it pooled over the hidden features (dim=-1), giving (batch, seq); pool over the "
        "tokens (dim=1)": hidden.max(dim=-1).values,
        "it averaged over the hidden features (dim=-1), giving (batch, seq); average over the "
        "tokens (dim=1)": hidden.mean(dim=-1),
    }


@exercise(forbids=("course_lib.global_average_pooling", "course_lib.global_max_pooling"),
          write_from="the mask, `sum` and `max`")
def check_sentence_features(sentence_features) -> CheckReport:
    """``sentence_features(hidden, mask, pooling)``: (batch, seq, hidden) and (batch, seq) ->
    (batch, hidden), with pooling "cls" (first vector), "average" or "max" over real tokens."""
    report = CheckReport("sentence features: CLS, average and max pooling")
    hidden, mask = _padded_hidden()
    keep = mask.bool().unsqueeze(-1)  # (batch, seq, 1)
    expected = {
        "cls": hidden[:, 0],
        "average": (hidden * keep).sum(dim=1) / keep.sum(dim=1),
        "max": hidden.masked_fill(~keep, float("-inf")).max(dim=1).values,
    }
    cases = [Case(f"{pooling!r} features", (hidden, mask, pooling), expected[pooling],
                  _feature_hints(hidden, mask),
                  call=f"sentence_features(hidden, mask, {pooling!r})")
             for pooling in POOLINGS]
    check_cases(report, "sentence_features", sentence_features, cases)
    return report


def _standardize_inputs() -> tuple[torch.Tensor, torch.Tensor]:
    """Train and test features on different scales, so that every wrong statistic shows."""
    with seeded(10):
        train = torch.randn(12, 4) * torch.tensor([1.0, 5.0, 0.1, 2.0]) + torch.tensor(
            [3.0, -2.0, 0.5, 10.0])  # (n_train, features)
        test = torch.randn(5, 4) * 3.0 + 1.0  # (n_test, features), deliberately shifted
    return train, test


@recorded
def check_standardize(standardize) -> CheckReport:
    """``standardize(train, test) -> (train_z, test_z)``: subtract the training mean and divide
    by the training standard deviation, feature by feature, for both splits."""
    report = CheckReport("standardising features with the training statistics")
    train, test = _standardize_inputs()
    both = torch.cat([train, test])  # (n_train + n_test, features)
    mean = train.mean(dim=0)  # (features,)
    # Either standard deviation convention is right, used for both splits: divide by n - 1
    # (torch's default) or by n (NumPy's).
    right, numpy_right = (((train - mean) / std, (test - mean) / std)
                          for std in (train.std(dim=0), train.std(dim=0, correction=0)))

    def per_sentence(x):
        return (x - x.mean(dim=1, keepdim=True)) / x.std(dim=1, keepdim=True)

    wrong_train = {
        "the statistics were taken per sentence (dim=1) instead of per feature (dim=0)":
            per_sentence(train),
        "the statistics came from train and test together; use the training split only":
            (train - both.mean(dim=0)) / both.std(dim=0),
        "the training split was left as it was; standardise both splits": train,
    }
    wrong_test = {
        "the test split was standardised with its own mean and std; a model must only use "
        "statistics of the training data (the test set stands for data not seen yet)":
            (test - test.mean(dim=0)) / test.std(dim=0),
        "the statistics came from train and test together; use the training split only":
            (test - both.mean(dim=0)) / both.std(dim=0),
        "the test split was left as it was; transform it with the training statistics too": test,
        "the statistics were taken per sentence (dim=1) instead of per feature (dim=0)":
            per_sentence(test),
    }
    case = Case("standardize", (train, test), right, (wrong_train, wrong_test),
                also_right=(numpy_right,), parts=("train_z", "test_z"),
                call="standardize(train, test)")
    check_cases(report, "standardize", standardize, [case], atol=1e-3)
    return report


def _memorise_or_not() -> tuple[torch.Tensor, ...]:
    """Random labels on features a linear classifier can memorise (more features than train and
    test examples together): accuracy on the training split, or after training on the test
    split, can reach 1.0; an honest held-out accuracy stays near chance (0.25)."""
    with seeded(11):
        train_x = torch.randn(40, 256)  # (n_train, features)
        train_y = torch.randint(0, 4, (40,))
        test_x = torch.randn(100, 256)  # (n_test, features)
        test_y = torch.randint(0, 4, (100,))
    return train_x, train_y, test_x, test_y


def _separable() -> tuple[torch.Tensor, ...]:
    """Four well separated clusters: any working classifier scores above 0.9 on held-out data."""
    with seeded(12):
        centers = torch.randn(4, 16) * 4.0  # (classes, features)
        train_y = torch.arange(4).repeat(20)  # (80,)
        test_y = torch.arange(4).repeat(15)  # (60,): a count of right answers is not a percent
        train_x = centers[train_y] + torch.randn(80, 16)
        test_x = centers[test_y] + torch.randn(60, 16)
    return train_x, train_y, test_x, test_y


def _as_fraction(report: CheckReport, what: str, value, examples: int) -> float | None:
    """The accuracy as a fraction; None, with a [fix] point, when it is not one (a count of the
    right answers out of ``examples``, a percent, NaN, another type)."""
    number = as_number(value)
    if number is None:
        report.fail(f"{what}: return one number (the accuracy), got {type(value).__name__}")
        return None
    if math.isnan(number):
        report.fail(f"{what}: the accuracy is NaN")
        return None
    if 1.0 < number <= examples and number == int(number):
        report.fail(f"{what}: got {number:.4g}: is that the number of right answers (out of "
                    f"{examples})? Return a fraction between 0 and 1: divide by the number of "
                    "test examples")
        return None
    if 1.0 < number <= 100.0:
        report.fail(f"{what}: got {number:.4g}; return a fraction between 0 and 1, not a percent")
        return None
    if not 0.0 <= number <= 1.0:
        report.fail(f"{what}: got {number:.4g}; an accuracy lies between 0 and 1")
        return None
    return number


@recorded
def check_held_out_accuracy(held_out_accuracy) -> CheckReport:
    """``held_out_accuracy(train_x, train_y, test_x, test_y) -> float``: train a classifier on
    the training split only, return the fraction of test examples it labels right."""
    report = CheckReport("accuracy on held-out data")
    ran, answer = call_learner(report, "held_out_accuracy on four clear clusters",
                               held_out_accuracy, *clones(*_separable()),
                               seconds=calling.TIME_LIMIT_SECONDS * TRAINING_ALLOWANCE)
    if not ran:
        return report
    if (score := _as_fraction(report, "four clear clusters", answer, 60)) is not None:
        if score >= 0.9:
            report.ok(f"four clear clusters: accuracy {score:.2f} (a working classifier)")
        else:
            report.fail(f"four clear clusters: accuracy {score:.2f}, expected above 0.9: check "
                        "the training (labels, steps, learning rate) and argmax over classes")
    ran, answer = call_learner(report, "held_out_accuracy on random labels",
                               held_out_accuracy, *clones(*_memorise_or_not()),
                               seconds=calling.TIME_LIMIT_SECONDS * TRAINING_ALLOWANCE)
    if ran and (score := _as_fraction(report, "random labels", answer, 100)) is not None:
        if score <= 0.5:
            report.ok(f"random labels: accuracy {score:.2f}, about chance (0.25) as it must be on "
                      "data the classifier never saw")
        else:
            report.fail(f"random labels: accuracy {score:.2f}, but random test labels cannot be "
                        "predicted (chance is 0.25): it looks like the accuracy was measured on "
                        "the training split, or the classifier was trained on the test split")
    return report


__all__ = ["check_held_out_accuracy", "check_sentence_features", "check_standardize"]
