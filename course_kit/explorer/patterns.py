"""Head patterns: how much of each head's attention goes to [CLS], [SEP], the previous, the same
and the next token, how spread out it is (entropy), and the pattern that dominates.

Clark et al. 2019 ("What does BERT look at?") and Kovaleva et al. 2019 ("Revealing the dark
secrets of BERT") describe these pattern families in BERT-base.

This module is the course's one definition of a head's scores and of its pattern label:
notebooks 04 and 08 show `definitions_markdown()` and use `head_pattern_scores`, so the
numbers and the words agree everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SHARE_NAMES = ("[CLS]", "[SEP]", "previous", "same", "next")
DOMINANT_SHARE = 0.5  # a pattern that takes at least half the attention names the head
BROAD_ENTROPY = 0.75  # entropy / log(seq) at or above this, with no dominant pattern: "broad"
LABELS = SHARE_NAMES + ("broad", "mixed")

# The definitions in words, one per score; rows are the tokens that look, columns those looked at.
SCORE_DEFINITIONS = {
    "[CLS]": "attention to every position holding [CLS], summed, then averaged over all rows",
    "[SEP]": "attention to every position holding [SEP] (a pair has two), summed, then averaged "
             "over all rows",
    "previous": "weight from token i to token i - 1, averaged over the rows that have one",
    "same": "weight from token i to itself, averaged over all rows",
    "next": "weight from token i to token i + 1, averaged over the rows that have one",
    "entropy": "-sum(a log a) of each row, averaged over all rows (nats)",
    "broadness": "entropy / log(seq): 0 when each row looks at one place, 1 when evenly spread",
}


def definitions_markdown() -> str:
    """The scores and the labelling rule as a Markdown table, for the notebooks to display."""
    rows = [f"| `{name}` | {text} |" for name, text in SCORE_DEFINITIONS.items()]
    rule = (f"**Label**: the share (of {', '.join(SHARE_NAMES)}) that takes at least "
            f"{DOMINANT_SHARE:g} of the attention; if none does, `broad` when the broadness is at "
            f"least {BROAD_ENTROPY:g}, else `mixed`. A label is a summary: always read it with "
            "its share.")
    return "\n".join(["| score | definition |", "|---|---|", *rows, "", rule])


@dataclass(frozen=True)
class HeadPatterns:
    """Scores of every head. Each array has shape (layers, heads).

    shares: the mean share of attention (over the looking tokens) for each name in SHARE_NAMES.
    entropy: mean entropy of the rows, in nats; broadness: entropy / log(seq), from 0 to 1.
    labels: the dominant pattern of each head, one of LABELS.
    """

    shares: dict[str, np.ndarray]
    entropy: np.ndarray
    broadness: np.ndarray
    labels: np.ndarray

    def score(self, name: str) -> np.ndarray:
        """One score by name: a share name, "entropy" or "broadness"."""
        if name in self.shares:
            return self.shares[name]
        if name in ("entropy", "broadness"):
            return getattr(self, name)
        raise ValueError(f"unknown score {name!r}; choose from {list(SHARE_NAMES)}, "
                         "'entropy' or 'broadness'")

    def heads_labeled(self, label: str) -> list[tuple[int, int]]:
        """(layer, head) pairs, counted from 0, whose dominant pattern is ``label``."""
        if label not in LABELS:
            raise ValueError(f"unknown label {label!r}; choose from {list(LABELS)}")
        layers, heads = np.nonzero(self.labels == label)
        return [(int(layer), int(head)) for layer, head in zip(layers, heads, strict=True)]


def token_share(weights: np.ndarray, tokens, token: str) -> np.ndarray:
    """Mean over looking tokens of the attention that goes to every position holding ``token``."""
    columns = np.array([t == token for t in tokens])
    return weights[..., columns].sum(axis=-1).mean(axis=-1, dtype=np.float64)  # (layers, heads)


def offset_share(weights: np.ndarray, offset: int) -> np.ndarray:
    """Mean attention from position i to position i + offset, over the i where that exists."""
    seq = weights.shape[-1]
    if seq <= abs(offset):
        return np.zeros(weights.shape[:-2], dtype=np.float32)
    diagonal = np.diagonal(weights, offset=offset, axis1=-2, axis2=-1)  # (layers, heads, seq-|o|)
    return diagonal.mean(axis=-1, dtype=np.float64)


def row_entropy(weights: np.ndarray) -> np.ndarray:
    """Mean entropy (nats) of the rows: 0 when each token looks at one place, log(seq) if even."""
    safe = np.where(weights > 0, weights, 1.0)
    per_row = -(weights * np.log(safe)).sum(axis=-1)  # (layers, heads, seq)
    return per_row.mean(axis=-1, dtype=np.float64)


def label_head(shares: dict[str, float], broadness: float) -> str:
    """The dominant pattern of one head from its shares and its broadness."""
    best = max(SHARE_NAMES, key=lambda name: shares[name])
    if shares[best] >= DOMINANT_SHARE:
        return best
    return "broad" if broadness >= BROAD_ENTROPY else "mixed"


def head_pattern_scores(weights, tokens) -> HeadPatterns:
    """Score every head of maps with shape (layers, heads, seq, seq) over ``tokens``."""
    array = np.asarray(weights, dtype=np.float32)  # float32 keeps 512-token BERT-base maps light
    if array.ndim != 4 or array.shape[2] != array.shape[3]:
        raise ValueError(f"maps must have shape (layers, heads, seq, seq), got {array.shape}")
    if len(tokens) != array.shape[-1]:
        raise ValueError(f"got {len(tokens)} tokens for maps over {array.shape[-1]} positions")
    shares = {
        "[CLS]": token_share(array, tokens, "[CLS]"),
        "[SEP]": token_share(array, tokens, "[SEP]"),
        "previous": offset_share(array, -1),
        "same": offset_share(array, 0),
        "next": offset_share(array, 1),
    }
    entropy = row_entropy(array)
    seq = array.shape[-1]
    broadness = entropy / np.log(seq) if seq > 1 else np.zeros_like(entropy)
    labels = np.empty(array.shape[:2], dtype=object)
    for layer in range(array.shape[0]):
        for head in range(array.shape[1]):
            head_shares = {name: float(values[layer, head]) for name, values in shares.items()}
            labels[layer, head] = label_head(head_shares, float(broadness[layer, head]))
    as_float32 = {name: values.astype(np.float32) for name, values in shares.items()}
    return HeadPatterns(as_float32, entropy.astype(np.float32), broadness.astype(np.float32),
                        labels)
