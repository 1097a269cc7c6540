"""The models the explorer can switch between, found on this machine only (never downloaded)."""

from __future__ import annotations

from importlib import metadata

import torch

from course_lib.config import BertConfig
from course_lib.model import BertModel
from course_lib.pretrained import MINILM_PACKAGE, load_pretrained, load_tokenizer

GIVEN = "given"
MINILM = "minilm"
RANDOM_BASE = "random-base"
BERT_BASE_UNCASED = "bert-base-uncased"
CHOICE_NAMES = {
    GIVEN: "the model passed in",
    MINILM: "shipped MiniLM (pretrained)",
    RANDOM_BASE: "random BERT-base",
    BERT_BASE_UNCASED: "bert-base-uncased",
}


def shipped_model_installed() -> bool:
    """True when the package that ships the pretrained MiniLM is installed."""
    try:
        metadata.distribution(MINILM_PACKAGE)
    except metadata.PackageNotFoundError:
        return False
    return True


def bert_base_uncased_cached() -> bool:
    """True when bert-base-uncased is already in the local Hugging Face cache (no network)."""
    from course_lib.pretrained import cached_folder

    return cached_folder(BERT_BASE_UNCASED) is not None


def available_choices() -> list[str]:
    """The model keys that can be loaded here, in the order the dropdown lists them."""
    choices = [MINILM] if shipped_model_installed() else []
    choices.append(RANDOM_BASE)
    if bert_base_uncased_cached():
        choices.append(BERT_BASE_UNCASED)
    return choices


def load_choice(key: str):
    """(model, tokenizer) for a model key; the random BERT-base is seeded, so always the same."""
    if key == MINILM:
        return load_pretrained(MINILM), load_tokenizer(MINILM)
    if key == RANDOM_BASE:
        with torch.random.fork_rng(devices=[]):  # leave the caller's random state untouched
            torch.manual_seed(0)
            model = BertModel(BertConfig.base()).eval()
        return model, load_tokenizer(MINILM)  # the bert-base-uncased vocabulary
    if key == BERT_BASE_UNCASED:
        return load_pretrained(BERT_BASE_UNCASED), load_tokenizer(BERT_BASE_UNCASED)
    raise ValueError(f"unknown model choice {key!r}; choose from {list(CHOICE_NAMES)[1:]}")
