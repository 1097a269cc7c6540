"""The attention explorer: every head of every layer of a BERT model.

Made of: maps (one forward pass per text), a state (``ExplorerState``: what is shown), the
options' views of the maps (``views.py``), one renderer, the browser viewer (``static/viewer.js``:
the explorer, the lessons' ``AttentionMapsWidget`` and saved pages), one static picture for
outputs read without JavaScript (``render.static_png``), and export. The widgets, and so
ipywidgets and anywidget, are imported only when first used.
"""

from .export import check_file_name, save_png, static_html_page, write_static_html
from .maps import AttentionMaps, compute_attention_maps, maps_from_weights
from .patterns import HeadPatterns, head_pattern_scores, label_head
from .querykey import QueryKeyView, query_key_vectors, query_key_view
from .render import (
    color_bar,
    head_view_png,
    image_to_png,
    render_attention_map,
    render_grid,
    static_png,
)
from .rollout import attention_rollout, renormalize_rows
from .state import ExplorerState
from .tables import pattern_table_html
from .views import PAIR_FILTERS, Link, MapView, select_view, strongest_links, token_focus

__all__ = [
    "PAIR_FILTERS",
    "AttentionExplorer",
    "AttentionMaps",
    "AttentionMapsWidget",
    "ExplorerState",
    "HeadPatterns",
    "Link",
    "MapView",
    "QueryKeyView",
    "attention_rollout",
    "check_file_name",
    "color_bar",
    "compute_attention_maps",
    "head_pattern_scores",
    "head_view_png",
    "image_to_png",
    "label_head",
    "maps_from_weights",
    "pattern_table_html",
    "query_key_vectors",
    "query_key_view",
    "render_attention_map",
    "render_grid",
    "renormalize_rows",
    "save_png",
    "select_view",
    "static_html_page",
    "static_png",
    "strongest_links",
    "token_focus",
    "write_static_html",
]


def __getattr__(name: str):
    """The widgets on first use: ipywidgets is loaded only by who needs a widget."""
    if name == "AttentionExplorer":
        from .widget import AttentionExplorer

        return AttentionExplorer
    if name == "AttentionMapsWidget":
        from .lesson import AttentionMapsWidget

        return AttentionMapsWidget
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
