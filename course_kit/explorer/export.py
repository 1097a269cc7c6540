"""Saving what the explorer shows: a PNG file, or one self-contained HTML page (no kernel, no
internet) with a live viewer (hover, click; its code and the maps inline, see
``interactive.py``), the view as saved, the layers x heads grid and the head-pattern table as
pictures that need no script.

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

from .interactive import interactive_section
from .maps import AttentionMaps
from .patterns import HeadPatterns
from .tables import pattern_table_html

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
NOT_IN_NAMES = '<>:"/\\|?*'  # refused by Windows (and "/" by every system): portable names
RESERVED_NAMES = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                  *(f"LPT{i}" for i in range(1, 10))}
MAX_NAME_BYTES = 255  # the usual limit of one file name (ext4, APFS, NTFS in UTF-16 units)


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


def data_url(data: bytes, mime: str) -> str:
    """``data:`` URL of some bytes: a link that downloads them, with no server behind it."""
    return f"data:{mime};base64,{base64.b64encode(bytes(data)).decode('ascii')}"


def static_html_page(grid_png: bytes, maps: AttentionMaps, patterns: HeadPatterns,
                     title: str, description: str, view_png: bytes | None = None,
                     interactive: bool = True, layer: int = 0, head: int = 0,
                     query_keys=None) -> str:
    """The text of a standalone page: the live viewer (``interactive``, opening on ``layer`` and
    ``head``, counted from 0; with ``query_keys`` of that layer, its query/key view), the view
    shown when saved (``view_png``, with its token labels), the grid as an embedded PNG, the
    tokens with their places, the table."""
    live = interactive_section(maps, layer, head, query_keys) if interactive else ""
    picture = base64.b64encode(bytes(grid_png)).decode("ascii")
    view = ("<h2>The view when saved</h2>\n<img alt=\"the attention view shown when saved\" "
            f"src=\"{data_url(view_png, 'image/png')}\">" if view_png else "")
    tokens = " ".join(f"<code>{i + 1}&nbsp;{html.escape(t)}</code>"
                      for i, t in enumerate(maps.tokens))
    note = f"<p><b>Note:</b> {html.escape(maps.note)}</p>" if maps.note else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; color: #1f1f1f; background: #ffffff; }}
img {{ display: block; max-width: 100%; height: auto; image-rendering: pixelated; }}
code {{ background: #eef0f3; color: #1f1f1f; padding: 0 2px; }}
</style>
</head>
<body>
<h1>{html.escape(title)}</h1>
<p>Shown: {html.escape(description)}. Each small map: rows are the tokens that look, columns
the tokens they look at; the colour bar gives the weight of each colour. Layers, heads and
token places are counted from 1.</p>
{note}
<h2>Tokens ({maps.length})</h2>
<p>{tokens}</p>
{live}
{view}
<h2>Every head of every layer</h2>
<img alt="attention maps of all layers and heads" src="data:image/png;base64,{picture}">
<h2>Head patterns</h2>
{pattern_table_html(patterns)}
</body>
</html>
"""


def write_static_html(path: str | os.PathLike, grid_png: bytes, maps: AttentionMaps,
                      patterns: HeadPatterns, title: str = "Attention explorer",
                      description: str = "attention", view_png: bytes | None = None,
                      interactive: bool = True, layer: int = 0, head: int = 0,
                      query_keys=None) -> Path:
    """Write the standalone page to ``path`` (``.html`` added when missing); returns the path."""
    target = checked_target(path, "html")
    page = static_html_page(grid_png, maps, patterns, title, description, view_png,
                            interactive, layer, head, query_keys)
    target.write_text(page, encoding="utf-8")
    return target
