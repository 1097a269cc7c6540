"""The live view: the exported pages' JavaScript viewer (``static/viewer.js``) as a notebook
widget, built on anywidget (its code ships inside this package: no CDN, no build step). The maps
are sent once per text; hovering and clicking are answered in the browser, with no round trip
to the kernel.

Data sent to the browser is bounded (``MAX_LIVE_VALUES``): every layer when it fits, else the
chosen layer only, else nothing (the view then says so and the pictures remain).
"""

from __future__ import annotations

import anywidget
import traitlets

from .interactive import viewer_data, viewer_script
from .maps import AttentionMaps

MAX_LIVE_VALUES = 1_000_000  # 16-bit numbers per text: about 2.7 MB through the kernel

ESM = viewer_script() + """
export default {
  render({ model, el }) {
    const draw = () => {
      el.replaceChildren();
      const data = model.get("data");
      if (data && data.weights) {
        window.AttentionViewer.mount(el, data);
      } else {
        el.textContent = (data && data.message) || "No maps to show.";
      }
    };
    draw();
    model.on("change:data", draw);
  },
};
"""


def live_data(maps: AttentionMaps, layer: int = 0, head: int = 0,
              max_values: int = MAX_LIVE_VALUES) -> dict:
    """The viewer's data for ``maps``, or a message when even one layer is too large."""
    if maps.num_heads * maps.length * maps.length > max_values:
        return {"message": f"{maps.length} tokens are too many for the live view (one layer "
                           f"would send {maps.num_heads * maps.length ** 2:,} numbers); use the "
                           "pictures above, or a shorter text."}
    return viewer_data(maps, layer, head, max_values=max_values)


class LiveAttentionView(anywidget.AnyWidget):
    """Every head of every layer, drawn in the browser: click a small map, hover a cell."""

    _esm = ESM
    data = traitlets.Dict().tag(sync=True)
