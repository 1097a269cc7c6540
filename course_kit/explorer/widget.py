"""AttentionExplorer: a thin widget that binds standard ipywidgets controls to an
``ExplorerState`` and shows what ``Presenter.draw(state)`` gives (no JavaScript of its own, no
CDN), so it works in JupyterLab, Notebook 7, VS Code and Colab.

The maps are computed once per text (``compute_attention_maps``); models are found and loaded by
``models.py``; every control change redraws one Pillow image from the maps and the state.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

import ipywidgets as widgets

from course_lib.pretrained import load_tokenizer

from .export import checked_target, data_url, path_in_folder, save_png, write_static_html
from .maps import AttentionMaps, compute_attention_maps
from .models import CHOICE_NAMES, GIVEN, MINILM, available_choices, load_choice
from .patterns import HeadPatterns
from .present import Presenter
from .querykey import encode_for_model, query_key_vectors
from .render import image_to_png, message_image
from .state import SCALES, SCORES, VIEWS, ExplorerState
from .tables import card, code, note_html
from .views import MapView

DEFAULT_TEXT = "The cat sat on the mat because it was tired."
FILTER_LABELS = {"all": "all", "A->A": "A→A", "A->B": "A→B", "B->A": "B→A", "B->B": "B→B"}
WRAP = {"flex_flow": "row wrap", "align_items": "center"}  # rows wrap on narrow screens
LIVE_TITLE = ("Live view: hover a cell for its weight, click a small map, lines, token focus, "
              "query/key (drawn in the browser)")


class AttentionExplorer(widgets.VBox):
    """See what every head of every layer attends to, for a text or a sentence pair.

    ``AttentionExplorer()`` uses the shipped pretrained MiniLM; or pass ``model`` (a course
    BertModel) with its ``tokenizer``. Drive it from Python with ``set_view(...)``; layers,
    heads and tokens are counted from 0 there (as in ``out.attentions[layer]``), while the
    controls, lists and pictures count from 1, as papers do. ``current_png()`` is the picture
    shown; ``save_png(path)`` and ``save_html(path)`` write it (or a standalone page) to a file.
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
        self._presenter: Presenter | None = None
        self._holding = False
        self._tallest = 0  # px: the tallest picture shown for this text
        self.message = ""
        self._build_controls(choices, text, text_pair)
        self._safely(self._load_model, self.model_choice.value)

    # ----- building ------------------------------------------------------------------------

    def _build_controls(self, choices, text, text_pair) -> None:
        wide = {"description_width": "initial"}
        self.model_choice = widgets.Dropdown(
            options=[(CHOICE_NAMES[key], key) for key in choices], description="Model",
            style=wide, layout=widgets.Layout(width="300px"))
        self.view_select = widgets.ToggleButtons(
            options=[(label, key) for key, label in VIEWS.items()], value="model",
            style={"button_width": "120px"})
        self.text_box = widgets.Text(  # Enter (or leaving the box) shows the new text
            value=text, description="Sentence A", continuous_update=False, style=wide,
            layout=widgets.Layout(width="460px", max_width="100%"))
        self.pair_box = widgets.Text(
            value=text_pair or "", description="Sentence B", placeholder="optional",
            continuous_update=False, style=wide,
            layout=widgets.Layout(width="340px", max_width="100%"))
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
        self.scale_select = widgets.Dropdown(
            options=[(label, key) for key, label in SCALES.items()], value="shared",
            description="Colours", style=wide, layout=widgets.Layout(width="230px"))
        self.pair_filter = widgets.ToggleButtons(
            options=[(label, key) for key, label in FILTER_LABELS.items()], value="all",
            description="Sentence pair", style={"button_width": "56px", **wide})
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
        self.export_status = widgets.HTML()
        self.status = widgets.HTML()
        # Drawn at its natural size (never stretched: no blur); wide pictures scroll.
        # Two pieces (the model view's grid and enlarged map) sit side by side and wrap.
        self.picture = widgets.Image(format="png")
        self.picture_more = widgets.Image(format="png", layout=widgets.Layout(display="none"))
        self.picture_box = widgets.Box([self.picture, self.picture_more], layout=widgets.Layout(
            overflow="auto", max_width="100%", align_items="flex-start", flex_flow="row wrap",
            grid_gap="12px"))
        self._composite = None  # the whole picture shown, as one image (for current_png)
        self._composite_png: bytes | None = None
        self.details = widgets.HTML()
        # The live view (anywidget): built when first opened, so a closed one costs nothing.
        self.live_panel = widgets.Accordion(
            children=[widgets.HTML(card("Open to load the live view."))],
            titles=(LIVE_TITLE,))
        self.live_panel.selected_index = None
        self.live_view = None
        # CSS classes: stable handles for browser tests and for styling.
        self.add_class("attention-explorer")
        self.layer_select.add_class("explorer-layer")
        self.head_select.add_class("explorer-head")
        self.picture.add_class("explorer-picture")
        self.picture_more.add_class("explorer-picture-more")
        self.live_panel.add_class("explorer-live")
        self.text_box.add_class("explorer-text-a")
        self.pair_box.add_class("explorer-text-b")
        self.save_png_button.add_class("explorer-save-png")
        self.status.add_class("explorer-status")
        self.details.add_class("explorer-details")

        for control in (self.view_select, self.layer_select, self.head_select, self.token_select,
                        self.score_select, self.scale_select, self.pair_filter,
                        self.hide_special, self.rollout):
            control.observe(self._on_option, names="value")
        self.model_choice.observe(self._on_model, names="value")
        self.text_box.observe(self._on_text, names="value")
        self.pair_box.observe(self._on_text, names="value")
        self.show_button.on_click(lambda _: self._safely(self._load_text))
        self.save_png_button.on_click(lambda _: self._save_from_button("png"))
        self.save_html_button.on_click(lambda _: self._save_from_button("html"))
        self.live_panel.observe(lambda _: self._safely(self._update_live), names="selected_index")

        def row(children):
            return widgets.HBox(children, layout=widgets.Layout(**WRAP))

        self.children = [
            row([self.model_choice, self.view_select]),
            row([self.text_box, self.pair_box, self.show_button]),
            row([self.layer_select, self.head_select, self.token_select, self.score_select,
                 self.scale_select, self.hide_special, self.rollout]),
            row([self.pair_filter]),
            row([self.file_stem, self.save_png_button, self.save_html_button,
                 self.export_status]),
            self.status,
            self.picture_box,
            self.details,
            self.live_panel,
        ]

    # ----- the state the controls hold -----------------------------------------------------

    @property
    def state(self) -> ExplorerState:
        """What the controls are set to now, as one value."""
        return ExplorerState(
            view=self.view_select.value, layer=self.layer_select.value or 0,
            head=self.head_select.value or 0, token=self.token_select.value or 0,
            pair_filter=self.pair_filter.value, hide_special=self.hide_special.value,
            rollout=self.rollout.value, score=self.score_select.value,
            scale=self.scale_select.value)

    def _show_state(self, state: ExplorerState) -> None:
        """Set every control to ``state`` without a redraw per control."""
        was_holding, self._holding = self._holding, True
        try:
            pairs = [(self.view_select, state.view), (self.pair_filter, state.pair_filter),
                     (self.score_select, state.score), (self.scale_select, state.scale),
                     (self.hide_special, state.hide_special), (self.rollout, state.rollout)]
            if self._presenter is not None:  # without a valid text there are no layers to pick
                pairs += [(self.layer_select, state.layer), (self.head_select, state.head),
                          (self.token_select, state.token)]
            for control, value in pairs:
                control.value = value
        finally:
            self._holding = was_holding

    # ----- the Python interface ------------------------------------------------------------

    def set_view(self, layer: int | None = None, head: int | None = None,
                 text: str | None = None, text_pair: str | None = None,
                 view: str | None = None, token: int | None = None,
                 pair_filter: str | None = None, hide_special: bool | None = None,
                 rollout: bool | None = None, score: str | None = None,
                 model: str | None = None, scale: str | None = None) -> None:
        """Change what is shown, as the controls do, then redraw once.

        layer, head, token: indices from 0. view: "model", "head", "token" or "patterns".
        pair_filter: "all", "A->A", "A->B", "B->A", "B->B". scale: "shared" (one 0..1 colour
        scale, the default) or "per-map" (contrast per map). model: a key of
        ``model_choices``. Text problems (empty, too long, ...) are shown as a message, like
        in the widget; wrong arguments raise an error naming the rule.
        """
        changes = {"layer": layer, "head": head, "token": token, "view": view,
                   "pair_filter": pair_filter, "hide_special": hide_special,
                   "rollout": rollout, "score": score, "scale": scale}
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
                self._safely(self._load_model, model, redraw=False)
            new_text = text is not None and text != self.text_box.value
            new_pair = text_pair is not None and text_pair != self.pair_box.value
            if text is not None:
                self.text_box.value = text
            if text_pair is not None:
                self.pair_box.value = text_pair
            if new_text or new_pair:
                self._safely(self._load_text, redraw=False)
            wanted = self.state.replace(**changes)  # on the new text's maps, if any
            if self._presenter is not None:
                wanted.check_against(self._presenter.maps)
            self._show_state(wanted)
        finally:
            self._holding = False
            self._safely(self._redraw)  # also after a refused value: show what is now set

    @property
    def model_choices(self) -> list[str]:
        """The model keys the dropdown offers on this machine."""
        return [key for _, key in self.model_choice.options]

    @property
    def maps(self) -> AttentionMaps | None:
        """All the maps of the current text (None when there is no valid text)."""
        return self._presenter.maps if self._presenter else None

    @property
    def patterns(self) -> HeadPatterns | None:
        """Pattern scores and labels of every head for the current text."""
        return self._presenter.patterns if self._presenter else None

    @property
    def tokens(self) -> tuple[str, ...]:
        return self.maps.tokens if self.maps else ()

    def current_view(self) -> MapView | None:
        """The maps as the options (pair filter, hidden [CLS]/[SEP], rollout) show them."""
        return self._presenter.view(self.state) if self._presenter else None

    def shown_map(self):
        """The (rows, cols) map of the chosen layer and head as the options show it."""
        return self._presenter.shown_map(self.state) if self._presenter else None

    def current_png(self) -> bytes:
        """The PNG bytes of the picture now shown (all its pieces in one image)."""
        if self._composite_png is None:
            self._composite_png = (bytes(self.picture.value) if self._composite is None
                                   else image_to_png(self._composite))
        return self._composite_png

    def save_png(self, path: str | os.PathLike) -> Path:
        """Save the picture now shown as a PNG file (``.png`` added when missing)."""
        return save_png(self.current_png(), path)

    def save_html(self, path: str | os.PathLike) -> Path:
        """Write a standalone HTML page (no kernel, no internet): a live viewer of every head
        (hover, click), the view shown now, the grid and the table (``.html`` added when
        missing)."""
        target = checked_target(path, "html")  # a bad name is refused before anything else
        if self._presenter is None:
            raise ValueError(f"nothing to export: {self.message}")
        state = self.state
        grid = self._presenter.grid(state)
        title = f"Attention of {CHOICE_NAMES[self.model_choice.value]}"
        try:  # the chosen layer's queries and keys, for the page's query/key view
            query_keys = self._query_keys_of_text()(state.layer)
        except (TypeError, ValueError):  # a model the view cannot read: the page goes without
            query_keys = None
        return write_static_html(target, image_to_png(grid.image), self._presenter.maps,
                                 self._presenter.patterns, title,
                                 self._presenter.view(state).description,
                                 view_png=self.current_png(), layer=state.layer,
                                 head=self._presenter.head_index(state), query_keys=query_keys)

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
            self.status.value = card(f"<i>loading {html.escape(CHOICE_NAMES[key])}…</i>")
            self._models[key] = load_choice(key)
        self._load_text(redraw=redraw)

    def _load_text(self, redraw: bool = True) -> None:
        """Compute every map of the text once; later control changes only redraw."""
        self._presenter = None
        self._tallest = 0
        key = self.model_choice.value
        if key not in self._models:
            raise ValueError(f"{CHOICE_NAMES[key]} could not be loaded; choose another model")
        model, tokenizer = self._models[key]
        maps = compute_attention_maps(model, tokenizer, self.text_box.value,
                                      self.pair_box.value or None, self.max_tokens)
        state = self.state.fitted_to(maps)
        self._presenter = Presenter(maps)
        was_holding, self._holding = self._holding, True  # new options: no redraw each
        try:
            self.layer_select.options = [(str(i + 1), i) for i in range(maps.num_layers)]
            self.head_select.options = [(str(i + 1), i) for i in range(maps.num_heads)]
            self.token_select.options = [(f"{i + 1}: {t}", i) for i, t in enumerate(maps.tokens)]
            self.pair_filter.disabled = not maps.has_pair
            self._show_state(state)
        finally:
            self._holding = was_holding
        if redraw:
            self._redraw()

    def _update_live(self) -> None:
        """Send the maps to the live view when it is open and does not have them yet."""
        if self.live_panel.selected_index is None or self._presenter is None:
            return
        if self.live_view is None:
            try:
                from .live import LiveAttentionView
            except ImportError:  # anywidget missing: the pictures above still work
                self.live_panel.children = [widgets.HTML(note_html(
                    "The live view needs the anywidget package: pip install anywidget"))]
                return
            self.live_view = LiveAttentionView()
            self.live_panel.children = [self.live_view]
        state, maps = self.state, self._presenter.maps
        head = self._presenter.head_index(state)
        if self.live_view.maps is not maps:  # a new text: send its maps
            self.live_view.query_keys = self._query_keys_of_text()
            self.live_view.show(maps, state.layer, head)
        else:  # the browser answers hovers and clicks; a new layer is sent when it lacks it
            with self.live_view.hold_sync():
                self.live_view.head, self.live_view.layer = head, state.layer

    def _query_keys_of_text(self):
        """A function layer -> (queries, keys) of the current model and text, for the live
        view's query/key view (computed when the browser asks for it)."""
        model, tokenizer = self._models[self.model_choice.value]
        text, pair, limit = self.text_box.value, self.pair_box.value or None, self.max_tokens

        def query_keys(layer: int):
            inputs = encode_for_model(model, tokenizer, text, pair, limit)
            return query_key_vectors(model, *inputs, layer)[:2]

        return query_keys

    def _save_from_button(self, kind: str) -> None:
        """Write into ``export_folder`` and offer the file as a browser download; a bad name or
        folder is reported beside the buttons (the picture stays as it is)."""
        try:
            path = path_in_folder(self.export_folder or Path.cwd(), self.file_stem.value, kind)
            existed = path.exists()
            written = self.save_png(path) if kind == "png" else self.save_html(path)
        except (OSError, ValueError, TypeError) as error:
            self.export_status.value = note_html(f"not saved: {error}")
            return
        again = " (replaced the earlier file)" if existed else ""
        mime = "image/png" if kind == "png" else "text/html"
        link = (f"<a class='explorer-download' download='{html.escape(written.name, quote=True)}'"
                f" href='{data_url(written.read_bytes(), mime)}' style='color:#0b57d0'>"
                "download it</a>")
        self.export_status.value = card(f"saved {code(written.name)} in "
                                        f"{code(str(written.parent.resolve()))}{again}: {link}")

    # ----- drawing -----------------------------------------------------------------------

    def _show_message(self, text: str) -> None:
        self.message = text
        self.status.value = note_html(text)
        self._show_pictures((message_image(text),))
        self.details.value = ""

    def _show_pictures(self, pieces, composite=None) -> None:
        """Show one or two pieces at their natural size; ``composite``: all of them as one
        image (what current_png returns), when there are two."""
        for widget, piece in zip((self.picture, self.picture_more), pieces, strict=False):
            widget.value = image_to_png(piece)
            widget.layout.width = f"{piece.width}px"  # natural size: one image pixel a pixel
            widget.layout.min_width = f"{piece.width}px"
        self.picture_more.layout.display = None if len(pieces) > 1 else "none"
        self._composite = composite if len(pieces) > 1 else None
        self._composite_png = None
        # The area keeps the tallest picture of this text, so the page does not jump when a
        # shorter view is chosen (a new text starts again from its first picture).
        self._tallest = max(self._tallest, max(piece.height for piece in pieces))
        self.picture_box.layout.min_height = f"{self._tallest}px"

    def _redraw(self) -> None:
        if self._presenter is None:
            self._load_text(redraw=False)
        state = self.state
        self.token_select.layout.display = None if state.view == "token" else "none"
        self.score_select.layout.display = None if state.view == "patterns" else "none"
        self.head_select.disabled = state.rollout
        shown = self._presenter.draw(state)
        self._show_pictures(shown.pieces[:2], shown.image)
        self.details.value = card(shown.details) if shown.details else ""
        maps = self._presenter.maps
        self.message = maps.note
        note = note_html(maps.note) if maps.note else ""
        model_name = html.escape(CHOICE_NAMES[self.model_choice.value])
        self.status.value = note + card(f"{model_name}: {html.escape(shown.summary)}")
        self._update_live()


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
