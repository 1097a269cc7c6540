"""The interactive part of exported pages: the maps, carried inline, and a small viewer written
in plain JavaScript (``static/viewer.js``) that draws them in the browser, with no kernel and no
network: pick a layer and head or click a thumbnail, hover a cell for its exact weight,
switch between the shared 0..1 scale and per-map contrast.

Weights travel as 16-bit integers (weight x 65535, a step of 1.5e-5), base64-encoded. Long
texts are bounded: when every layer would take more than ``MAX_VALUES`` numbers, only the
chosen layer is carried (12 heads x 512 x 512 is 3.1 million, about 8 MB of page).
"""

from __future__ import annotations

import base64
import json
from importlib import resources

import numpy as np

from .maps import AttentionMaps

MAX_VALUES = 4_000_000  # numbers carried in one page (2 bytes each, 4/3 more in base64)


def viewer_script() -> str:
    """The viewer's JavaScript, shipped inside the package."""
    return resources.files(__package__).joinpath("static/viewer.js").read_text(encoding="utf-8")


def viewer_data(maps: AttentionMaps, layer: int = 0, head: int = 0,
                max_values: int = MAX_VALUES) -> dict:
    """What the viewer needs, as JSON-ready values (see the top of ``viewer.js``)."""
    per_layer = maps.num_heads * maps.length * maps.length
    included = (list(range(maps.num_layers)) if per_layer * maps.num_layers <= max_values
                else [layer])
    chosen = maps.weights[included]  # (included layers, heads, seq, seq)
    scaled = np.rint(np.clip(chosen, 0.0, 1.0) * 65535).astype("<u2")
    return {
        "tokens": list(maps.tokens),
        "segments": [int(s) for s in maps.segments],
        "layers": maps.num_layers,
        "heads": maps.num_heads,
        "seq": maps.length,
        "included": included,
        "weights": base64.b64encode(scaled.tobytes()).decode("ascii"),
        "layer": int(layer),
        "head": int(head),
    }


def _script_safe_json(value) -> str:
    """JSON that cannot end the <script> element it sits in (a token such as '</script>')."""
    return (json.dumps(value, ensure_ascii=True).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026"))


def interactive_section(maps: AttentionMaps, layer: int = 0, head: int = 0) -> str:
    """HTML of the live viewer: a mount point, the viewer's code and the data, all inline."""
    data = viewer_data(maps, layer, head)
    partial = "" if len(data["included"]) == maps.num_layers else (
        f"<p>The text is long: this page carries the maps of layer {layer + 1} only.</p>")
    return ("<h2>Explore: hover a cell or a token, click a small map, draw as heatmap or "
            f"lines</h2>\n{partial}"
            "<div id=\"attention-viewer\"></div>\n"
            "<noscript><p>The interactive view needs JavaScript; the pictures below do not."
            "</p></noscript>\n"
            f"<script>\n{viewer_script()}\n</script>\n"
            f"<script>\nAttentionViewer.mount(document.getElementById('attention-viewer'), "
            f"{_script_safe_json(data)});\n</script>")
