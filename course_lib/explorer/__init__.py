"""The attention explorer: every head of every layer of a BERT model, as standard ipywidgets,
plus the pieces it is made of (maps, head patterns, rollout, NumPy/Pillow pictures, export)."""

from .export import save_png, static_html_page, write_static_html
from .maps import AttentionMaps, compute_attention_maps, maps_from_weights
from .patterns import HeadPatterns, head_pattern_scores, label_head
from .render import (
    head_view_png,
    image_to_png,
    render_attention_map,
    render_grid,
)
from .rollout import attention_rollout, renormalise_rows
from .tables import pattern_table_html
from .views import PAIR_FILTERS, MapView, select_view
from .widget import AttentionExplorer

__all__ = [
    "PAIR_FILTERS",
    "AttentionExplorer",
    "AttentionMaps",
    "HeadPatterns",
    "MapView",
    "attention_rollout",
    "compute_attention_maps",
    "head_pattern_scores",
    "head_view_png",
    "image_to_png",
    "label_head",
    "maps_from_weights",
    "pattern_table_html",
    "render_attention_map",
    "render_grid",
    "renormalise_rows",
    "save_png",
    "select_view",
    "static_html_page",
    "write_static_html",
]
