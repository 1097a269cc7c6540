"""What the browser viewer (``static/viewer.js``) is given: the maps as the options show them,
their tokens and sizes, and the numbers as bytes.

Weights travel as 16-bit integers (weight x 65535, a step of 1.5e-5) to the notebook's live
view, and as 8-bit integers (weight x 255: the colour scale's 256 steps), deflated and base64
encoded (each map column by column, which deflates better), in saved pages, so a page of every
layer at 512 tokens stays under 3 MB. The live view is bounded: when every layer would take
more than ``max_values`` numbers only the chosen layer is sent in full, every layer as
thumbnails (``THUMB`` x ``THUMB``; none when every layer is sent in full), and the chosen head
of that layer can go first (``head_only``), so a long text's first maps are drawn before the
rest of its layer comes.
"""

from __future__ import annotations

import base64
import json
import zlib
from importlib import resources

import numpy as np

from .maps import AttentionMaps
from .render import shrink_map
from .views import MapView, select_view

MAX_VALUES = 4_000_000  # numbers in one live-view message (16 bits each)
PAGE_VALUES = 24_000_000  # numbers in one page (8 bits each, deflated): 6 x 12 x 512 x 512 fit
THUMB = 48  # px: the side of the thumbnails carried for every layer


def viewer_script() -> str:
    """The viewer's JavaScript, shipped inside the package."""
    return resources.files(__package__).joinpath("static/viewer.js").read_text(encoding="utf-8")


def as_uint16(weights: np.ndarray) -> bytes:
    """Weights in [0, 1] as little-endian 16-bit integers (weight x 65535), as bytes."""
    return np.rint(np.clip(weights, 0.0, 1.0) * 65535).astype("<u2").tobytes()


def as_uint8(weights: np.ndarray) -> bytes:
    """Weights in [0, 1] as 8-bit integers (weight x 255), as bytes."""
    return np.rint(np.clip(weights, 0.0, 1.0) * 255).astype(np.uint8).tobytes()


def carried_layers(maps: AttentionMaps, layer: int, max_values: int) -> list[int]:
    """Every layer when all fit in ``max_values`` numbers, else only ``layer``."""
    per_layer = maps.num_heads * maps.length * maps.length
    return list(range(maps.num_layers)) if per_layer * maps.num_layers <= max_values else [layer]


def viewer_parts(maps: AttentionMaps, layer: int = 0, head: int = 0,
                 max_values: int = MAX_VALUES, parts: str = "all", view: MapView | None = None,
                 bits: int = 16, head_only: bool = False, **shown) -> tuple[dict, bytes, bytes]:
    """The viewer's description (JSON-ready), the carried maps and the thumbnails, as bytes.

    ``view``: the maps as the options show them (default: all of them, raw); a filter's hidden
    rows and columns are listed and drawn grey. ``head_only``: when only ``layer`` is carried,
    carry only its map of ``head`` (field ``only_head``; the viewer draws the other heads from
    the thumbnails until the whole layer follows). ``shown``: more fields for the viewer
    (model, text, mode, focus, scale). No queries and keys: see ``query_key_parts``."""
    view = view or select_view(maps)
    square = view.square(maps.length)  # (layers, heads, seq, seq)
    included = carried_layers(maps, layer, max_values)
    rollout = view.head_names == ("mean",)
    head = 0 if rollout else int(head)
    carried = square[included]  # (carried layers, heads, seq, seq)
    only_head = head if head_only and len(included) == 1 and square.shape[1] > 1 else -1
    if only_head >= 0:
        carried = carried[:, only_head:only_head + 1]
    side = min(THUMB, maps.length)
    whole = len(included) == maps.num_layers and only_head < 0  # the viewer shrinks them itself
    thumbs = np.empty(0, np.float32) if whole else shrink_map(square, side)  # (l, h, side, side)
    hidden_rows, hidden_cols = view.hidden(maps.length)
    info = {
        "tokens": list(maps.tokens),
        "segments": [int(s) for s in maps.segments],
        "layers": square.shape[0],
        "heads": square.shape[1],
        "head_names": list(view.head_names),
        "rollout": rollout,
        "seq": maps.length,
        "included": included,
        "thumb": side,
        "layer": int(layer),
        "head": head,
        "only_head": only_head,
        "note": maps.note,
        "parts": parts,
        "hidden_rows": hidden_rows,
        "hidden_cols": hidden_cols,
        "description": view.description,
        "bits": bits,
        "qk_layer": -1,
        "head_size": 0,
        **shown,
    }
    encode = as_uint8 if bits == 8 else as_uint16
    return info, encode(carried), encode(thumbs)


def query_key_parts(layer: int, queries: np.ndarray, keys: np.ndarray) -> tuple[dict, bytes]:
    """The fields and bytes of the query/key view: every head's queries then keys of
    ``layer``, each (heads, seq, head size), as float32 little-endian."""
    if queries.shape != keys.shape or queries.ndim != 3:
        raise ValueError(f"queries and keys must both be (heads, seq, head size), got "
                         f"{queries.shape} and {keys.shape}")
    values = np.concatenate([queries, keys]).astype("<f4")  # (2 * heads, seq, head size)
    return {"qk_layer": int(layer), "head_size": int(queries.shape[-1])}, values.tobytes()


def page_data(maps: AttentionMaps, layer: int = 0, head: int = 0, parts: str = "all",
              query_keys=None, view: MapView | None = None, **shown) -> dict:
    """What a saved page's viewer needs, JSON-ready: the numbers 8-bit, deflated, in base64.
    ``query_keys``: (queries, keys) of ``layer``, each (heads, seq, head size)."""
    info, weights, thumbs = viewer_parts(maps, layer, head, PAGE_VALUES, parts, view, bits=8,
                                         **shown)
    seq = maps.length  # each map stored column by column: columns (keys) deflate better
    columns = np.frombuffer(weights, np.uint8).reshape(-1, seq, seq).transpose(0, 2, 1)
    data = {**info, "packed": True,
            "weights": base64.b64encode(zlib.compress(columns.tobytes(), 6)).decode("ascii"),
            "thumbs": base64.b64encode(zlib.compress(thumbs, 6)).decode("ascii") if thumbs else ""}
    if query_keys is not None:
        fields, values = query_key_parts(layer, *query_keys)
        data.update(fields, qk=base64.b64encode(values).decode("ascii"))
    return data


def script_safe_json(value) -> str:
    """JSON that cannot end the <script> element it sits in (a token such as '</script>')."""
    return (json.dumps(value, ensure_ascii=True).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026"))


def interactive_section(data: dict) -> str:
    """HTML of the live viewer: a mount point, the viewer's code and ``data``, all inline."""
    return ("<div id=\"attention-viewer\"></div>\n"
            f"<script>\n{viewer_script()}\n</script>\n"
            f"<script>\nAttentionViewer.load(document.getElementById('attention-viewer'), "
            f"{script_safe_json(data)});\n</script>")
