"""AttentionExplorer: the browser viewer (``live.py``, ``static/viewer.js``) in front, with the
controls that need Python around it: the model, the text (or a sentence pair), the options that
change the maps (sentence-pair filter, hidden [CLS]/[SEP], rollout) and saving to files.

Python computes the data (maps once per text, the options' view of them, query/key vectors
when asked) and holds the state; the viewer draws everything and sends its choices (layer,
head, view, token, colour scale) back. For readers without JavaScript (GitHub, nbviewer) the
saved output carries the one static picture (``render.static_png``).
"""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path

import ipywidgets as widgets

from course_lib.pretrained import load_tokenizer

from .export import checked_target, export_title, path_in_folder, save_png, write_static_html
from .live import LiveAttentionView
from .maps import AttentionMaps, compute_attention_maps
from .models import CHOICE_NAMES, GIVEN, MINILM, available_choices, load_choice
from .patterns import HeadPatterns, head_pattern_scores
from .querykey import encode_for_model, query_key_vectors
from .render import static_png
from .state import SCALES, ExplorerState
from .tables import card, code, note_html, pattern_table_html
from .views import MapView, select_view

DEFAULT_TEXT = "The cat sat on the mat because it was tired."
FILTER_LABELS = {"all": "all", "A->A": "A→A", "A->B": "A→B", "B->A": "B→A", "B->B": "B→B"}
WRAP = {"flex_flow": "row wrap", "align_items": "center"}  # rows wrap on narrow screens


