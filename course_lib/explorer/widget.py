"""AttentionExplorer: every head of every layer, as a widget made of standard ipywidgets only
(no JavaScript of its own, no CDN), so it shows in JupyterLab, Notebook 7, VS Code and Colab.

The maps are computed once per text; every control change redraws one Pillow image.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

import ipywidgets as widgets
import numpy as np

from ..pretrained import load_tokenizer
from .export import save_png, write_static_html
from .maps import AttentionMaps, compute_attention_maps
from .models import CHOICE_NAMES, GIVEN, MINILM, available_choices, load_choice
from .patterns import SHARE_NAMES, HeadPatterns, head_pattern_scores
from .render import (
    GridPicture,
    image_to_png,
    message_image,
    render_attention_map,
    render_grid,
    stack,
)
from .tables import LABEL_SHORT, head_summary, links_html, pattern_table_html, strongest_links
from .views import PAIR_FILTERS, MapView, select_view

DEFAULT_TEXT = "The cat sat on the mat because it was tired."
VIEWS = {"model": "Model view", "head": "Head view", "token": "Token focus",
         "patterns": "Head patterns"}
SCORES = ("label",) + SHARE_NAMES + ("broadness",)
FILTER_LABELS = {"all": "all", "A->A": "A→A", "A->B": "A→B", "B->A": "B→A", "B->B": "B→B"}


class AttentionExplorer(widgets.VBox):
    """See what every head of every layer attends to, for a text or a sentence pair.

    ``AttentionExplorer()`` uses the shipped pretrained MiniLM; or pass ``model`` (a course
    BertModel) with its ``tokenizer``. Drive it from Python with ``set_view(...)``; layers,
    heads and tokens are counted from 0 there (as in ``out.attentions[layer]``), while the
    controls and pictures count from 1, as papers do. ``current_png()`` is the picture shown.
    """

    def __init__(self, model=None, tokenizer=None, text: str = DEFAULT_TEXT,
                 text_pair: str | None = None, max_tokens: int | None = None):
        super().__init__()
        self._models: dict[str, tuple] = {}
        choices = available_choices()
        if model is not None:
            self._models[GIVEN] = (model, _tokenizer_for(model, tokenizer))
            choices = [GIVEN] + choices
        elif tokenizer is not None:
            raise TypeError("a tokenizer was given without a model: pass both, or neither")
        self.max_tokens = max_tokens
        self._maps: AttentionMaps | None = None
        self._patterns: HeadPatterns | None = None
        self._views: dict[tuple, MapView] = {}
        self._grids: dict[tuple, GridPicture] = {}
        self._holding = False
        self._note = ""
        self.message = ""
        self._build_controls(choices, text, text_pair)
        self._safely(self._load_model, self.model_choice.value)

    # ----- building ------------------------------------------------------------------------

    def _build_controls(self, choices, text, text_pair) -> None:
        wide = {"description_width": "initial"}
        self.model_choice = widgets.Dropdown(
            options=[(CHOICE_NAMES[key], key) for key in choices], description="Model",
            style=wide)
        self.view_select = widgets.ToggleButtons(
            options=[(label, key) for key, label in VIEWS.items()], value="model",
            style={"button_width": "124px"})
        self.text_box = widgets.Textarea(
            value=text if isinstance(text, str) else "", description="Sentence A",
            continuous_update=False, style=wide, layout=widgets.Layout(width="62%", height="48px"))
        self.pair_box = widgets.Text(
            value=text_pair or "", description="Sentence B", placeholder="optional",
            continuous_update=False, style=wide, layout=widgets.Layout(width="30%"))
        self.show_button = widgets.Button(description="Show", button_style="primary",
                                          layout=widgets.Layout(width="70px"))
        self.layer_select = widgets.Dropdown(description="Layer", style=wide,
                                             layout=widgets.Layout(width="110px"))
        self.head_select = widgets.Dropdown(description="Head", style=wide,
                                            layout=widgets.Layout(width="110px"))
        self.token_select = widgets.Dropdown(description="Token", style=wide,
                                             layout=widgets.Layout(width="220px"))
        self.score_select = widgets.Dropdown(options=SCORES, value="label", description="Score",
                                             style=wide, layout=widgets.Layout(width="170px"))
        self.pair_filter = widgets.ToggleButtons(
            options=[(label, key) for key, label in FILTER_LABELS.items()], value="all",
            description="Sentence pair", style={"button_width": "64px", **wide})
        self.hide_special = widgets.Checkbox(value=False, description="hide [CLS]/[SEP]",
                                             indent=False, layout=widgets.Layout(width="140px"))
        self.rollout = widgets.Checkbox(value=False, description="rollout", indent=False,
                                        layout=widgets.Layout(width="80px"))
        self.file_stem = widgets.Text(value="attention", description="Save as", style=wide,
                                      layout=widgets.Layout(width="220px"))
        self.save_png_button = widgets.Button(description="PNG", icon="download",
                                              layout=widgets.Layout(width="80px"))
        self.save_html_button = widgets.Button(description="HTML page", icon="download",
                                               layout=widgets.Layout(width="110px"))
        self.status = widgets.HTML()
        self.picture = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.details = widgets.HTML()
        # CSS classes: stable handles for browser tests and for styling.
        self.add_class("attention-explorer")
        self.layer_select.add_class("explorer-layer")
        self.head_select.add_class("explorer-head")
        self.picture.add_class("explorer-picture")

        for control in (self.view_select, self.layer_select, self.head_select, self.token_select,
                        self.score_select, self.pair_filter, self.hide_special, self.rollout):
            control.observe(self._on_option, names="value")
        self.model_choice.observe(self._on_model, names="value")
        self.text_box.observe(self._on_text, names="value")
        self.pair_box.observe(self._on_text, names="value")
        self.show_button.on_click(lambda _: self._safely(self._load_text))
        self.save_png_button.on_click(lambda _: self._safely(self._save_from_button, "png"))
        self.save_html_button.on_click(lambda _: self._safely(self._save_from_button, "html"))

        row = widgets.HBox
        self.children = [
            row([self.model_choice, self.view_select]),
            row([self.text_box, self.pair_box, self.show_button]),
            row([self.layer_select, self.head_select, self.token_select, self.score_select,
                 self.hide_special, self.rollout]),
            row([self.pair_filter]),
            row([self.file_stem, self.save_png_button, self.save_html_button]),
            self.status,
            self.picture,
            self.details,
        ]

    # ----- the Python interface ------------------------------------------------------------

    def set_view(self, layer: int | None = None, head: int | None = None,
                 text: str | None = None, text_pair: str | None = None,
                 view: str | None = None, token: int | None = None,
                 pair_filter: str | None = None, hide_special: bool | None = None,
                 rollout: bool | None = None, score: str | None = None,
                 model: str | None = None) -> None:
        """Change what is shown, as the controls do, then redraw once.

        layer, head, token: indices from 0. view: "model", "head", "token" or "patterns".
        pair_filter: "all", "A->A", "A->B", "B->A", "B->B". model: a key of ``model_choices``.
        Text problems (empty, too long, ...) are shown as a message, like in the widget.
        """
        if view is not None and view not in VIEWS:
            raise ValueError(f"view must be one of {list(VIEWS)}, got {view!r}")
        if pair_filter is not None and pair_filter not in PAIR_FILTERS:
            raise ValueError(
                f"pair_filter must be one of {list(PAIR_FILTERS)}, got {pair_filter!r}")
        if score is not None and score not in SCORES:
            raise ValueError(f"score must be one of {list(SCORES)}, got {score!r}")
        if model is not None and model not in self.model_choices:
            raise ValueError(f"model must be one of {self.model_choices}, got {model!r}")
        for name, value in (("text", text), ("text_pair", text_pair)):
            if value is not None and not isinstance(value, str):
                raise TypeError(f"{name} must be a string, got {type(value).__name__}")
        for name, value in (("hide_special", hide_special), ("rollout", rollout)):
            if value is not None and not isinstance(value, bool):
                raise TypeError(f"{name} must be True or False, got {value!r}")

        self._holding = True
        try:
            if model is not None and model != self.model_choice.value:
                self.model_choice.value = model
                self._safely(self._load_model, model, redraw=False)
            new_text = text is not None and text != self.text_box.value
            new_pair = text_pair is not None and text_pair != self.pair_box.value
            if text is not None:
                self.text_box.value = text
            if text_pair is not None:
                self.pair_box.value = text_pair
            if new_text or new_pair:
                self._safely(self._load_text, redraw=False)
            if self._maps is not None:
                self._check_index("layer", layer, self._maps.num_layers)
                self._check_index("head", head, self._maps.num_heads)
                self._check_index("token", token, self._maps.length)
                if pair_filter not in (None, "all") and not self._maps.has_pair:
                    raise ValueError(f"pair_filter {pair_filter!r} needs a sentence B (text_pair)")
            settings = [(self.view_select, view), (self.pair_filter, pair_filter),
                        (self.score_select, score), (self.hide_special, hide_special),
                        (self.rollout, rollout)]
            if self._maps is not None:  # without a valid text there are no layers to pick
                settings += [(self.layer_select, _index(layer)), (self.head_select, _index(head)),
                             (self.token_select, _index(token))]
            for control, value in settings:
                if value is not None:
                    control.value = value
        finally:
            self._holding = False
            self._safely(self._redraw)  # also after a refused value: show what is now set

    @staticmethod
    def _check_index(name: str, value, count: int) -> None:
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an integer index, got {value!r}")
        if not 0 <= value < count:
            raise ValueError(f"{name} must be between 0 and {count - 1} (counted from 0), "
                             f"got {value}")

    @property
    def model_choices(self) -> list[str]:
        """The model keys the dropdown offers on this machine."""
        return [key for _, key in self.model_choice.options]

    @property
    def maps(self) -> AttentionMaps | None:
        """All the maps of the current text (None when there is no valid text)."""
        return self._maps

    @property
    def patterns(self) -> HeadPatterns | None:
        """Pattern scores and labels of every head for the current text."""
        return self._patterns

    @property
    def tokens(self) -> tuple[str, ...]:
        return self._maps.tokens if self._maps else ()

    def current_view(self) -> MapView | None:
        """The maps as the options (pair filter, hidden [CLS]/[SEP], rollout) show them."""
        if self._maps is None:
            return None
        key = (self.pair_filter.value, self.hide_special.value, self.rollout.value)
        if key not in self._views:
            self._views[key] = select_view(self._maps, *key)
        return self._views[key]

    def shown_map(self) -> np.ndarray | None:
        """The (rows, cols) map of the chosen layer and head as the options show it."""
        view = self.current_view()
        if view is None:
            return None
        return view.weights[self.layer_select.value, self._head_index(view)]

    def current_png(self) -> bytes:
        """The PNG bytes of the picture now shown."""
        return bytes(self.picture.value)

    def save_png(self, path: str | os.PathLike) -> Path:
        """Save the picture now shown as a PNG file."""
        return save_png(self.current_png(), path)

    def save_html(self, path: str | os.PathLike) -> Path:
        """Write a standalone HTML page (no kernel, no internet) with the grid and the table."""
        if self._maps is None:
            raise ValueError(f"nothing to export: {self.message}")
        view = self.current_view()
        grid = self._grid(view)
        title = f"Attention of {CHOICE_NAMES[self.model_choice.value]}"
        return write_static_html(path, image_to_png(grid.image), self._maps, self._patterns,
                                 title, view.description)

    # ----- reacting to the controls ----------------------------------------------------------

    def _safely(self, action, *args, **kwargs) -> None:
        """Run an update; a problem becomes a message in the widget, never a traceback."""
        try:
            action(*args, **kwargs)
        except Exception as error:  # the widget must keep working whatever the input
            self._show_message(f"{type(error).__name__}: {error}" if not isinstance(
                error, ValueError) else str(error))

    def _on_option(self, change) -> None:
        if not self._holding:
            self._safely(self._redraw)

    def _on_text(self, change) -> None:
        if not self._holding:
            self._safely(self._load_text)

    def _on_model(self, change) -> None:
        if not self._holding:
            self._safely(self._load_model, change["new"])

    def _load_model(self, key: str, redraw: bool = True) -> None:
        if key not in self._models:
            self.status.value = f"<i>loading {html.escape(CHOICE_NAMES[key])}…</i>"
            self._models[key] = load_choice(key)
        self._load_text(redraw=redraw)

    def _load_text(self, redraw: bool = True) -> None:
        """Compute every map of the text once; later control changes only redraw."""
        self._maps, self._patterns = None, None
        self._views.clear()
        self._grids.clear()
        key = self.model_choice.value
        if key not in self._models:
            raise ValueError(f"{CHOICE_NAMES[key]} could not be loaded; choose another model")
        model, tokenizer = self._models[key]
        maps = compute_attention_maps(model, tokenizer, self.text_box.value,
                                      self.pair_box.value or None, self.max_tokens)
        self._patterns = head_pattern_scores(maps.weights, maps.tokens)
        self._maps = maps
        was_holding = self._holding
        self._holding = True  # new options must not each trigger a redraw
        try:
            _set_options(self.layer_select, [(str(i + 1), i) for i in range(maps.num_layers)])
            _set_options(self.head_select, [(str(i + 1), i) for i in range(maps.num_heads)])
            _set_options(self.token_select,
                         [(f"{i + 1}: {t}", i) for i, t in enumerate(maps.tokens)])
            if not maps.has_pair:
                self.pair_filter.value = "all"
            self.pair_filter.disabled = not maps.has_pair
        finally:
            self._holding = was_holding
        if redraw:
            self._redraw()

    def _save_from_button(self, kind: str) -> None:
        stem = (self.file_stem.value or "attention").strip()
        path = Path(stem if stem.endswith(f".{kind}") else f"{stem}.{kind}")
        written = self.save_png(path) if kind == "png" else self.save_html(path)
        self.status.value += f"<br>saved <code>{html.escape(str(written.resolve()))}</code>"

    # ----- drawing -----------------------------------------------------------------------

    def _show_message(self, text: str) -> None:
        self.message = text
        self.status.value = (f"<div style='background:#fff4d6;border:1px solid #e6c200;"
                             f"padding:4px 8px'>{html.escape(text)}</div>")
        self.picture.value = image_to_png(message_image(text))
        self.details.value = ""

    def _head_index(self, view: MapView) -> int:
        return 0 if len(view.head_names) == 1 else self.head_select.value

    def _grid(self, view: MapView) -> GridPicture:
        key = (self.pair_filter.value, self.hide_special.value, self.rollout.value)
        if key not in self._grids:
            names = [str(i + 1) for i in range(view.weights.shape[0])]
            self._grids[key] = render_grid(view.weights, names, list(view.head_names))
        return self._grids[key]

    def _redraw(self) -> None:
        if self._maps is None:
            self._load_text(redraw=False)
        view = self.current_view()
        kind = self.view_select.value
        self.token_select.layout.display = None if kind == "token" else "none"
        self.score_select.layout.display = None if kind == "patterns" else "none"
        self.head_select.disabled = self.rollout.value
        draw = {"model": self._draw_model_view, "head": self._draw_head_view,
                "token": self._draw_token_view, "patterns": self._draw_patterns_view}[kind]
        image, details = draw(view)
        self.picture.value = image_to_png(image)
        self.details.value = details
        self.message = self._maps.note
        note = (f"<div style='background:#fff4d6;border:1px solid #e6c200;padding:4px 8px'>"
                f"{html.escape(self._maps.note)}</div>" if self._maps.note else "")
        model_name = html.escape(CHOICE_NAMES[self.model_choice.value])
        self.status.value = (
            f"{note}<span style='font-size:12px'>{model_name}: {self._maps.num_layers} layers x "
            f"{self._maps.num_heads} heads, "
            f"{self._maps.length} tokens. Showing {html.escape(view.description)}. "
            "Darkest = the strongest link of each map.</span>")

    def _title(self, view: MapView) -> str:
        layer = self.layer_select.value
        if self.rollout.value:
            return f"Rollout up to layer {layer + 1}"
        return f"Layer {layer + 1}, head {self.head_select.value + 1}"

    def _draw_model_view(self, view: MapView):
        layer, head = self.layer_select.value, self._head_index(view)
        grid = self._grid(view).with_selection(layer, head)
        enlarged = render_attention_map(view.weights[layer, head], view.row_tokens,
                                        view.col_tokens, title=self._title(view), max_extent=380,
                                        **_positions(view))
        details = "" if self.rollout.value else (
            f"<b>{html.escape(self._title(view))}</b>: "
            f"{html.escape(head_summary(self._patterns, layer, head))}")
        return stack([grid, enlarged], horizontal=True), details

    def _draw_head_view(self, view: MapView):
        matrix = self.shown_map()
        image = render_attention_map(matrix, view.row_tokens, view.col_tokens,
                                     title=f"{self._title(view)}: each row looks at the columns",
                                     max_extent=640, **_positions(view))
        links = strongest_links(matrix, view.row_tokens, view.col_tokens, count=10)
        details = links_html(links, f"Strongest links ({self._title(view)}), from → to: weight")
        if not self.rollout.value:
            summary = head_summary(self._patterns, *self._layer_head())
            details += f"<p>Pattern: {html.escape(summary)}</p>"
        return image, details

    def _layer_head(self) -> tuple[int, int]:
        return self.layer_select.value, self.head_select.value

    def _draw_token_view(self, view: MapView):
        layer, token = self.layer_select.value, self.token_select.value
        label = self._maps.tokens[token]
        heads = [f"head {name}" for name in view.head_names]
        parts, details = [], []
        rows = np.flatnonzero(view.row_positions == token)
        cols = np.flatnonzero(view.col_positions == token)
        if len(rows):
            looks = view.weights[layer, :, rows[0], :]  # (heads, cols)
            parts.append(render_attention_map(
                looks, heads, view.col_tokens, max_extent=640,
                title=f"Where '{label}' looks, layer {layer + 1} (one row per head)",
                highlight_cols=cols[:1], col_positions=view.col_positions))
            mean = looks.mean(axis=0)[None]  # (1, cols)
            details.append(links_html(strongest_links(mean, [label], view.col_tokens, 5),
                                      f"'{label}' looks most at (mean of the heads)"))
        else:
            parts.append(message_image(f"'{label}' is not a looking token with this filter."))
        if len(cols):
            looked_at = view.weights[layer, :, :, cols[0]]  # (heads, rows)
            parts.append(render_attention_map(
                looked_at, heads, view.row_tokens, max_extent=640,
                title=f"Who looks at '{label}', layer {layer + 1} (one row per head)",
                highlight_cols=rows[:1], col_positions=view.row_positions))
            mean = looked_at.mean(axis=0)[None]  # (1, rows)
            details.append(links_html(strongest_links(mean, [label], view.row_tokens, 5),
                                      f"Tokens that look most at '{label}' (mean of the heads)"))
        else:
            parts.append(message_image(f"'{label}' is not looked at with these options."))
        return stack(parts), "".join(details)

    def _draw_patterns_view(self, view: MapView):
        patterns, score = self._patterns, self.score_select.value
        if score == "label":
            values = np.max(np.stack([patterns.shares[n] for n in SHARE_NAMES]), axis=0)
            text = [[LABEL_SHORT[label] for label in row] for row in patterns.labels]
        else:
            values = patterns.score(score)
            text = [[f"{v:.2f}" for v in row] for row in values]
        layers, heads = values.shape
        image = render_attention_map(
            values, [f"layer {i + 1}" for i in range(layers)], [str(h + 1) for h in range(heads)],
            cell=38, vmax=1.0, cell_text=text, highlight_cell=self._layer_head(),
            title=f"Head patterns: {score} (computed on the full maps)")
        return image, pattern_table_html(patterns, selected=self._layer_head())


def _index(value):
    """A NumPy integer as a plain int (what the dropdowns hold); None stays None."""
    return None if value is None else int(value)


def _positions(view: MapView) -> dict:
    """The tokens' positions in the text, to number thinned labels of a filtered map."""
    return {"row_positions": tuple(view.row_positions), "col_positions": tuple(view.col_positions)}


def _set_options(dropdown: widgets.Dropdown, options) -> None:
    """Replace a dropdown's options, keeping the chosen index when it still exists."""
    keep = dropdown.value if dropdown.value is not None else 0
    dropdown.options = options
    dropdown.value = min(keep, len(options) - 1)


def _tokenizer_for(model, tokenizer):
    """The tokenizer to use with a given model; the shipped one fits BERT's 30,522-word vocab."""
    if not hasattr(model, "config") or not callable(model):
        raise TypeError(f"model must be a course_lib BertModel, got {type(model).__name__}")
    if tokenizer is None:
        if model.config.vocab_size != 30522:
            raise ValueError("pass the tokenizer that goes with this model: its vocabulary "
                             f"({model.config.vocab_size} words) is not BERT's 30,522")
        return load_tokenizer(MINILM)
    if not (hasattr(tokenizer, "encode") and hasattr(tokenizer, "tokenize")):
        raise TypeError(
            f"tokenizer must have encode() and tokenize(), got {type(tokenizer).__name__}")
    return tokenizer
