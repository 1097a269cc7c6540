"""Attention maps of one text (or a sentence pair): run the model once, keep every head's map."""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

SPECIAL_TOKENS = ("[CLS]", "[SEP]")
ONE_THREAD_UP_TO = 128  # tokens: below this, one thread beats several (no thread handshakes)


@dataclass(frozen=True)
class AttentionMaps:
    """Every head's attention for one input, as NumPy, plus the tokens it was computed on.

    weights: (layers, heads, seq, seq), row i = where token i looks, each row sums to 1.
    segments: (seq,) 0 for sentence A (with [CLS] and its [SEP]), 1 for sentence B.
    note: a remark to show with the maps, e.g. that the text was truncated.
    """

    weights: np.ndarray
    tokens: tuple[str, ...]
    segments: np.ndarray
    note: str = ""

    @property
    def num_layers(self) -> int:
        return self.weights.shape[0]

    @property
    def num_heads(self) -> int:
        return self.weights.shape[1]

    @property
    def length(self) -> int:
        return self.weights.shape[2]

    @property
    def has_pair(self) -> bool:
        return bool((self.segments == 1).any())


def maps_from_weights(weights, tokens, segments=None, note: str = "") -> AttentionMaps:
    """Wrap attention weights you already have (a tensor or array) with their tokens, checked.

    weights: (layers, heads, seq, seq); tokens: seq strings; segments: seq 0/1 values or None.
    """
    if isinstance(weights, torch.Tensor):
        weights = weights.detach().cpu().float().numpy()
    array = np.asarray(weights, dtype=np.float32)
    if array.ndim != 4 or array.shape[2] != array.shape[3]:
        raise ValueError(
            f"attention weights must have shape (layers, heads, seq, seq), got {array.shape}"
        )
    if isinstance(tokens, str) or not all(isinstance(t, str) for t in tokens):
        raise TypeError("tokens must be a list of strings, one per position")
    tokens = tuple(tokens)
    if len(tokens) != array.shape[2]:
        raise ValueError(f"got {len(tokens)} tokens for maps over {array.shape[2]} positions")
    _check_values(array)
    if segments is None:
        segment_array = np.zeros(len(tokens), dtype=np.int64)
    else:
        segment_array = np.asarray(segments, dtype=np.int64).reshape(-1)
        if segment_array.shape != (len(tokens),) or not np.isin(segment_array, (0, 1)).all():
            raise ValueError(f"segments must be {len(tokens)} values, each 0 (A) or 1 (B)")
    return AttentionMaps(array, tokens, segment_array, note)


def _check_values(array: np.ndarray) -> None:
    """Refuse maps with NaN, infinity or negative weights, naming the first head (from 1)."""
    for bad, what in ((np.isnan(array), "NaN"), (np.isinf(array), "infinite values"),
                      (array < 0, "negative weights")):
        if bad.any():
            layer, head = (int(i) + 1 for i in np.argwhere(bad)[0][:2])
            raise ValueError(
                f"the attention maps hold {what} (first in layer {layer}, head {head}): they "
                "are not drawn. Attention weights must be finite and non-negative; a model "
                "that gives NaN usually has NaN weights or an overflow")


def compute_attention_maps(model, tokenizer, text: str, text_pair: str | None = None,
                           max_tokens: int | None = None) -> AttentionMaps:
    """Tokenize ``text`` (and ``text_pair``), run ``model`` once and return all its maps.

    Texts longer than ``max_tokens`` (default and upper limit: the model's position count, 512
    for BERT) are truncated, and the returned ``note`` says so.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")
    if text_pair is not None and not isinstance(text_pair, str):
        raise TypeError(f"text_pair must be a string or None, got {type(text_pair).__name__}")
    if not text.strip():
        raise ValueError("the text is empty: type a sentence to see its attention")
    text_pair = text_pair if text_pair and text_pair.strip() else None
    limit = model.config.max_position_embeddings
    if max_tokens is not None:
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 3:
            raise ValueError(f"max_tokens must be an integer of at least 3, got {max_tokens!r}")
        limit = min(limit, max_tokens)

    pieces_a = len(tokenizer.tokenize(text))
    pieces_b = len(tokenizer.tokenize(text_pair)) if text_pair else 0
    if pieces_a == 0 or (text_pair and pieces_b == 0):
        raise ValueError("the text has no word pieces (only spaces or control characters?)")
    encoding = tokenizer.encode(text, text_pair=text_pair, max_length=limit)
    tokens = list(encoding.tokens)
    segments = list(encoding.token_type_ids)
    wanted = pieces_a + pieces_b + (3 if text_pair else 2)  # with [CLS] and one or two [SEP]
    note = ""
    if wanted > len(tokens):
        note = (f"The input has {wanted} tokens; only the first {len(tokens)} are shown "
                f"(the limit is {limit}).")

    device = next(model.parameters()).device
    ids = torch.tensor([list(encoding)], dtype=torch.long, device=device)  # (1, seq)
    types = torch.tensor([segments], dtype=torch.long, device=device)  # (1, seq)
    was_training = model.training
    model.eval()  # no dropout: the maps must not change from one run to the next
    try:
        with torch.no_grad(), _threads(threads_for(len(tokens))):
            out = model(ids, token_type_ids=types, output_attentions=True)
    finally:
        model.train(was_training)
    weights = torch.stack(out.attentions, dim=0)[:, 0]  # (layers, heads, seq, seq)
    return maps_from_weights(weights, tokens, segments, note)


def threads_for(length: int) -> int | None:
    """The CPU threads for a forward pass over ``length`` tokens (None: torch's own count).

    Up to ``ONE_THREAD_UP_TO`` tokens, one. Longer: at most the cores that other programs leave
    free (read from the 1-minute load average where the system has one, at least one), because
    a thread that waits for a busy core stalls every operation of the pass: the shipped model
    at 512 tokens took 364 ms on one thread and 1,066 ms on two on a 2-core machine whose other
    programs kept about two cores busy (medians of 6, interleaved).
    """
    if length <= ONE_THREAD_UP_TO:
        return 1
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):  # Windows has no load average: torch's own count
        return None
    return max(1, round((os.cpu_count() or 1) - busy))


@contextmanager
def _threads(count: int | None):
    """Run with at most ``count`` CPU threads, then restore the caller's setting.

    A short text is a small job: on a busy machine, splitting it over threads costs more in
    waiting for each other than it saves (measured: 90 ms on one thread, 1.5 s on two, for the
    shipped model at 64 tokens on a loaded 2-core machine).
    """
    before = torch.get_num_threads()
    if count is None or count >= before:
        yield
        return
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)
