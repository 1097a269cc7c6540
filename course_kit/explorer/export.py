"""Saving what the explorer shows: a PNG file, or one self-contained HTML page (no kernel, no
internet) with the live viewer (its code and the maps inline, see ``interactive.py``), the
static picture for readers without JavaScript, and the head-pattern table.

File names are checked before anything is written: a blank name, a hidden file (".html"), a
name that leaves the chosen folder, or characters that some file system or encoder cannot take
are refused with an error naming the rule.
"""

from __future__ import annotations

import base64
import html
import os
import unicodedata
from pathlib import Path

from .interactive import interactive_section, page_data
from .maps import AttentionMaps
from .patterns import HeadPatterns
from .render import static_png
from .state import ExplorerState
from .tables import pattern_table_html
from .views import select_view

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
NOT_IN_NAMES = '<>:"/\\|?*'  # refused by Windows (and "/" by every system): portable names
RESERVED_NAMES = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                  *(f"LPT{i}" for i in range(1, 10))}
MAX_NAME_BYTES = 255  # the usual limit of one file name (ext4, APFS, NTFS in UTF-16 units)
QK_PAGE_TOKENS = 256  # longer texts: a page leaves out the query/key view (1.5 MB more at 512)


def check_file_name(name, suffix: str) -> str:
    """A file name, checked, ending in ``.suffix`` (added when missing); or a ValueError.

    ``name`` is a name only (no folder): surrounding spaces are dropped; then it must not be
    empty, start with a dot (a hidden file), hold a path separator or "..", control
    characters, ``< > : " / \\ | ? *``, characters UTF-8 cannot encode, end with a dot, be a
    reserved Windows device name (CON, NUL, COM1, ...), or be longer than 255 bytes.
    """
    if not isinstance(name, str):
        raise TypeError(f"the file name must be a string, got {type(name).__name__}")
    stem = name.strip()
    if not stem:
        raise ValueError("the file name is empty: type a name such as 'attention'")
    if "/" in stem or "\\" in stem or stem in (".", ".."):
        raise ValueError(f"{stem!r} is a path, not a file name: give a name only; the file is "
                         "written into the chosen folder")
    if stem.startswith("."):
        raise ValueError(f"the file name {stem!r} starts with a dot: that would be a hidden "
                         "file; start it with a letter or a digit")
    odd = sorted({ch for ch in stem if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co")
                  or ch in NOT_IN_NAMES})
    if odd:
        shown = " ".join(repr(ch) for ch in odd)
        raise ValueError(f"the file name {stem!r} holds characters a file system cannot take "
                         f"({shown}); use letters, digits, '-', '_' and '.'")
    if stem.endswith("."):
        raise ValueError(f"the file name {stem!r} ends with a dot, which some systems drop")
    if not stem.lower().endswith(f".{suffix}"):
        stem = f"{stem}.{suffix}"
    if stem.split(".")[0].upper() in RESERVED_NAMES:
        raise ValueError(f"{stem!r} is a reserved device name on Windows; choose another name")
    if len(stem.encode("utf-8")) > MAX_NAME_BYTES:
        raise ValueError(f"the file name is {len(stem.encode('utf-8'))} bytes long; the limit "
                         f"is {MAX_NAME_BYTES}")
    return stem


def path_in_folder(folder: str | os.PathLike, name, suffix: str) -> Path:
    """``folder / name`` with the name checked (it cannot leave the folder), the folder existing."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"the folder {str(folder)!r} to save into does not exist")
    return folder / check_file_name(name, suffix)


def checked_target(path, suffix: str) -> Path:
    """A path given from Python, checked: its last part is a valid file name (``.suffix`` added
    when missing), its folder exists, and it is not a folder itself."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a string or a pathlib.Path, got {type(path).__name__}")
    raw = os.fspath(path)
    if isinstance(raw, bytes):
        raise TypeError("path must be text, not bytes")
    if not raw.strip() or raw.endswith(("/", "\\")):
        raise ValueError(f"{raw!r} has no file name: give a path ending in a name such as "
                         f"'attention.{suffix}'")
    target = Path(raw)
    if target.is_dir():
        raise ValueError(f"{raw!r} is a folder: give a file name inside it")
    return path_in_folder(target.parent, target.name, suffix)


