"""The explorer's pure views: maps + state -> the picture and the text shown, nothing else.

No widget here: ``Presenter(maps, patterns).draw(state)`` gives what the widget displays, so
every view can be tested on hand-made maps. Places of tokens are counted from 1 in the text
(never indices into a filtered view), like layers and heads.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .maps import AttentionMaps
from .patterns import HeadPatterns, head_pattern_scores
from .render import (
    GridPicture,
    message_image,
    missing_glyphs,
    render_attention_map,
    render_grid,
    stack,
)
from .state import SCALES, ExplorerState
from .tables import LABEL_SHORT, head_summary, head_value, links_html, pattern_table_html
from .views import MapView, select_view


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


@dataclass(frozen=True)
class Shown:
    """What one state shows: a picture, HTML details under it, and a one-line summary.

    parts: the pictures the image is made of (the grid and the enlarged map, say), for a page
    that lays them out side by side and wraps them on a narrow screen; empty: just ``image``.
    """

    image: Image.Image
    details: str
    summary: str
    parts: tuple = ()

    @property
    def pieces(self) -> tuple:
        return self.parts or (self.image,)


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


def divider(maps: AttentionMaps, positions: np.ndarray) -> int | None:
    """Index (in ``positions``) of the first token of sentence B, when both sentences are there."""
    segments = maps.segments[positions]
    if not (segments == 0).any() or not (segments == 1).any():
        return None
    return int(np.argmax(segments == 1))


class Presenter:
    """The views of one text's maps. Derived maps (filters, rollout) and grids are computed
    once per option setting and kept, so a new layer or head only redraws."""

    def __init__(self, maps: AttentionMaps, patterns: HeadPatterns | None = None):
        self.maps = maps
        self.patterns = patterns or head_pattern_scores(maps.weights, maps.tokens)
        self._views: dict[tuple, MapView] = {}
        self._grids: dict[tuple, GridPicture] = {}
        self.missing_glyphs = missing_glyphs(maps.tokens)  # characters no font here can draw

    # ----- the maps as the options show them -------------------------------------------------

    def view(self, state: ExplorerState) -> MapView:
        key = (state.pair_filter, state.hide_special, state.rollout)
        if key not in self._views:
            self._views[key] = select_view(self.maps, *key)
        return self._views[key]

    def head_index(self, state: ExplorerState) -> int:
        return 0 if state.rollout else state.head

    def shown_map(self, state: ExplorerState) -> np.ndarray:
        """The (rows, cols) map of the state's layer and head as the options show it."""
        return self.view(state).weights[state.layer, self.head_index(state)]

    def grid(self, state: ExplorerState) -> GridPicture:
        key = (state.pair_filter, state.hide_special, state.rollout, state.scale)
        if key not in self._grids:
            view = self.view(state)
            names = [str(i + 1) for i in range(view.weights.shape[0])]
            self._grids[key] = render_grid(view.weights, names, list(view.head_names),
                                           vmax=state.vmax)
        return self._grids[key]

    # ----- what is shown ---------------------------------------------------------------------

    def draw(self, state: ExplorerState) -> Shown:
        """The picture and text of ``state`` (checked against the maps first)."""
        state.check_against(self.maps)
        view = self.view(state)
        draw = {"model": self.model_view, "head": self.head_view, "token": self.token_view,
                "patterns": self.patterns_view}[state.view]
        image, details, *parts = draw(state, view)  # parts: the pieces of a composite
        maps = self.maps
        pair = (" The magenta line separates sentence A from sentence B." if maps.has_pair
                and state.view != "patterns" else "")
        fonts = (f" No font on this machine can draw {' '.join(self.missing_glyphs)} in the "
                 "picture (shown as boxes); the lists and the Token menu show them as text."
                 if self.missing_glyphs else "")
        summary = (f"{maps.num_layers} layers x {maps.num_heads} heads, {maps.length} tokens. "
                   f"Showing {view.description}. Colours: {SCALES[state.scale]} "
                   f"(see the colour bar).{pair}{fonts}")
        return Shown(image, details, summary, tuple(parts[0]) if parts else ())

    def title(self, state: ExplorerState) -> str:
        if state.rollout:
            return f"Rollout up to layer {state.layer + 1}"
        return f"Layer {state.layer + 1}, head {state.head + 1}"

    def _map_picture(self, state: ExplorerState, view: MapView, matrix, title: str,
                     max_extent: int) -> Image.Image:
        return render_attention_map(
            matrix, view.row_tokens, view.col_tokens, title=title, max_extent=max_extent,
            vmax=state.vmax, row_positions=tuple(view.row_positions),
            col_positions=tuple(view.col_positions),
            row_divider=divider(self.maps, view.row_positions),
            col_divider=divider(self.maps, view.col_positions))

    def model_view(self, state: ExplorerState, view: MapView):
        head = self.head_index(state)
        grid = self.grid(state).with_selection(state.layer, head)
        enlarged = self._map_picture(state, view, view.weights[state.layer, head],
                                     self.title(state), max_extent=280)
        details = "" if state.rollout else (
            f"<b>{html.escape(self.title(state))}</b>: "
            f"{html.escape(head_summary(self.patterns, state.layer, state.head))}")
        return stack([grid, enlarged], horizontal=True), details, (grid, enlarged)

    def head_view(self, state: ExplorerState, view: MapView):
        matrix = self.shown_map(state)
        title = f"{self.title(state)}: each row looks at the columns"
        image = self._map_picture(state, view, matrix, title, max_extent=640)
        details = links_html(strongest_links(view, matrix, count=10),
                             f"Strongest links ({self.title(state)}), looking token (place) → "
                             "token looked at (place): weight")
        if not state.rollout:
            summary = head_summary(self.patterns, state.layer, state.head)
            details += f"<p>Pattern: {html.escape(summary)}</p>"
        return image, details

    def token_view(self, state: ExplorerState, view: MapView):
        layer, token = state.layer, state.token
        label = f"'{self.maps.tokens[token]}' ({token + 1})"
        heads = [f"head {name}" for name in view.head_names]
        looks_at, looked_at_by = token_focus(view, layer, token)
        rows = np.flatnonzero(view.row_positions == token)
        cols = np.flatnonzero(view.col_positions == token)
        parts, details = [], []
        if looks_at is not None:
            parts.append(render_attention_map(
                view.weights[layer, :, rows[0], :], heads, view.col_tokens, max_extent=640,
                title=f"Where {label} looks, layer {layer + 1} (one row per head)",
                vmax=state.vmax, highlight_cols=cols[:1],
                col_positions=tuple(view.col_positions),
                col_divider=divider(self.maps, view.col_positions)))
            details.append(links_html(looks_at, f"{label} looks most at (mean of the heads)"))
        else:
            parts.append(message_image(f"{label} is not a looking token with this filter."))
        if looked_at_by is not None:
            parts.append(render_attention_map(
                view.weights[layer, :, :, cols[0]], heads, view.row_tokens, max_extent=640,
                title=f"Who looks at {label}, layer {layer + 1} (one row per head)",
                vmax=state.vmax, highlight_cols=rows[:1],
                col_positions=tuple(view.row_positions),
                col_divider=divider(self.maps, view.row_positions)))
            details.append(links_html(looked_at_by,
                                      f"Tokens that look most at {label} (mean of the heads)"))
        else:
            parts.append(message_image(f"{label} is not looked at with these options."))
        return stack(parts), "".join(details), tuple(parts)

    def patterns_view(self, state: ExplorerState, view: MapView):
        patterns, score = self.patterns, state.score
        layers, heads = patterns.labels.shape
        if score == "label":  # coloured by the same number the table shows under the label
            values = np.array([[head_value(patterns, layer, head) for head in range(heads)]
                               for layer in range(layers)], dtype=np.float32)
            text = [[LABEL_SHORT[label] for label in row] for row in patterns.labels]
            caption = "share (broad, mix: broadness)"
        else:
            values = patterns.score(score)
            text = [[f"{v:.2f}" for v in row] for row in values]
            caption = score
        selected = (state.layer, state.head)
        image = render_attention_map(
            values, [f"layer {i + 1}" for i in range(layers)], [str(h + 1) for h in range(heads)],
            cell=38, vmax=1.0, cell_text=text, highlight_cell=selected, bar_caption=caption,
            title=f"Head patterns: {score} (computed on the full maps)")
        return image, pattern_table_html(patterns, selected=selected)
