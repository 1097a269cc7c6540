"""The explorer's text parts as HTML: the layer x head pattern table, lists of strongest links."""

from __future__ import annotations

import html

import numpy as np

from .patterns import LABELS, SHARE_NAMES, HeadPatterns

LABEL_COLOURS = {"[CLS]": "#f4c7a1", "[SEP]": "#f7e08a", "previous": "#b9dcb0",
                 "same": "#cdc4ea", "next": "#a8d0e6", "broad": "#e2e2e2", "mixed": "#ffffff"}
LABEL_SHORT = {"[CLS]": "CLS", "[SEP]": "SEP", "previous": "prev", "same": "self",
               "next": "next", "broad": "broad", "mixed": "mix"}


def head_summary(patterns: HeadPatterns, layer: int, head: int) -> str:
    """One line of text: a head's label and all its scores."""
    shares = ", ".join(f"{name} {patterns.shares[name][layer, head]:.2f}" for name in SHARE_NAMES)
    entropy, broadness = patterns.entropy[layer, head], patterns.broadness[layer, head]
    return (f"{patterns.labels[layer, head]} (shares: {shares}; entropy {entropy:.2f} nats, "
            f"broadness {broadness:.2f})")


def pattern_table_html(patterns: HeadPatterns, selected: tuple[int, int] | None = None) -> str:
    """A layers x heads table: each cell the head's dominant pattern and its share, coloured.

    Hovering a cell shows all its scores. Plain HTML and inline CSS, no script.
    """
    layers, heads = patterns.labels.shape
    header = "".join(f"<th style='padding:2px 6px'>{h + 1}</th>" for h in range(heads))
    rows = [f"<tr><th style='padding:2px 6px'>layer \\ head</th>{header}</tr>"]
    for layer in range(layers):
        cells = []
        for head in range(heads):
            label = patterns.labels[layer, head]
            value = (patterns.broadness[layer, head] if label in ("broad", "mixed")
                     else patterns.shares[label][layer, head])
            border = "2px solid #e65a14" if selected == (layer, head) else "1px solid #ccc"
            cells.append(
                f"<td title='{html.escape(head_summary(patterns, layer, head), quote=True)}' "
                f"style='background:{LABEL_COLOURS[label]};border:{border};padding:2px 4px;"
                f"text-align:center;font-size:11px'>{LABEL_SHORT[label]}<br>{value:.2f}</td>"
            )
        rows.append(f"<tr><th style='padding:2px 6px'>{layer + 1}</th>{''.join(cells)}</tr>")
    legend = " ".join(
        f"<span style='background:{LABEL_COLOURS[name]};border:1px solid #ccc;padding:1px 4px'>"
        f"{LABEL_SHORT[name]} = {html.escape(name)}</span>" for name in LABELS
    )
    return (f"<table style='border-collapse:collapse;font-family:sans-serif'>{''.join(rows)}"
            f"</table><p style='font-size:11px'>{legend}<br>Number under the label: the share of "
            "attention that goes to that pattern (for broad and mixed heads: entropy / "
            "log(length)).</p>")


def strongest_links(matrix: np.ndarray, row_tokens, col_tokens, count: int = 10):
    """The ``count`` largest entries of a (rows, cols) map as (row, col, from, to, weight)."""
    flat = np.argsort(matrix, axis=None)[::-1][:count]
    rows, cols = np.unravel_index(flat, matrix.shape)
    return [(int(r), int(c), row_tokens[r], col_tokens[c], float(matrix[r, c]))
            for r, c in zip(rows, cols, strict=True)]


def links_html(links, heading: str) -> str:
    """A short ordered list: 'from -> to  weight'."""
    items = "".join(
        f"<li><code>{html.escape(src)}</code> ({r}) &rarr; <code>{html.escape(dst)}</code> ({c}): "
        f"{weight:.3f}</li>" for r, c, src, dst, weight in links
    )
    return f"<b>{html.escape(heading)}</b><ol style='margin:2px 0'>{items}</ol>"
