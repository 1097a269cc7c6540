"""The interactive part of exported pages: the maps, carried inline, and a small viewer written
in plain JavaScript (``static/viewer.js``) that draws them in the browser, with no kernel and no
network: pick a layer and head or click a thumbnail, hover a cell for its exact weight,
switch between the shared 0..1 scale and per-map contrast.

Weights travel as 16-bit integers (weight x 65535, a step of 1.5e-5), base64-encoded (or as
raw bytes in the live view). Long texts are bounded: when every layer would take more than
``MAX_VALUES`` numbers, only the chosen layer is carried in full (12 heads x 512 x 512 is 3.1
million, about 8 MB of page); every layer still comes as thumbnails (``THUMB`` x ``THUMB``).
"""

from __future__ import annotations

import base64
import json
from importlib import resources

import numpy as np

from .maps import AttentionMaps
from .render import shrink_map

MAX_VALUES = 4_000_000  # numbers carried in one page (2 bytes each, 4/3 more in base64)
THUMB = 48  # px: the side of the thumbnails carried for every layer


def viewer_script() -> str:
    """The viewer's JavaScript, shipped inside the package."""
    return resources.files(__package__).joinpath("static/viewer.js").read_text(encoding="utf-8")


def as_uint16(weights: np.ndarray) -> bytes:
    """Weights in [0, 1] as little-endian 16-bit integers (weight x 65535), as bytes."""
    return np.rint(np.clip(weights, 0.0, 1.0) * 65535).astype("<u2").tobytes()


def carried_layers(maps: AttentionMaps, layer: int, max_values: int) -> list[int]:
    """Every layer when all fit in ``max_values`` numbers, else only ``layer``."""
    per_layer = maps.num_heads * maps.length * maps.length
    return list(range(maps.num_layers)) if per_layer * maps.num_layers <= max_values else [layer]


def viewer_parts(maps: AttentionMaps, layer: int = 0, head: int = 0,
                 max_values: int = MAX_VALUES, parts: str = "all") -> tuple[dict, bytes, bytes]:
    """The viewer's description of the maps (JSON-ready), the carried maps and the thumbnails
    (both as 16-bit bytes; see the top of ``viewer.js``)."""
    included = carried_layers(maps, layer, max_values)
    side = min(THUMB, maps.length)
    thumbs = shrink_map(maps.weights, side)  # (layers, heads, side, side)
    info = {
        "tokens": list(maps.tokens),
        "segments": [int(s) for s in maps.segments],
        "layers": maps.num_layers,
        "heads": maps.num_heads,
        "seq": maps.length,
        "included": included,
        "thumb": side,
        "layer": int(layer),
        "head": int(head),
        "note": maps.note,
        "parts": parts,
    }
    return info, as_uint16(maps.weights[included]), as_uint16(thumbs)


def viewer_data(maps: AttentionMaps, layer: int = 0, head: int = 0,
                max_values: int = MAX_VALUES, parts: str = "all") -> dict:
    """What the viewer needs, as JSON-ready values, the numbers in base64 (for a page)."""
    info, weights, thumbs = viewer_parts(maps, layer, head, max_values, parts)
    return {**info, "weights": base64.b64encode(weights).decode("ascii"),
            "thumbs": base64.b64encode(thumbs).decode("ascii")}


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