def save_png(png: bytes, path: str | os.PathLike) -> Path:
    """Write PNG bytes to ``path`` (the folder must exist; ``.png`` is added when missing);
    returns the path written."""
    if not isinstance(png, (bytes, bytearray)) or not bytes(png[:8]) == PNG_MAGIC:
        raise ValueError("save_png needs the bytes of a PNG picture")
    target = checked_target(path, "png")
    target.write_bytes(bytes(png))
    return target


def export_title(model: str, text: str, layer: int, head: int, rollout: bool = False) -> str:
    """What a saved picture or page is called: the model, the sentence (cut at 80 characters),
    the layer and the head (counted from 1)."""
    shown = text if len(text) <= 80 else text[:79] + "…"
    where = f"rollout up to layer {layer + 1}" if rollout else f"layer {layer + 1}, head {head + 1}"
    return f"{model} · “{shown}” · {where}"


def static_html_page(maps: AttentionMaps, patterns: HeadPatterns, title: str,
                     state: ExplorerState | None = None, parts: str = "all",
                     query_keys=None, **shown) -> str:
    """The text of a standalone page: the live viewer on ``state`` (the options' view of the
    maps; with ``query_keys`` of its layer, its query/key view), for readers without JavaScript
    the one static picture, the tokens with their places, and the head-pattern table.
    ``shown``: more fields for the viewer (model, text, mode, focus)."""
    state = state or ExplorerState()
    view = select_view(maps, state.pair_filter, state.hide_special, state.rollout)
    if maps.length > QK_PAGE_TOKENS:  # keeps a 512-token page small; the notebook has them
        query_keys = None
    data = page_data(maps, state.layer, state.head, parts, query_keys, view,
                     scale=state.scale, **shown)
    picture = base64.b64encode(static_png(maps, state, parts)).decode("ascii")
    tokens = " ".join(f"<code>{i + 1}&nbsp;{html.escape(t)}</code>"
                      for i, t in enumerate(maps.tokens))
    note = f"<p><b>Note:</b> {html.escape(maps.note)}</p>" if maps.note else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{html.escape(title)}</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; background: Canvas; color: CanvasText; }}
h1 {{ font-size: 1.5em; overflow-wrap: anywhere; }}
html[data-theme="dark"] {{ color-scheme: dark; }}
html[data-theme="dark"] body {{ background: #1e1e1e; color: #e8e8e8; }}
html[data-theme="light"] {{ color-scheme: light; }}
html[data-theme="light"] body {{ background: #ffffff; color: #1f1f1f; }}
img {{ display: block; max-width: 100%; height: auto; }}
code {{ background: #eef0f3; color: #1f1f1f; padding: 0 2px; overflow-wrap: anywhere; }}
</style>
</head>
<body>
<main>
<h1>{html.escape(title)}</h1>
<p>Shown: {html.escape(view.description)}. Rows are the tokens that look, columns the tokens
they look at; hover a cell, or Tab to the map and use the arrow keys, for both tokens and the
weight. Layers, heads and token places are counted from 1.</p>
{note}
{interactive_section(data)}
<noscript><img alt="{html.escape(title, quote=True)}: the small maps of every head and the chosen
map" src="data:image/png;base64,{picture}"></noscript>
<h2>Tokens ({maps.length})</h2>
<p>{tokens}</p>
<h2>Head patterns</h2>
{pattern_table_html(patterns)}
</main>
</body>
</html>
"""


def write_static_html(path: str | os.PathLike, maps: AttentionMaps, patterns: HeadPatterns,
                      title: str = "Attention explorer", state: ExplorerState | None = None,
                      parts: str = "all", query_keys=None, **shown) -> Path:
    """Write the standalone page to ``path`` (``.html`` added when missing); returns the path."""
    target = checked_target(path, "html")
    page = static_html_page(maps, patterns, title, state, parts, query_keys, **shown)
    target.write_text(page, encoding="utf-8")
    return target
