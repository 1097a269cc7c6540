"""What the explorer shows of the maps: rollout or raw, a sentence-pair filter, hidden [CLS]/[SEP].

Each option picks rows (the tokens that look) and columns (the tokens looked at) and, when it
drops columns, renormalises every row so that it sums to 1 again. The strongest links of a shown
map, and a token's focus, are read from the same view (places counted from 1 in the text).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .maps import SPECIAL_TOKENS, AttentionMaps
from .rollout import attention_rollout, renormalize_rows

# filter name -> (segment of the looking tokens, segment of the tokens looked at)
PAIR_FILTERS = {"all": None, "A->A": (0, 0), "A->B": (0, 1), "B->A": (1, 0), "B->B": (1, 1)}


@dataclass(frozen=True)
class MapView:
    """The maps as shown. weights: (layers, heads, rows, cols); heads is 1 for rollout."""

    weights: np.ndarray
    row_positions: np.ndarray
    col_positions: np.ndarray
    row_tokens: tuple[str, ...]
    col_tokens: tuple[str, ...]
    head_names: tuple[str, ...]
    description: str

    def square(self, length: int) -> np.ndarray:
        """The shown maps placed back at their places in the text, (layers, heads, seq, seq):
        what the browser viewer draws; cells the options hide are 0 (see ``hidden``)."""
        if len(self.row_positions) == len(self.col_positions) == length:
            return self.weights
        full = np.zeros(self.weights.shape[:2] + (length, length), dtype=np.float32)
        full[:, :, self.row_positions[:, None], self.col_positions[None, :]] = self.weights
        return full

    def hidden(self, length: int) -> tuple[list[int], list[int]]:
        """The rows and the columns (places from 0) that the options hide."""
        return ([int(i) for i in np.setdiff1d(np.arange(length), self.row_positions)],
                [int(i) for i in np.setdiff1d(np.arange(length), self.col_positions)])


@dataclass(frozen=True)
class Link:
    """One attention link: ``source`` (the token that looks) -> ``target`` (the token looked at).

    source, target: places in the text, counted from 1. weight: the attention weight.
    """

    source: int
    source_token: str
    target: int
    target_token: str
    weight: float


def strongest_links(view: MapView, matrix: np.ndarray, count: int = 10) -> list[Link]:
    """The ``count`` largest entries of a shown (rows, cols) map, strongest first."""
    flat = np.argsort(matrix, axis=None, kind="stable")[::-1][:count]
    rows, cols = np.unravel_index(flat, matrix.shape)
    return [_link(view, int(r), int(c), float(matrix[r, c]))
            for r, c in zip(rows, cols, strict=True)]


def token_focus(view: MapView, layer: int, token: int, count: int = 5):
    """Where the token at text index ``token`` (from 0) looks, and who looks at it, in ``layer``
    (mean of the heads), as two lists of ``Link``s, strongest first.

    First list: links token -> others (its row). Second: others -> token (its column). A list
    is None when the token is not among the rows (or columns) the options show.
    """
    rows = np.flatnonzero(view.row_positions == token)
    cols = np.flatnonzero(view.col_positions == token)
    looks_at = looked_at_by = None
    if len(rows):
        mean = view.weights[layer, :, rows[0], :].mean(axis=0)  # (cols,)
        best = np.argsort(mean, kind="stable")[::-1][:count]
        looks_at = [_link(view, int(rows[0]), int(c), float(mean[c])) for c in best]
    if len(cols):
        mean = view.weights[layer, :, :, cols[0]].mean(axis=0)  # (rows,)
        best = np.argsort(mean, kind="stable")[::-1][:count]
        looked_at_by = [_link(view, int(r), int(cols[0]), float(mean[r])) for r in best]
    return looks_at, looked_at_by


def _link(view: MapView, row: int, col: int, weight: float) -> Link:
    """The link of cell (row, col) of a shown map, with places in the text counted from 1."""
    return Link(int(view.row_positions[row]) + 1, view.row_tokens[row],
                int(view.col_positions[col]) + 1, view.col_tokens[col], weight)


def select_view(maps: AttentionMaps, pair_filter: str = "all", hide_special: bool = False,
                rollout: bool = False) -> MapView:
    """The part of ``maps`` that the chosen options show, with rows renormalised where cut."""
    if pair_filter not in PAIR_FILTERS:
        raise ValueError(f"pair_filter must be one of {list(PAIR_FILTERS)}, got {pair_filter!r}")
    if PAIR_FILTERS[pair_filter] and not maps.has_pair:
        raise ValueError(f"the filter {pair_filter} needs a sentence pair: give a sentence B")
    if rollout:
        weights = attention_rollout(maps.weights)[:, None]  # (layers, 1, seq, seq)
        head_names = ("mean",)
    else:
        weights = maps.weights
        head_names = tuple(str(h + 1) for h in range(maps.num_heads))

    positions = np.arange(maps.length)
    rows, cols = positions, positions
    if PAIR_FILTERS[pair_filter]:
        row_segment, col_segment = PAIR_FILTERS[pair_filter]
        rows = positions[maps.segments == row_segment]
        cols = positions[maps.segments == col_segment]
    if hide_special:
        special = np.array([t in SPECIAL_TOKENS for t in maps.tokens])
        cols = cols[~special[cols]]
    if len(cols) == 0 or len(rows) == 0:
        raise ValueError("no tokens are left to show with these options")

    cut = len(cols) < maps.length
    shown = weights
    if len(rows) < maps.length:
        shown = shown[:, :, _as_index(rows)]  # (layers, heads, rows, seq)
    if cut:  # (layers, heads, rows, cols), each row summing to 1 again
        shown = renormalize_rows(shown[..., _as_index(cols)])
    parts = ["attention rollout (heads averaged)" if rollout else "attention"]
    if PAIR_FILTERS[pair_filter]:
        parts.append(f"from sentence {pair_filter[0]} to sentence {pair_filter[-1]}")
    if hide_special:
        parts.append("without [CLS]/[SEP]")
    if cut:
        parts.append("rows renormalised")
    return MapView(
        weights=np.ascontiguousarray(shown, dtype=np.float32),
        row_positions=rows,
        col_positions=cols,
        row_tokens=tuple(maps.tokens[i] for i in rows),
        col_tokens=tuple(maps.tokens[i] for i in cols),
        head_names=head_names,
        description=", ".join(parts),
    )


def _as_index(positions: np.ndarray):
    """A slice when the positions are consecutive (no copy), else the positions themselves."""
    if len(positions) and positions[-1] - positions[0] + 1 == len(positions):
        return slice(int(positions[0]), int(positions[-1]) + 1)
    return positions
