"""Helpers shared by test modules: the reference model, seeded padded batches, exact GELU."""

from __future__ import annotations

import math

import pytest
import torch


def reference_model(folder, attention="eager"):
    """`transformers.BertModel` read from a folder, in eval mode: the model we must equal."""
    transformers = pytest.importorskip("transformers")
    return transformers.BertModel.from_pretrained(str(folder), attn_implementation=attention).eval()


def padded_batch(vocab_size: int, lengths=(24, 17, 5), seed: int = 0):
    """Random IDs with [CLS]/[SEP], padding after each length, segment B on the second half."""
    generator = torch.Generator().manual_seed(seed)
    width = max(lengths)
    ids = torch.randint(1000, vocab_size, (len(lengths), width), generator=generator)
    mask = torch.zeros_like(ids)
    segments = torch.zeros_like(ids)
    for row, length in enumerate(lengths):
        ids[row, 0], ids[row, length - 1] = 101, 102
        ids[row, length:] = 0
        mask[row, :length] = 1
        segments[row, length // 2 : length] = 1
    return ids, mask, segments


def exact_gelu(x):
    """GELU written from its definition, as a learner's right answer."""
    return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))
