"""Checkers for notebook 00 (welcome): the block's contract, its shapes and its input rule."""

from __future__ import annotations

import numpy as np
import torch

from course_lib.config import BertConfig
from course_lib.validation import MIN_BLOCK_LENGTH, as_id_tensor, check_input_ids

from .cases import Case, Unreadable, check_cases
from .compare import as_shape, as_tensor
from .mistakes import name_mistake
from .report import CheckReport, recorded

SEQUENCE_LENGTH = 12  # the questions are about a 12-token input
BATCH_SIZE = 4

SHAPE_QUESTIONS = {
    "cls": "MiniLM block, output='cls', one input of 12 token IDs",
    "sequence": "MiniLM block, output='sequence', the same 12 IDs",
    "average": "the 'sequence' output above after global average pooling",
    "batch_cls": "MiniLM block, output='cls', a batch of 4 inputs of 12 IDs (shape (4, 12))",
    "bert_base_cls": "BERT-base block, output='cls', one input of 12 IDs",
}


def _minilm_hidden_size() -> int:
    """The shipped model's width, read from its config.json (384 for all-MiniLM-L6-v2)."""
    from course_lib.pretrained import load_config, minilm_folder

    return load_config(minilm_folder()).hidden_size


def expected_shapes() -> dict[str, tuple[int, ...]]:
    """The right answers, from the models' configurations."""
    small, base = _minilm_hidden_size(), BertConfig.base().hidden_size
    return {
        "cls": (small,),
        "sequence": (SEQUENCE_LENGTH, small),
        "average": (small,),
        "batch_cls": (BATCH_SIZE, small),
        "bert_base_cls": (base,),
    }


def shape_mistakes(key: str, small: int, base: int) -> dict[str, tuple[int, ...]]:
    """The catalogue for one question: a typical mistake -> the shape it predicts."""
    catalogue = {
        "cls": {"'cls' keeps only the first vector: one vector, no sequence axis":
                (SEQUENCE_LENGTH, small)},
        "sequence": {"'sequence' returns one vector per token, so the 12 tokens stay": (small,)},
        "average": {"pooling averages over the tokens, so the sequence axis disappears":
                    (SEQUENCE_LENGTH, small)},
        "batch_cls": {"a batch keeps its batch axis: one CLS vector per input": (small,)},
    }
    return catalogue.get(key, {})


def _shape_hint(key: str, answer: tuple, small: int, base: int) -> str:
    """Name the likely mistake behind a wrong shape: from the catalogue, else by its widths."""
    named = name_mistake(answer, shape_mistakes(key, small, base))
    if named:
        return named
    if base in answer and key != "bert_base_cls":
        return f"MiniLM is {small} wide; {base} is BERT-base's width"
    if small in answer and key == "bert_base_cls":
        return f"BERT-base is {base} wide; {small} is MiniLM's width"
    return "look again at which axes the output keeps"


@recorded
def check_predicted_shapes(answers) -> CheckReport:
    """Compare a dict of predicted shapes (key -> tuple) with the real ones."""
    report = CheckReport("predicted output shapes")
    if not isinstance(answers, dict):
        report.fail(f"answers should be a dict like {{'cls': (384,), ...}}, got "
                    f"{type(answers).__name__}")
        return report
    try:
        expected = expected_shapes()
    except (OSError, ValueError) as error:
        report.fail(f"could not read the shipped model's config ({error}); is it installed?")
        return report
    small, base = expected["cls"][0], BertConfig.base().hidden_size
    for key, right in expected.items():
        if key not in answers or answers[key] is None:
            report.fail(f"'{key}' ({SHAPE_QUESTIONS[key]}) has no answer yet")
            continue
        answer = as_shape(answers[key])
        if answer is None:
            report.fail(f"'{key}' should be a tuple of ints such as (384,), got {answers[key]!r}")
        elif answer == right:
            report.ok(f"'{key}' is {right}")
        else:
            hint = _shape_hint(key, answer, small, base)
            report.fail(f"'{key}' is not {answer}: {hint}")
    return report


# (what the input is, the IDs, the vocabulary size, the rule it breaks or None when valid)
BLOCK_INPUT_CASES = [
    ("10 IDs in range", torch.arange(100, 110), 30522, None),
    ("the shortest input, 3 IDs", torch.tensor([101, 7592, 102]), 30522, None),
    ("the longest input, 512 IDs", torch.full((512,), 1000), 30522, None),
    ("the largest ID, vocab_size - 1", torch.tensor([101, 30521, 102]), 30522, None),
    ("only 2 IDs", torch.tensor([101, 102]), 30522,
     "at least 3 IDs are needed ([CLS], one token, [SEP])"),
    ("513 IDs", torch.full((513,), 1000), 30522, "at most 512 IDs fit (BERT has 512 positions)"),
    ("an ID equal to vocab_size", torch.tensor([101, 30522, 102]), 30522,
     "every ID must be below the vocabulary size"),
    ("an ID of 500 with vocab_size 100", torch.tensor([1, 500, 2]), 100,
     "every ID must be below the vocabulary size"),
    ("a negative ID", torch.tensor([101, -1, 102]), 30522, "IDs must not be negative"),
    ("a 2-D tensor (1, 5)", torch.arange(100, 105).unsqueeze(0), 30522,
     "a single input is a 1-D vector"),
    ("float IDs", torch.tensor([101.0, 7592.0, 102.0]), 30522, "IDs must be integers"),
]


def block_accepts(ids: torch.Tensor, vocab_size: int) -> bool:
    """The reference: course_lib's own validation of one (1-D) block input."""
    if not isinstance(ids, torch.Tensor) or ids.dim() != 1:
        return False
    try:
        batch = as_id_tensor(ids).unsqueeze(0)  # (1, seq)
        check_input_ids(batch, vocab_size, 512, MIN_BLOCK_LENGTH)
    except (TypeError, ValueError):
        return False
    return True


def _read_bool(answer) -> bool:
    """True or False; a NumPy bool or a one-element bool tensor (``(ids >= 0).all()``) counts."""
    answer = as_tensor(answer)
    if isinstance(answer, torch.Tensor) and answer.numel() == 1 and answer.dtype == torch.bool:
        return bool(answer)
    if isinstance(answer, (bool, np.bool_)):
        return bool(answer)
    raise Unreadable(f"return True or False, got {answer!r}")


@recorded
def check_block_input_rule(is_valid_block_input) -> CheckReport:
    """Run ``is_valid_block_input(ids, vocab_size) -> bool`` on valid and invalid inputs."""
    report = CheckReport("is_valid_block_input")
    rules = {description: rule for description, _, _, rule in BLOCK_INPUT_CASES}
    cases = [Case(description, (ids, vocab_size), block_accepts(ids, vocab_size),
                  call=f"is_valid_block_input on {description}")
             for description, ids, vocab_size, _ in BLOCK_INPUT_CASES]
    check_cases(report, "is_valid_block_input", is_valid_block_input, cases, read=_read_bool,
                explain=lambda case, _: (f"it must be refused: {rules[case.label]}"
                                         if rules[case.label] else "it is a valid input"))
    return report
