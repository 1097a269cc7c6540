"""The viewer as a notebook widget: the browser viewer (``static/viewer.js``) on anywidget (its
code ships inside this package: no CDN, no build step). It draws everything; hovering and
clicking are answered in the browser, and the choices (layer, head, view, token, colour scale)
come back to Python through the synced traits below, as Python's choices go to the browser.

Data sent to the browser is bounded: every layer's maps when they fit in ``MAX_LIVE_VALUES``
numbers, else the chosen layer's only (one layer of 12 heads at 512 tokens: 3.1 million, 6 MB),
the other layers as small thumbnails; a layer is sent in full when the viewer asks for it
(a click on its thumbnail, or the Layer menu). Such a layer goes in two messages: first the
chosen head's map with the thumbnails (0.9 MB at 512 tokens), which the viewer draws at once,
then the whole layer. The numbers travel as binary (no base64).
"""

from __future__ import annotations

from pathlib import Path

import anywidget
import traitlets

from .interactive import query_key_parts, viewer_parts, viewer_script
from .maps import AttentionMaps
from .views import MapView

MAX_LIVE_VALUES = 3_200_000  # 16-bit numbers per message: one 12-head layer at 512 tokens
PARTS = ("all", "layer", "head")  # every layer / the heads of one layer / one head

ESM = viewer_script() + """
export default {
  render({ model, el }) {
    let viewer = null;
    let own = false;  // a change the viewer itself made: not drawn again
    const save = (fields) => {
      own = true;
      Object.entries(fields).forEach(([key, value]) => model.set(key, value));
      model.save_changes();
      own = false;
    };
    let drawnFirstHead = false;  // the viewer shows a layer's first head; the rest is coming
    const draw = () => {
      const data = model.get("data");
      drawnFirstHead = Boolean(data && data.only_head >= 0);
      const kept = viewer && viewer.state;
      if (viewer) viewer.destroy();
      el.replaceChildren();
      viewer = null;
      if (!data || !data.seq) {
        el.textContent = (data && data.message) || "No maps to show.";
        el.setAttribute("role", "status");
        el.style.cssText = "padding:4px 8px";
        return;
      }
      const full = Object.assign({}, data, {  // the choice as it is now, not as first sent
        weights: model.get("weights"), thumbs: model.get("thumbs"), qk: model.get("qk"),
        layer: model.get("layer"), head: model.get("head"), mode: model.get("mode"),
        focus: model.get("focus"), scale: model.get("scale") });
      const state = kept ? Object.assign({}, kept, { mode: full.mode, focus: full.focus,
                                                     scale: full.scale }) : null;
      viewer = window.AttentionViewer.mount(el, full, {
        parts: model.get("parts"), state: state,
        onSelect: (layer, head) => save({ layer, head }),
        onState: (shown) => save(shown),
        request: (layer) => { if (model.get("layer") !== layer) save({ layer }); },
        requestQK: model.get("has_qk") ? (layer) => {
          if (model.get("want_qk") !== layer) save({ want_qk: layer });
        } : null,
      });
    };
    // Draw once the output area has laid the view out, so the viewer knows its width.
    let tries = 0;
    const start = () => {
      if ((el.isConnected && el.clientWidth > 0) || tries > 60) draw();
      else { tries += 1; requestAnimationFrame(start); }
    };
    start();
    let queued = false;
    model.on("change:data", () => {  // the rest of a layer: drawn once its first head is painted
      if (!drawnFirstHead) { draw(); return; }
      if (queued) return;
      queued = true;
      requestAnimationFrame(() => setTimeout(() => { queued = false; draw(); }, 0));
    });
    model.on("change:layer change:head", () => {
      const data = model.get("data");
      if (!own && viewer && data && data.included && data.included.includes(model.get("layer"))) {
        viewer.select(model.get("layer"), model.get("head"), true);
      }
    });
    model.on("change:mode change:focus change:scale", () => {
      if (!own && viewer) viewer.apply({ mode: model.get("mode"), focus: model.get("focus"),
                                         scale: model.get("scale") });
    });
    model.on("change:saved", () => {  // a file Python wrote: the browser downloads it too
      const bytes = model.get("saved");
      if (bytes && bytes.byteLength) {
        window.AttentionViewer.saveFile(model.get("saved_name"), new Blob([bytes]));
      }
    });
    return () => { if (viewer) viewer.destroy(); };
  },
};
"""


