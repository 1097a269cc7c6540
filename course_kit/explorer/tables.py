"""The explorer's text parts as HTML: the layer x head pattern table, lists of links, notes.

Every block sets its own text and background colours, so it reads the same in light and dark
notebook themes (a dark theme would otherwise give white text on these light cells).
"""

from __future__ import annotations

import html

from .patterns import LABELS, SHARE_NAMES, HeadPatterns

LABEL_COLORS = {"[CLS]": "#f4c7a1", "[SEP]": "#f7e08a", "previous": "#b9dcb0",
                 "same": "#cdc4ea", "next": "#a8d0e6", "broad": "#e2e2e2", "mixed": "#ffffff"}
LABEL_SHORT = {"[CLS]": "CLS", "[SEP]": "SEP", "previous": "prev", "same": "self",
               "next": "next", "broad": "broad", "mixed": "mix"}
INK = "#1f1f1f"  # text colour of every block, on the light backgrounds below
PAPER = "#ffffff"
NOTE_STYLE = ("background:#fff4d6;color:#3d2e00;border:1px solid #e6c200;padding:4px 8px;"
              "line-height:1.4")
CARD_STYLE = (f"background:{PAPER};color:{INK};padding:4px 8px;font-family:sans-serif;"
              "line-height:1.4")
CODE_STYLE = f"background:#eef0f3;color:{INK};padding:0 2px"


def card(inner_html: str, size_px: int = 12) -> str:
    """A block with explicit colours: readable whatever the notebook's theme."""
    return f"<div style='{CARD_STYLE};font-size:{size_px}px'>{inner_html}</div>"


def note_html(text: str) -> str:
    """A highlighted note (truncation, refused input), with explicit colours."""
    return f"<div style='{NOTE_STYLE}'>{html.escape(text)}</div>"


def code(text: str) -> str:
    return f"<code style='{CODE_STYLE}'>{html.escape(text)}</code>"


def head_value(patterns: HeadPatterns, layer: int, head: int) -> float:
    """The number shown with a head's label: the share of its pattern, or for broad and mixed
    heads its broadness. The picture and the table both show this number and colour by it."""
    label = patterns.labels[layer, head]
    if label in ("broad", "mixed"):
        return float(patterns.broadness[layer, head])
    return float(patterns.shares[label][layer, head])


def head_summary(patterns: HeadPatterns, layer: int, head: int) -> str:
    """One line of text: a head's label and all its scores."""
    shares = ", ".join(f"{name} {patterns.shares[name][layer, head]:.2f}" for name in SHARE_NAMES)
    entropy, broadness = patterns.entropy[layer, head], patterns.broadness[layer, head]
    return (f"{patterns.labels[layer, head]} (shares: {shares}; entropy {entropy:.2f} nats, "
            f"broadness {broadness:.2f})")


def pattern_table_html(patterns: HeadPatterns, selected: tuple[int, int] | None = None) -> str:
    """A layers x heads table: each cell the head's dominant pattern and its share, coloured.

    Hovering a cell shows all its scores. Plain HTML and inline CSS with explicit colours, no
    script. ``selected``: (layer, head) counted from 0, framed.
    """
    layers, heads = patterns.labels.shape
    th = f"style='padding:2px 6px;background:{PAPER};color:{INK}'"
    header = "".join(f"<th {th}>{h + 1}</th>" for h in range(heads))
    rows = [f"<tr><th {th}>layer \\ head</th>{header}</tr>"]
    for layer in range(layers):
        cells = []
        for head in range(heads):
            label = patterns.labels[layer, head]
            border = "2px solid #e65a14" if selected == (layer, head) else "1px solid #ccc"
            cells.append(
                f"<td title='{html.escape(head_summary(patterns, layer, head), quote=True)}' "
                f"style='background:{LABEL_COLORS[label]};color:{INK};border:{border};"
                f"padding:2px 4px;text-align:center;font-size:11px'>{LABEL_SHORT[label]}<br>"
                f"{head_value(patterns, layer, head):.2f}</td>"
            )
        rows.append(f"<tr><th {th}>{layer + 1}</th>{''.join(cells)}</tr>")
    legend = " ".join(
        f"<span style='background:{LABEL_COLORS[name]};color:{INK};border:1px solid #ccc;"
        f"padding:1px 4px'>{LABEL_SHORT[name]} = {html.escape(name)}</span>" for name in LABELS
    )
    return (f"<div style='background:{PAPER};color:{INK};padding:4px;display:inline-block'>"
            f"<table style='border-collapse:collapse;font-family:sans-serif;background:{PAPER};"
            f"color:{INK}'>{''.join(rows)}</table><p style='font-size:11px;color:{INK}'>{legend}"
            "<br>Number under the label: the share of attention that goes to that pattern (for "
            "broad and mixed heads: entropy / log(length)).</p></div>")
