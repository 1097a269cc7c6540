"""The explorer's viewer, reduced for a lesson: a sentence box above one head's map (notebook
03) or the maps of one layer (notebook 04). The same viewer (``static/viewer.js``) as the
explorer and its saved pages, so it looks and answers the same: hover a cell (or Tab to it and
use the arrow keys) for its weight, click a small map to enlarge it, lines, token focus.

The maps are computed once per text; a layer or head change is drawn in the browser. A text
longer than ``max_tokens`` is cut, and the view says so in a visible note.
"""

from __future__ import annotations

import base64

import ipywidgets as widgets

from .live import LiveAttentionView
from .maps import AttentionMaps, compute_attention_maps
from .querykey import encode_for_model, query_key_vectors
from .render import static_png
from .state import ExplorerState

LESSON_PARTS = ("head", "layer")


class AttentionMapsWidget(widgets.VBox):
    """A sentence box (Enter applies) and the attention of ``model`` on it, drawn in the browser.

    ``parts="head"``: one head's map, with Layer and Head menus; ``parts="layer"``: the heads
    of one layer as small maps, click one to enlarge it. ``layer`` and ``head`` are counted
    from 0 here (as in ``out.attentions[layer][0, head]``); the view counts from 1.
    """

    def __init__(self, model, tokenizer, text: str, parts: str = "head", layer: int = 0,
                 head: int = 0, max_tokens: int | None = None):
        super().__init__()
        if parts not in LESSON_PARTS:
            raise ValueError(f"parts must be one of {list(LESSON_PARTS)}, got {parts!r}")
        if not isinstance(text, str):
            raise TypeError(f"text must be a string, got {type(text).__name__}")
        self.model, self.tokenizer, self.max_tokens = model, tokenizer, max_tokens
        self.text_box = widgets.Textarea(value=text, description="Sentence", rows=2,
                                         continuous_update=False,
                                         style={"description_width": "initial"},
                                         layout=widgets.Layout(width="560px", max_width="100%"))
        self.view = LiveAttentionView(parts=parts)
        self.text_box.observe(lambda change: self._load(change["new"]), names="value")
        self.add_class("attention-maps-widget")
        self.children = [self.text_box, self.view]
        self._load(text, layer, head)

    def _load(self, text: str, layer: int | None = None, head: int | None = None) -> None:
        """Compute every map of ``text`` once; a problem is shown in the view, never raised."""
        try:
            maps = compute_attention_maps(self.model, self.tokenizer, text,
                                          max_tokens=self.max_tokens)
        except ValueError as error:
            self.view.show_message(str(error))
            return
        self.view.query_keys = lambda chosen: self.query_keys(chosen)
        self.view.show(maps, layer, head, text=text)

    def query_keys(self, layer: int):
        """Every head's queries and keys in ``layer`` (from 0) for the current text, each
        (heads, seq, head size): what the query/key view draws."""
        inputs = encode_for_model(self.model, self.tokenizer, self.text_box.value,
                                  max_tokens=self.max_tokens)
        return query_key_vectors(self.model, *inputs, layer)[:2]

    # ----- the Python interface ------------------------------------------------------------

    @property
    def maps(self) -> AttentionMaps | None:
        """Every map of the current text (None after a refused text)."""
        return self.view.maps

    @property
    def tokens(self) -> tuple[str, ...]:
        return self.maps.tokens if self.maps else ()

    @property
    def note(self) -> str:
        """What the view says about the text (that it was cut), or ""."""
        return self.maps.note if self.maps else self.view.data.get("message", "")

    @property
    def layer(self) -> int:
        return self.view.layer

    @property
    def head(self) -> int:
        return self.view.head

    def set_view(self, text: str | None = None, layer: int | None = None,
                 head: int | None = None) -> None:
        """Show another text, layer or head (indices from 0), as the box and menus do."""
        for name, value in (("layer", layer), ("head", head)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise TypeError(f"{name} must be an integer index, got {value!r}")
        if text is not None:
            self.text_box.value = text  # computes the maps (nothing when unchanged)
        if self.maps is None:
            return
        for name, value, count in (("layer", layer, self.maps.num_layers),
                                   ("head", head, self.maps.num_heads)):
            if value is not None and not 0 <= value < count:
                raise ValueError(f"{name} must be between 0 and {count - 1} (counted from 0), "
                                 f"got {value}")
        with self.view.hold_sync():
            if head is not None:
                self.view.head = head
            if layer is not None:
                self.view.layer = layer

    def shown_map(self):
        """The (seq, seq) map of the chosen layer and head."""
        return self.maps.weights[self.layer, self.head] if self.maps else None

    def current_png(self) -> bytes:
        """The static picture of what is shown (for tests, files and readers without
        JavaScript): the chosen head's map, or the heads of the chosen layer beside it."""
        if self.maps is None:
            raise ValueError(f"nothing to draw: {self.note}")
        state = ExplorerState(layer=self.layer, head=self.head)
        return static_png(self.maps, state, self.view.parts,
                          f"Layer {self.layer + 1}, head {self.head + 1}")

    def _repr_mimebundle_(self, **kwargs):
        """The live widget, and the static picture for readers without JavaScript."""
        bundle = super()._repr_mimebundle_(**kwargs)
        if self.maps is not None:
            bundle["image/png"] = base64.b64encode(self.current_png()).decode("ascii")
        return bundle
