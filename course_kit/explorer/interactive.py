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
    (both as 16-bit bytes; see the top of ``viewer.js``). No queries and keys: see
    ``query_key_parts``."""
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
        "qk_layer": -1,
        "head_size": 0,
    }
    return info, as_uint16(maps.weights[included]), as_uint16(thumbs)


def query_key_parts(layer: int, queries: np.ndarray, keys: np.ndarray) -> tuple[dict, bytes]:
    """The fields and bytes of the query/key view: every head's queries then keys of
    ``layer``, each (heads, seq, head size), as float32 little-endian."""
    if queries.shape != keys.shape or queries.ndim != 3:
        raise ValueError(f"queries and keys must both be (heads, seq, head size), got "
                         f"{queries.shape} and {keys.shape}")
    values = np.concatenate([queries, keys]).astype("<f4")  # (2 * heads, seq, head size)
    return {"qk_layer": int(layer), "head_size": int(queries.shape[-1])}, values.tobytes()


def viewer_data(maps: AttentionMaps, layer: int = 0, head: int = 0,
                max_values: int = MAX_VALUES, parts: str = "all", query_keys=None) -> dict:
    """What the viewer needs, as JSON-ready values, the numbers in base64 (for a page).
    ``query_keys``: (queries, keys) of ``layer``, each (heads, seq, head size), to carry the
    query/key view of that layer."""
    info, weights, thumbs = viewer_parts(maps, layer, head, max_values, parts)
    data = {**info, "weights": base64.b64encode(weights).decode("ascii"),
            "thumbs": base64.b64encode(thumbs).decode("ascii")}
    if query_keys is not None:
        fields, values = query_key_parts(layer, *query_keys)
        data.update(fields, qk=base64.b64encode(values).decode("ascii"))
    return data


def _script_safe_json(value) -> str:
    """JSON that cannot end the <script> element it sits in (a token such as '</script>')."""
    return (json.dumps(value, ensure_ascii=True).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026"))


def interactive_section(maps: AttentionMaps, layer: int = 0, head: int = 0,
                        query_keys=None) -> str:
    """HTML of the live viewer: a mount point, the viewer's code and the data, all inline;
    ``query_keys``: (queries, keys) of ``layer`` for its query/key view."""
    data = viewer_data(maps, layer, head, query_keys=query_keys)
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
