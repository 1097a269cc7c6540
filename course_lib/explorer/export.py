"""Saving what the explorer shows: a PNG file, or one self-contained HTML page (no script, no
kernel, no internet) with the layers x heads grid and the head-pattern table."""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path

from .maps import AttentionMaps
from .patterns import HeadPatterns
from .tables import pattern_table_html


def save_png(png: bytes, path: str | os.PathLike) -> Path:
    """Write PNG bytes to ``path`` (the folder must exist); returns the path written."""
    if not isinstance(png, (bytes, bytearray)) or not bytes(png[:8]) == b"\x89PNG\r\n\x1a\n":
        raise ValueError("save_png needs the bytes of a PNG picture")
    target = Path(path)
    target.write_bytes(bytes(png))
    return target


def static_html_page(grid_png: bytes, maps: AttentionMaps, patterns: HeadPatterns,
                     title: str, description: str) -> str:
    """The text of a standalone page: the grid as an embedded PNG, the tokens, the table."""
    picture = base64.b64encode(bytes(grid_png)).decode("ascii")
    tokens = " ".join(f"<code>{html.escape(t)}</code>" for t in maps.tokens)
    note = f"<p><b>Note:</b> {html.escape(maps.note)}</p>" if maps.note else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; color: #222; }}
img {{ max-width: 100%; height: auto; }}
code {{ background: #f2f2f2; padding: 0 2px; }}
</style>
</head>
<body>
<h1>{html.escape(title)}</h1>
<p>Shown: {html.escape(description)}. Each small map: rows are the tokens that look, columns
the tokens they look at; darkest = the strongest link of that map. Layers and heads are counted
from 1.</p>
{note}
<h2>Tokens ({maps.length})</h2>
<p>{tokens}</p>
<h2>Every head of every layer</h2>
<img alt="attention maps of all layers and heads" src="data:image/png;base64,{picture}">
<h2>Head patterns</h2>
{pattern_table_html(patterns)}
</body>
</html>
"""


def write_static_html(path: str | os.PathLike, grid_png: bytes, maps: AttentionMaps,
                      patterns: HeadPatterns, title: str = "Attention explorer",
                      description: str = "attention") -> Path:
    """Write the standalone page to ``path``; returns the path written."""
    target = Path(path)
    target.write_text(static_html_page(grid_png, maps, patterns, title, description),
                      encoding="utf-8")
    return target