class AttentionExplorer(widgets.VBox):
    """See what every head of every layer attends to, for a text or a sentence pair.

    ``AttentionExplorer()`` uses the shipped pretrained MiniLM; or pass ``model`` (a course
    BertModel) with its ``tokenizer``. Drive it from Python with ``set_view(...)``; layers,
    heads and tokens are counted from 0 there (as in ``out.attentions[layer]``), while the
    view counts from 1, as papers do. ``current_png()`` is the static picture of what is shown;
    ``save_png(path)`` and ``save_html(path)`` write it (or a standalone page) to a file.
    ``export_folder``: where the PNG / HTML page buttons write (default: the working folder).
    """

    def __init__(self, model=None, tokenizer=None, text: str = DEFAULT_TEXT,
                 text_pair: str | None = None, max_tokens: int | None = None,
                 export_folder: str | os.PathLike | None = None):
        super().__init__()
        if not isinstance(text, str):
            raise TypeError(f"text must be a string, got {type(text).__name__}")
        if text_pair is not None and not isinstance(text_pair, str):
            raise TypeError(f"text_pair must be a string or None, got {type(text_pair).__name__}")
        self._models: dict[str, tuple] = {}
        choices = available_choices()
        if model is not None:
            self._models[GIVEN] = (model, _tokenizer_for(model, tokenizer))
            choices = [GIVEN] + choices
        elif tokenizer is not None:
            raise TypeError("a tokenizer was given without a model: pass both, or neither")
        self.max_tokens = max_tokens
        self.export_folder = export_folder
        self._maps: AttentionMaps | None = None
        self._patterns: HeadPatterns | None = None
        self._views: dict[tuple, MapView] = {}
        self._holding = False
        self.message = ""
        self._build_controls(choices, text, text_pair)
        self._safely(self._load_model, self.model_choice.value)

    # ----- building ------------------------------------------------------------------------

    def _build_controls(self, choices, text, text_pair) -> None:
        wide = {"description_width": "initial"}
        self.model_choice = widgets.Dropdown(
            options=[(CHOICE_NAMES[key], key) for key in choices], description="Model",
            style=wide, layout=widgets.Layout(width="300px", max_width="100%"))
        self.text_box = widgets.Textarea(  # Show (or leaving the box) shows the new text
            value=text, description="Sentence A", continuous_update=False, rows=2, style=wide,
            layout=widgets.Layout(width="95%", max_width="640px"))  # the box inherits it
        self.pair_box = widgets.Textarea(
            value=text_pair or "", description="Sentence B", placeholder="optional",
            continuous_update=False, rows=1, style=wide,
            layout=widgets.Layout(flex="1 1 300px", max_width="560px"))
        self.show_button = widgets.Button(description="Show", button_style="primary",
                                          layout=widgets.Layout(width="70px"))
        self.pair_filter = widgets.ToggleButtons(
            options=[(label, key) for key, label in FILTER_LABELS.items()], value="all",
            description="Sentence pair", style={"button_width": "56px", **wide})
        self.hide_special = widgets.Checkbox(value=False, description="hide [CLS]/[SEP]",
                                             indent=False, layout=widgets.Layout(width="150px"))
        self.rollout = widgets.Checkbox(value=False, description="rollout", indent=False,
                                        layout=widgets.Layout(width="90px"))
        self.file_stem = widgets.Text(value="attention", description="Save as", style=wide,
                                      layout=widgets.Layout(width="220px"))
        self.save_png_button = widgets.Button(description="PNG", icon="download",
                                              layout=widgets.Layout(width="80px"))
        self.save_html_button = widgets.Button(description="HTML page", icon="download",
                                               layout=widgets.Layout(width="110px"))
        self.export_status = widgets.HTML()
        self.status = widgets.HTML()
        self.live_view = LiveAttentionView(parts="all")
        self.patterns_html = widgets.HTML()
        self.patterns_panel = widgets.Accordion(
            children=[self.patterns_html],
            titles=("Head patterns: every head's pattern and share, as a table",))
        self.patterns_panel.selected_index = None
        # CSS classes: stable handles for browser tests and for styling.
        self.add_class("attention-explorer")
        self.live_view.add_class("explorer-live")
        self.text_box.add_class("explorer-text-a")
        self.pair_box.add_class("explorer-text-b")
        self.save_png_button.add_class("explorer-save-png")
        self.save_html_button.add_class("explorer-save-html")
        self.status.add_class("explorer-status")
        self.patterns_panel.add_class("explorer-patterns")

        for control in (self.pair_filter, self.hide_special, self.rollout):
            control.observe(self._on_option, names="value")
        self.model_choice.observe(self._on_model, names="value")
        self.text_box.observe(self._on_text, names="value")
        self.pair_box.observe(self._on_text, names="value")
        self.show_button.on_click(lambda _: self._safely(self._load_text))
        self.save_png_button.on_click(lambda _: self._save_from_button("png"))
        self.save_html_button.on_click(lambda _: self._save_from_button("html"))

        def row(children):
            return widgets.HBox(children, layout=widgets.Layout(**WRAP))

        self.children = [
            self.model_choice,
            self.status,
            self.text_box,
            row([self.pair_box, self.show_button]),
            row([self.hide_special, self.rollout, self.pair_filter]),
            self.live_view,
            self.patterns_panel,
            row([self.file_stem, self.save_png_button, self.save_html_button,
                 self.export_status]),
        ]

    # ----- the state the controls hold -----------------------------------------------------

    @property
    def state(self) -> ExplorerState:
        """What the controls and the viewer are set to now, as one value."""
        live = self.live_view
        return ExplorerState(
            view=live.mode, layer=live.layer, head=live.head, token=live.focus,
            pair_filter=self.pair_filter.value, hide_special=self.hide_special.value,
            rollout=self.rollout.value, scale=live.scale)

    # ----- the Python interface ------------------------------------------------------------

    def set_view(self, layer: int | None = None, head: int | None = None,
                 text: str | None = None, text_pair: str | None = None,
                 view: str | None = None, token: int | None = None,
                 pair_filter: str | None = None, hide_special: bool | None = None,
                 rollout: bool | None = None, model: str | None = None,
                 scale: str | None = None) -> None:
        """Change what is shown, as the controls do.

        layer, head, token: indices from 0. view: "heatmap", "lines", "token" (token focus) or
        "qk" (query/key). pair_filter: "all", "A->A", "A->B", "B->A", "B->B". scale: "shared"
        (one 0..1 colour scale, the default) or "per-map" (contrast per map). model: a key of
        ``model_choices``. Text problems (empty, too long, ...) are shown as a message, like
        in the widget; wrong arguments raise an error naming the rule.
        """
        changes = {"layer": layer, "head": head, "token": token, "view": view,
                   "pair_filter": pair_filter, "hide_special": hide_special,
                   "rollout": rollout, "scale": scale}
        self.state.replace(**changes)  # types and names checked before anything changes
        if model is not None and model not in self.model_choices:
            raise ValueError(f"model must be one of {self.model_choices}, got {model!r}")
        for name, value in (("text", text), ("text_pair", text_pair)):
            if value is not None and not isinstance(value, str):
                raise TypeError(f"{name} must be a string, got {type(value).__name__}")

        self._holding = True
        try:
            if model is not None and model != self.model_choice.value:
                self.model_choice.value = model
                self._safely(self._load_model, model, send=False)
            new_text = ((text is not None and text != self.text_box.value)
                        or (text_pair is not None and text_pair != self.pair_box.value))
            if text is not None:
                self.text_box.value = text
            if text_pair is not None:
                self.pair_box.value = text_pair
            if new_text:
                self._safely(self._load_text, send=False)
            wanted = self.state.replace(**changes)  # on the new text's maps, if any
            if self._maps is not None:
                wanted.check_against(self._maps)
            self.pair_filter.value = wanted.pair_filter
            self.hide_special.value = wanted.hide_special
            self.rollout.value = wanted.rollout
        finally:
            self._holding = False
        if self._maps is not None:
            self._safely(self._show, wanted)

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
        return self._scored_patterns()

    def _scored_patterns(self) -> HeadPatterns | None:
        """The current text's head patterns and their table, scored once, after its maps have
        gone to the viewer (a new text's first maps do not wait for them)."""
        if self._patterns is None and self._maps is not None:
            self._patterns = head_pattern_scores(self._maps.weights, self._maps.tokens)
            self.patterns_html.value = pattern_table_html(self._patterns)
        return self._patterns

    @property
    def tokens(self) -> tuple[str, ...]:
        return self.maps.tokens if self.maps else ()

    @property
    def model_name(self) -> str:
        return CHOICE_NAMES[self.model_choice.value]

    def current_view(self) -> MapView | None:
        """The maps as the options (pair filter, hidden [CLS]/[SEP], rollout) show them."""
        return self._view_of(self.state) if self._maps is not None else None

    def shown_map(self):
        """The (rows, cols) map of the chosen layer and head as the options show it."""
        if self._maps is None:
            return None
        state = self.state
        return self._view_of(state).weights[state.layer, 0 if state.rollout else state.head]

    def title(self) -> str:
        """What saved files are called: the model, the sentence, the layer and the head."""
        state = self.state
        text = self.text_box.value + (f" / {self.pair_box.value}" if self.pair_box.value else "")
        return export_title(self.model_name, text, state.layer, state.head, state.rollout)

    def current_png(self) -> bytes:
        """The static picture of what is shown: the small maps and the chosen map, titled."""
        if self._maps is None:
            raise ValueError(f"nothing to draw: {self.message}")
        return static_png(self._maps, self.state, "all", self.title())

    def save_png(self, path: str | os.PathLike) -> Path:
        """Save the picture now shown as a PNG file (``.png`` added when missing)."""
        return save_png(self.current_png(), path)

    def save_html(self, path: str | os.PathLike) -> Path:
        """Write a standalone HTML page (no kernel, no internet): the viewer on every head,
        opening on what is shown now, and the head-pattern table (``.html`` added when
        missing)."""
        target = checked_target(path, "html")  # a bad name is refused before anything else
        if self._maps is None:
            raise ValueError(f"nothing to export: {self.message}")
        state = self.state
        try:  # the chosen layer's queries and keys, for the page's query/key view
            query_keys = self._query_keys_of_text()(state.layer)
        except (TypeError, ValueError):  # a model the view cannot read: the page goes without
            query_keys = None
        return write_static_html(target, self._maps, self.patterns, self.title(), state,
                                 query_keys=query_keys, model=self.model_name,
                                 text=self.text_box.value, mode=state.view, focus=state.token)

    def _repr_mimebundle_(self, **kwargs):
        """The live widget, and the static picture for readers without JavaScript."""
        bundle = super()._repr_mimebundle_(**kwargs)
        if self._maps is not None:
            bundle["image/png"] = base64.b64encode(self.current_png()).decode("ascii")
        return bundle

    # ----- reacting to the controls ----------------------------------------------------------

    def _safely(self, action, *args, **kwargs) -> None:
        """Run an update; a problem becomes a message in the widget, never a traceback."""
        try:
            action(*args, **kwargs)
        except Exception as error:  # the widget must keep working whatever the input
            self._show_message(f"{type(error).__name__}: {error}" if not isinstance(
                error, ValueError) else str(error))

    def _on_option(self, change) -> None:
        if not self._holding and self._maps is not None:
            self._safely(self._show, self.state)

    def _on_text(self, change) -> None:
        if not self._holding:
            self._safely(self._load_text)

    def _on_model(self, change) -> None:
        if not self._holding:
            self._safely(self._load_model, change["new"])

    def _load_model(self, key: str, send: bool = True) -> None:
        if key not in self._models:
            self.status.value = card(f"<i>loading {html.escape(CHOICE_NAMES[key])}…</i>")
            self._models[key] = load_choice(key)
        self._load_text(send=send)

    def _load_text(self, send: bool = True) -> None:
        """Compute every map of the text once; the viewer draws every later choice."""
        self._maps, self._patterns, self._views = None, None, {}
        key = self.model_choice.value
        if key not in self._models:
            raise ValueError(f"{CHOICE_NAMES[key]} could not be loaded; choose another model")
        model, tokenizer = self._models[key]
        maps = compute_attention_maps(model, tokenizer, self.text_box.value,
                                      self.pair_box.value or None, self.max_tokens)
        self._maps = maps  # its head patterns are scored once it is sent (see _show)
        self.pair_filter.disabled = not maps.has_pair
        if not maps.has_pair and self.pair_filter.value != "all":
            was_holding, self._holding = self._holding, True
            self.pair_filter.value = "all"
            self._holding = was_holding
        self.live_view.query_keys = self._query_keys_of_text()
        if send:
            self._show(self.state.fitted_to(maps))

    def _view_of(self, state: ExplorerState) -> MapView:
        key = (state.pair_filter, state.hide_special, state.rollout)
        if key not in self._views:
            self._views[key] = select_view(self._maps, *key)
        return self._views[key]

    def _show(self, state: ExplorerState) -> None:
        """Give the viewer the maps as ``state``'s options show them, opening on its choices."""
        state = state.fitted_to(self._maps)
        view = self._view_of(state)
        self.live_view.show(self._maps, state.layer, state.head, view,
                            {"mode": state.view, "focus": state.token, "scale": state.scale},
                            model=self.model_name, text=self.text_box.value)
        maps = self._maps
        self.message = maps.note
        summary = (f"{maps.num_layers} layers x {maps.num_heads} heads, {maps.length} tokens. "
                   f"Showing {view.description}; colours: {SCALES[state.scale]}.")
        if maps.has_pair:
            summary += " A magenta line separates sentence A from sentence B."
        note = note_html(maps.note) if maps.note else ""
        self.status.value = note + card(f"{html.escape(self.model_name)}: "
                                        f"{html.escape(summary)}")
        self._scored_patterns()  # a new text's table, after its maps

    def _query_keys_of_text(self):
        """A function layer -> (queries, keys) of the current model and text, for the viewer's
        query/key view (computed when the browser asks for it)."""
        model, tokenizer = self._models[self.model_choice.value]
        text, pair, limit = self.text_box.value, self.pair_box.value or None, self.max_tokens

        def query_keys(layer: int):
            inputs = encode_for_model(model, tokenizer, text, pair, limit)
            return query_key_vectors(model, *inputs, layer)[:2]

        return query_keys

    def _save_from_button(self, kind: str) -> None:
        """Write into ``export_folder`` and link the file written; a bad name or folder is
        reported beside the buttons."""
        try:
            path = path_in_folder(self.export_folder or Path.cwd(), self.file_stem.value, kind)
            existed = path.exists()
            written = self.save_png(path) if kind == "png" else self.save_html(path)
        except (OSError, ValueError, TypeError) as error:
            self.export_status.value = note_html(f"not saved: {error}")
            return
        again = " (replaced the earlier file)" if existed else ""
        self.live_view.offer(written)  # the browser downloads it (a Blob URL, no data URL)
        self.export_status.value = card(
            f"saved {code(written.name)} in {code(str(written.parent.resolve()))}{again}; "
            "your browser downloads it too")

    def _show_message(self, text: str) -> None:
        self.message = text
        self.status.value = note_html(text)
        self.live_view.show_message(text)


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