class LiveAttentionView(anywidget.AnyWidget):
    """Attention maps drawn in the browser: click a small map, hover a cell, lines, token focus.

    ``parts``: "all" (every layer as thumbnails and one map), "layer" (the heads of one layer
    and one map) or "head" (one map). ``layer`` and ``head`` (from 0) follow the browser's
    choice and can be set from Python; ``show(maps)`` sends a new text's maps.
    ``query_keys``: a function layer -> (queries, keys), each (heads, seq, head size), for the
    current text; when set, the viewer offers the query/key view and asks for a layer's
    vectors when it is drawn.
    """

    _esm = ESM
    data = traitlets.Dict().tag(sync=True)
    weights = traitlets.Bytes(b"").tag(sync=True)
    thumbs = traitlets.Bytes(b"").tag(sync=True)
    parts = traitlets.Unicode("all").tag(sync=True)
    layer = traitlets.Int(0).tag(sync=True)
    head = traitlets.Int(0).tag(sync=True)
    mode = traitlets.Unicode("heatmap").tag(sync=True)  # heatmap, lines, token, qk
    focus = traitlets.Int(0).tag(sync=True)  # the token of the token-focus and query/key views
    scale = traitlets.Unicode("shared").tag(sync=True)  # shared or per-map
    qk = traitlets.Bytes(b"").tag(sync=True)  # queries then keys of data["qk_layer"]
    has_qk = traitlets.Bool(False).tag(sync=True)  # whether query_keys is set
    want_qk = traitlets.Int(-1).tag(sync=True)  # the layer whose queries and keys are asked
    saved = traitlets.Bytes(b"").tag(sync=True)  # a file written by Python, to download
    saved_name = traitlets.Unicode("").tag(sync=True)

    def __init__(self, parts: str = "all", max_values: int = MAX_LIVE_VALUES, **kwargs):
        if parts not in PARTS:
            raise ValueError(f"parts must be one of {list(PARTS)}, got {parts!r}")
        super().__init__(parts=parts, **kwargs)
        self.max_values = max_values
        self._maps: AttentionMaps | None = None
        self._view: MapView | None = None
        self._shown: dict = {}
        self._sending = False
        self._query_keys = None
        self._qk_layer, self._qk_head_size = -1, 0  # what the vectors in ``qk`` are
        self.observe(self._on_choice, names=["layer"])
        self.observe(self._on_want_qk, names=["want_qk"])

    @property
    def query_keys(self):
        """The function layer -> (queries, keys) behind the query/key view, or None."""
        return self._query_keys

    @query_keys.setter
    def query_keys(self, function) -> None:
        if function is not None and not callable(function):
            raise TypeError("query_keys must be a function layer -> (queries, keys), or None")
        self._query_keys = function
        self.has_qk = function is not None

    @property
    def maps(self) -> AttentionMaps | None:
        """The maps shown (None before the first text, or after a refused one)."""
        return self._maps

    def show(self, maps: AttentionMaps, layer: int | None = None, head: int | None = None,
             view: MapView | None = None, choices: dict | None = None, **shown) -> None:
        """Send ``maps`` (a new text), or a new ``view`` of them (filters, rollout), showing
        ``layer`` and ``head`` (kept when None). ``choices``: other traits to set with the
        first message (mode, focus, scale). ``shown``: fields for the viewer (model, text)."""
        layer = min(self.layer if layer is None else layer, maps.num_layers - 1)
        head = min(self.head if head is None else head, maps.num_heads - 1)
        if maps is not self._maps:
            self.qk, self.want_qk = b"", -1  # the old text's vectors are gone
        self._maps, self._view, self._shown = maps, view, shown
        self._send_maps(layer, head, choices or {})

    def offer(self, path: Path) -> None:
        """Have the browser download the file at ``path`` (as a Blob URL, made there)."""
        self.saved = b""  # the same bytes twice are still a new download
        with self.hold_sync():
            self.saved_name, self.saved = path.name, path.read_bytes()

    def show_message(self, text: str) -> None:
        """Show a sentence instead of maps (an empty text, ...)."""
        self._maps = None
        with self.hold_sync():
            self.weights, self.thumbs, self.qk = b"", b"", b""
            self.data = {"message": text}

    def _send_maps(self, layer: int, head: int, choices: dict | None = None) -> None:
        """The maps of ``layer`` (or of every layer), in one message; when only ``layer`` is
        carried, its ``head`` goes first in a message of its own, the whole layer after it."""
        self._sending = True
        try:
            for head_only in (True, False):
                info, weights, thumbs = viewer_parts(self._maps, layer, head, self.max_values,
                                                     self.parts, self._view, head_only=head_only,
                                                     **self._shown)
                with self.hold_sync():  # one message: never data without its numbers
                    if head_only:  # the first message
                        self.layer, self.head = layer, info["head"]  # rollout: the mean
                        for name, value in (choices or {}).items():
                            setattr(self, name, value)
                    self.weights, self.thumbs = weights, thumbs
                    self.data = {**info, **self._qk_fields}
                if info["only_head"] < 0:  # everything went in this one message
                    break
        finally:
            self._sending = False

    @property
    def _qk_fields(self) -> dict:
        """The data fields of the queries and keys sent (none: layer -1)."""
        if not self.qk:
            return {"qk_layer": -1, "head_size": 0}
        return {"qk_layer": self._qk_layer, "head_size": self._qk_head_size}

    def _on_want_qk(self, change) -> None:
        """The browser asks for a layer's queries and keys (the query/key view is drawn)."""
        layer = change["new"]
        if self._maps is None or self._query_keys is None or layer < 0:
            return
        if self.qk and self.data.get("qk_layer") == layer:
            return
        try:
            fields, values = query_key_parts(layer, *self._query_keys(layer))
        except (TypeError, ValueError) as error:  # a model the view cannot read: say why
            self.data = {**self.data, "qk_error": str(error)}
            return
        self._qk_layer, self._qk_head_size = fields["qk_layer"], fields["head_size"]
        with self.hold_sync():
            self.qk = values
            self.data = {**self.data, **fields}

    def _on_choice(self, change) -> None:
        """A layer whose full maps the browser does not have: send them."""
        if (self._sending or self._maps is None
                or change["new"] in self.data.get("included", [])):
            return
        if not 0 <= change["new"] < self._maps.num_layers:
            raise ValueError(f"layer must be between 0 and {self._maps.num_layers - 1}, "
                             f"got {change['new']}")
        self._send_maps(change["new"], min(self.head, self.data.get("heads", 1) - 1))

