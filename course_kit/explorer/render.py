"""The explorer's one static picture, for outputs read without JavaScript (GitHub, nbviewer,
``current_png()``, a page's <noscript>): ``static_png`` draws the grid of small maps and the chosen
map with token labels and a colour bar, with NumPy and Pillow. Everything interactive is drawn
by the browser viewer (``static/viewer.js``).

Colour scale: by default one shared scale from 0 (white) to 1 (dark blue) for every map, so a
weight of 0.03 looks pale wherever it is and uniform attention looks uniform; ``vmax=None``
gives per-map contrast (darkest = the map's own largest value), and the colour bar then says
what that value is. Pictures are drawn at their natural size: one map cell is a whole number
of pixels, and the widget never stretches them.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw, ImageFont

if TYPE_CHECKING:
    from .maps import AttentionMaps
    from .state import ExplorerState

# Colour scale: white (no attention) to dark blue (the top of the scale).
_ANCHORS = np.array([[255, 255, 255], [205, 225, 243], [115, 168, 216], [40, 96, 170],
                     [12, 36, 92]], dtype=float)
COLORS = np.stack(
    [np.interp(np.linspace(0, 1, 256), np.linspace(0, 1, len(_ANCHORS)), _ANCHORS[:, channel])
     for channel in range(3)], axis=1,
).round().astype(np.uint8)  # (256, 3)
HIGHLIGHT = (230, 90, 20)
DIVIDER = (200, 20, 120)  # the line between sentence A and sentence B
TEXT = (30, 30, 30)
SHARED_VMAX = 1.0  # the default top of the colour scale: attention weights lie in [0, 1]
BAR_WIDTH = 10
BAR_MIN_HEIGHT = 90
LABEL_SIZE = 10
TITLE_SIZE = 12
MARGIN = 4


PRIMARY_FONT = "DejaVuSans.ttf"  # wide script coverage: Latin, Greek, Cyrillic, Arabic, ...
# Tried in order for labels the primary font cannot draw (CJK, more scripts), when installed.
FALLBACK_FONTS = ("NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf",
                  "NotoSansCJKjp-Regular.otf", "DroidSansFallbackFull.ttf", "wqy-microhei.ttc",
                  "wqy-zenhei.ttc", "NotoSans-Regular.ttf", "unifont.ttf")


@lru_cache(maxsize=64)
def _truetype(name: str, size: int):
    """A font file found on this system by name, or None."""
    try:
        return ImageFont.truetype(name, size)
    except OSError:
        return None


@lru_cache(maxsize=8)
def get_font(size: int) -> ImageFont.ImageFont:
    """DejaVu Sans when the system has it (wide script coverage), else Pillow's own font."""
    return _truetype(PRIMARY_FONT, size) or ImageFont.load_default(size=size)


@lru_cache(maxsize=16)
def _coverage(path: str) -> frozenset[int] | None:
    """The code points a font file has glyphs for (None when this cannot be read)."""
    try:
        from fontTools.ttLib import TTFont
    except ImportError:
        return None
    try:
        with TTFont(path, fontNumber=0, lazy=True) as font:
            return frozenset(font.getBestCmap())
    except Exception:  # an unreadable font file: treat its coverage as unknown
        return None


def _drawable(font, text: str) -> bool:
    """True when ``font`` has a glyph for every visible character of ``text`` (or we cannot
    tell, e.g. Pillow's built-in font or no fontTools)."""
    cmap = _coverage(getattr(font, "path", "")) if getattr(font, "path", None) else None
    return cmap is None or all(ord(ch) in cmap for ch in text if not ch.isspace())


@lru_cache(maxsize=4096)
def font_for(text: str, size: int):
    """The first font that can draw all of ``text``: DejaVu Sans, then the installed fallbacks;
    DejaVu Sans again when none can (``missing_glyphs`` says which characters)."""
    primary = get_font(size)
    if _drawable(primary, text):
        return primary
    for name in FALLBACK_FONTS:
        font = _truetype(name, size)
        if font is not None and _drawable(font, text):
            return font
    return primary


def missing_glyphs(texts, size: int = LABEL_SIZE) -> str:
    """The characters of ``texts`` that no installed font can draw (they would show as boxes)."""
    missing = {}
    for text in texts:
        text = label_text(text, max_chars=10**6)
        font = font_for(text, size)
        for ch in text:
            if not ch.isspace() and not _drawable(font, ch):
                missing[ch] = None
    return "".join(missing)


def label_text(token: str, max_chars: int = 12) -> str:
    """A token as a short, printable label: control characters become '?', long ones are cut."""
    text = "".join(ch if ch.isprintable() else "?" for ch in str(token))
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"


def text_width(text: str, size: int) -> int:
    return math.ceil(font_for(text, size).getlength(text))


def check_drawable(values: np.ndarray, what: str = "map") -> None:
    """Refuse values that cannot be drawn honestly: NaN or infinity (never drawn as a colour)."""
    if not np.isfinite(values).all():
        bad = "NaN" if np.isnan(values).any() else "infinite values"
        raise ValueError(f"the {what} holds {bad}: it is not drawn (attention weights must be "
                         "finite numbers between 0 and 1; did the model produce NaN?)")


def scale_top(values: np.ndarray, vmax: float | None) -> float:
    """The value drawn darkest: ``vmax``, or the largest value for per-map contrast."""
    if vmax is not None:
        return float(vmax)
    return float(values.max()) if values.size else 0.0


def colorize(values: np.ndarray, vmax: float | None = SHARED_VMAX) -> np.ndarray:
    """Values in [0, vmax] (any shape) -> RGB colours, shape (..., 3), uint8.

    ``vmax=None``: the largest value is darkest. Values above ``vmax`` get the darkest colour.
    """
    values = np.asarray(values, dtype=np.float32)
    top = scale_top(values, vmax)
    scale = 255.0 / top if top > 0 else 0.0
    index = np.clip(values * scale + 0.5, 0, 255).astype(np.uint8)
    return COLORS[index]


def resample(values: np.ndarray, size: int, axis: int, reduce: str = "mean") -> np.ndarray:
    """Resize one axis to ``size``: block means (or sums) when shrinking, repeats when growing."""
    length = values.shape[axis]
    if length > size:
        edges = (np.arange(size) * length) // size  # first index of each block
        sums = np.add.reduceat(values, edges, axis=axis)
        if reduce == "sum":
            return sums
        counts = np.diff(np.append(edges, length)).astype(np.float32)
        shape = [1] * values.ndim
        shape[axis] = size
        return sums / counts.reshape(shape)
    index = (np.arange(size) * length) // size
    return np.take(values, index, axis=axis)


def shrink_map(weights: np.ndarray, size: int) -> np.ndarray:
    """Maps (..., rows, cols) -> (..., size, size) for a thumbnail.

    Long maps: rows are averaged in blocks (the mean looking token) and columns summed (the
    share of attention going to the block of tokens), so each small row still sums to what the
    full row did and the shared 0..1 scale keeps its meaning. Short maps are repeated, never
    interpolated.
    """
    rows = resample(weights, size, axis=-2)
    return resample(rows, size, axis=-1, reduce="sum")


def thumbnails(weights: np.ndarray, size: int, vmax: float | None = SHARED_VMAX) -> np.ndarray:
    """Maps (..., rows, cols) -> (..., size, size, 3) colours on one shared scale (``vmax``),
    or, with ``vmax=None``, each map scaled to its own maximum."""
    small = shrink_map(weights, size)  # (..., size, size)
    if vmax is not None:
        return colorize(small, vmax=vmax)
    peaks = small.max(axis=(-2, -1), keepdims=True)
    scaled = np.divide(small, peaks, out=np.zeros_like(small), where=peaks > 0)
    return colorize(scaled, vmax=1.0)


LABEL_PAD = LABEL_SIZE // 2 + 1  # room for a label centred on the first or last row


@lru_cache(maxsize=32)
def _row_label_strip(labels: tuple[str, ...], pitch: int, step: int) -> Image.Image:
    """Labels stacked top to bottom, right-aligned, one every ``step`` rows of ``pitch`` px.

    The strip is a mask (text 255 on 0) reaching LABEL_PAD px beyond the rows at both ends,
    so no label is cut and strips never hide each other.
    """
    shown = [(i, labels[i]) for i in range(0, len(labels), step)]
    width = max((text_width(text, LABEL_SIZE) for _, text in shown), default=0) + 3
    strip = Image.new("L", (width, pitch * len(labels) + 2 * LABEL_PAD), 0)
    draw = ImageDraw.Draw(strip)
    for i, text in shown:
        y = LABEL_PAD + i * pitch + pitch / 2
        draw.text((width - 2, y), text, fill=255, font=font_for(text, LABEL_SIZE), anchor="rm")
    return strip


@lru_cache(maxsize=32)
def _column_label_strip(labels: tuple[str, ...], pitch: int, step: int) -> Image.Image:
    """Labels written upwards (rotated 90 degrees), one every ``step`` columns of ``pitch`` px."""
    shown = [(i, labels[i]) for i in range(0, len(labels), step)]
    height = max((text_width(text, LABEL_SIZE) for _, text in shown), default=0) + 3
    sideways = Image.new("L", (height, pitch * len(labels) + 2 * LABEL_PAD), 0)
    draw = ImageDraw.Draw(sideways)
    for i, text in shown:  # left-aligned: after the turn each label starts next to the map
        y = LABEL_PAD + i * pitch + pitch / 2
        draw.text((2, y), text, fill=255, font=font_for(text, LABEL_SIZE), anchor="lm")
    return sideways.transpose(Image.Transpose.ROTATE_90)


def label_step(count: int, pitch: int) -> int:
    """Show every n-th label so that labels never overlap."""
    return max(1, math.ceil(LABEL_SIZE / max(pitch, 1))) if count else 1


def thinned(labels, step: int, positions=None) -> tuple[str, ...]:
    """Labels as drawn, with the token's place in the text in front (counted from 1) when only
    every n-th label is shown or when the map skips tokens (``positions`` not 0, 1, 2, ...).

    ``positions``: each label's index in the text, counted from 0 (default 0, 1, 2, ...).
    """
    default = positions is None or list(positions) == list(range(len(labels)))
    if step == 1 and default:
        return tuple(label_text(t) for t in labels)
    positions = range(len(labels)) if positions is None else positions
    return tuple(f"{p + 1} {label_text(t)}" for p, t in zip(positions, labels, strict=True))


def tick_text(value: float) -> str:
    """A colour-bar value, short: 0, 0.5, 1, 0.031."""
    return f"{value:.2g}" if value else "0"


def color_bar(height: int, vmax: float, caption: str = "") -> Image.Image:
    """A vertical colour bar ``height`` px tall (0 at the bottom, ``vmax`` at the top) with its
    values written beside it, on white."""
    height = max(height, BAR_MIN_HEIGHT)
    ramp = np.linspace(1.0, 0.0, height, dtype=np.float32)[:, None]  # (height, 1): top = 1
    bar = Image.fromarray(colorize(np.repeat(ramp, BAR_WIDTH, axis=1), vmax=1.0))
    ticks = [1.0, 0.75, 0.5, 0.25, 0.0] if height >= 150 else [1.0, 0.5, 0.0]
    labels = [tick_text(t * vmax) for t in ticks]
    label_width = max(text_width(t, LABEL_SIZE) for t in labels) + 4
    caption_width = text_width(caption, LABEL_SIZE) if caption else 0
    width = max(BAR_WIDTH + 4 + label_width, caption_width) + MARGIN
    top = LABEL_PAD + (LABEL_SIZE + 4 if caption else 0)
    image = Image.new("RGB", (width, top + height + LABEL_PAD), "white")
    image.paste(bar, (0, top))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, top, BAR_WIDTH - 1, top + height - 1), outline=TEXT)
    font = get_font(LABEL_SIZE)
    if caption:
        draw.text((0, 0), caption, fill=TEXT, font=font)
    for tick, text in zip(ticks, labels, strict=True):
        y = top + round((1.0 - tick) * (height - 1))
        draw.line((BAR_WIDTH, y, BAR_WIDTH + 2, y), fill=TEXT)
        draw.text((BAR_WIDTH + 4, y), text, fill=TEXT, font=font, anchor="lm")
    return image


def render_attention_map(weights, row_labels, col_labels=None, title: str = "",
                         cell: int | None = None, max_extent: int = 420,
                         vmax: float | None = SHARED_VMAX, row_positions=None, col_positions=None,
                         row_divider: int | None = None, col_divider: int | None = None,
                         bar: bool = True, bar_caption: str = "weight") -> Image.Image:
    """A heatmap of a (rows, cols) matrix with labels on both axes and a colour bar, as a PIL
    image at its natural size (each cell a whole number of pixels, no resampling): ``cell`` px
    square, or by default as large as fits ``max_extent`` on each axis, at most 24 px, so a
    12 x 512 map (heads x tokens) keeps readable rows.

    Colours: 0 = white to ``vmax`` = dark blue (default 1: the shared scale of attention
    weights); ``vmax=None`` scales the map to its own largest value (per-map contrast). The
    colour bar shows the real values. Labels are thinned when there are too many to read; a
    label shows the token's place in the text (counted from 1) when labels are thinned or
    when ``row_positions`` / ``col_positions`` (indices in the text, counted from 0) skip
    tokens. ``row_divider`` / ``col_divider``: the first row / column of sentence B, marked
    by a line. NaN is refused.
    """
    matrix = np.asarray(weights, dtype=np.float32)
    if matrix.ndim != 2:
        raise ValueError(f"a map to draw must be 2-D (rows, cols), got shape {matrix.shape}")
    check_drawable(matrix)
    rows, cols = matrix.shape
    col_labels = row_labels if col_labels is None else col_labels
    if len(row_labels) != rows or len(col_labels) != cols:
        raise ValueError(f"{rows}x{cols} map needs {rows} row and {cols} column labels, got "
                         f"{len(row_labels)} and {len(col_labels)}")
    if cell is None:  # (width, height) of one cell in pixels
        cw, ch = (max(1, min(24, max_extent // max(count, 1))) for count in (cols, rows))
    else:
        cw = ch = cell
    top_value = scale_top(matrix, vmax)
    colors = Image.fromarray(colorize(matrix, top_value))
    heat = colors.resize((cols * cw, rows * ch), Image.Resampling.NEAREST)  # whole pixels

    row_step, col_step = label_step(rows, ch), label_step(cols, cw)
    left_strip = _row_label_strip(thinned(row_labels, row_step, row_positions), ch, row_step)
    top_strip = _column_label_strip(thinned(col_labels, col_step, col_positions), cw, col_step)
    title_height = TITLE_SIZE + 6 if title else 0
    left = MARGIN + left_strip.width
    top = MARGIN + title_height + top_strip.height
    scale_bar = color_bar(heat.height, top_value, bar_caption) if bar else None
    bar_room = scale_bar.width + 12 if scale_bar else 0
    width = max(left + heat.width + bar_room, MARGIN + text_width(title, TITLE_SIZE)) + MARGIN
    width = max(width, left - LABEL_PAD + top_strip.width + MARGIN)
    height = top + max(heat.height, scale_bar.height - LABEL_PAD if scale_bar else 0)
    image = Image.new("RGB", (width, height + LABEL_PAD + MARGIN), "white")
    image.paste(TEXT, (MARGIN, top - LABEL_PAD), mask=left_strip)
    image.paste(TEXT, (left - LABEL_PAD, MARGIN + title_height), mask=top_strip)
    image.paste(heat, (left, top))
    if scale_bar:
        bar_top = top - LABEL_PAD - (LABEL_SIZE + 4 if bar_caption else 0)
        image.paste(scale_bar, (left + heat.width + 12, max(MARGIN + title_height, bar_top)))
    draw = ImageDraw.Draw(image)
    if title:
        draw.text((MARGIN, MARGIN), title, fill=TEXT, font=font_for(title, TITLE_SIZE))
    if row_divider is not None and 0 < row_divider < rows:
        y = top + row_divider * ch
        draw.line((left - 6, y - 1, left + heat.width + 2, y - 1), fill=DIVIDER, width=2)
    if col_divider is not None and 0 < col_divider < cols:
        x = left + col_divider * cw
        draw.line((x - 1, top - 6, x - 1, top + heat.height + 2), fill=DIVIDER, width=2)
    return image


@dataclass(frozen=True)
class GridPicture:
    """A layers x heads grid of small maps, and where each one sits (to mark a selection)."""

    image: Image.Image
    left: int
    top: int
    thumb: int
    pitch: int

    def box(self, layer: int, head: int) -> tuple[int, int, int, int]:
        x, y = self.left + head * self.pitch, self.top + layer * self.pitch
        return (x - 2, y - 2, x + self.thumb + 1, y + self.thumb + 1)

    def with_selection(self, layer: int, head: int) -> Image.Image:
        """A copy with a frame around the chosen map."""
        image = self.image.copy()
        ImageDraw.Draw(image).rectangle(self.box(layer, head), outline=HIGHLIGHT, width=2)
        return image


def render_grid(weights, layer_names=None, head_names=None, thumb: int | None = None,
                title: str = "", vmax: float | None = SHARED_VMAX,
                bar: bool = True) -> GridPicture:
    """Maps of shape (layers, heads, rows, cols) as a grid of thumbnails, one row per layer.

    Long maps are shrunk to the thumbnail size (rows averaged, columns summed: see
    ``shrink_map``). Colours: one shared scale up to ``vmax`` (default 1) with a colour bar, or
    with ``vmax=None`` each thumbnail scaled to its own maximum (the bar then reads "max").
    """
    array = np.asarray(weights, dtype=np.float32)
    if array.ndim != 4:
        raise ValueError(
            f"a grid needs maps of shape (layers, heads, rows, cols), got {array.shape}")
    check_drawable(array, "grid of maps")
    layers, heads = array.shape[:2]
    layer_names = layer_names or [str(i + 1) for i in range(layers)]
    head_names = head_names or [str(i + 1) for i in range(heads)]
    if thumb is None:
        thumb = max(16, min(64, 440 // heads - 4, 440 // layers - 4))
    gap = 4
    pitch = thumb + gap
    tiles = np.full((layers, pitch, heads, pitch, 3), 255, dtype=np.uint8)  # white gaps
    small = thumbnails(array, thumb, vmax)  # (layers, heads, thumb, thumb, 3)
    tiles[:, :thumb, :, :thumb] = small.transpose(0, 2, 1, 3, 4)  # (layers, thumb, heads, thumb, 3)
    body = Image.fromarray(tiles.reshape(layers * pitch, heads * pitch, 3))  # one row per layer

    font = get_font(LABEL_SIZE)
    name_width = max(text_width(str(n), LABEL_SIZE) for n in layer_names)
    left = MARGIN + max(name_width, text_width("layer", LABEL_SIZE)) + 6
    title_height = TITLE_SIZE + 6 if title else 0
    top = MARGIN + title_height + 2 * (LABEL_SIZE + 4)
    scale_bar = None
    if bar:
        caption = "weight" if vmax is not None else "share of max"
        scale_bar = color_bar(min(body.height, 240), vmax if vmax is not None else 1.0, caption)
    bar_room = scale_bar.width + 12 if scale_bar else 0
    width = max(left + body.width + bar_room, MARGIN + text_width(title, TITLE_SIZE)) + MARGIN
    height = max(top + body.height, top + (scale_bar.height if scale_bar else 0))
    image = Image.new("RGB", (width, height), "white")
    image.paste(body, (left, top))
    if scale_bar:
        image.paste(scale_bar, (left + body.width + 8, top - LABEL_SIZE - 4 - LABEL_PAD))
    draw = ImageDraw.Draw(image)
    if title:
        draw.text((MARGIN, MARGIN), title, fill=TEXT, font=get_font(TITLE_SIZE))
    draw.text((left, MARGIN + title_height), "head", fill=TEXT, font=font)
    draw.text((MARGIN, top - LABEL_SIZE - 4), "layer", fill=TEXT, font=font)
    for h, name in enumerate(head_names):
        draw.text((left + h * pitch + thumb / 2, top - 3), str(name), fill=TEXT, font=font,
                  anchor="mb")
    for layer, name in enumerate(layer_names):
        draw.text((left - 6, top + layer * pitch + thumb / 2), str(name), fill=TEXT, font=font,
                  anchor="rm")
    return GridPicture(image, left, top, thumb, pitch)


def _fixed_palette() -> Image.Image:
    """256 colours that cover every picture drawn here: the colour scale, greys, the highlight."""
    scale = COLORS[np.linspace(0, 255, 150).round().astype(int)]  # (150, 3)
    grays = np.repeat(np.linspace(0, 255, 103).round().astype(np.uint8)[:, None], 3, axis=1)
    accents = np.array([HIGHLIGHT, DIVIDER, TEXT], dtype=np.uint8)
    colors = np.concatenate([scale, grays, accents]).astype(np.uint8)  # (256, 3)
    palette = Image.new("P", (1, 1))
    palette.putpalette(colors.reshape(-1).tolist())
    return palette


PALETTE = _fixed_palette()
_WHITE_ONLY = [0] * 255 + [255]  # a lookup table: grey level 255 -> 255, anything else -> 0


def image_to_png(image: Image.Image) -> bytes:
    """PNG bytes of a picture, fast: mapped onto a fixed 256-colour palette (one byte a pixel,
    about 4x quicker to compress than RGB), light compression."""
    rgb = image.convert("RGB")
    indexed = rgb.quantize(palette=PALETTE, dither=Image.Dither.NONE)
    # Pillow's palette lookup is approximate (white comes out as 252 grey): keep white white.
    # (In C, via Pillow: a mask of the white pixels, then palette entry 0, COLORS[0], pasted.)
    white = rgb.convert("L").point(_WHITE_ONLY)
    indexed.paste(0, mask=white)
    buffer = io.BytesIO()
    indexed.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def head_view_png(weights, tokens, title: str = "", vmax: float | None = SHARED_VMAX) -> bytes:
    """PNG bytes of one head's (seq, seq) map with its tokens on both axes and a colour bar
    (shared 0..1 scale; ``vmax=None`` for per-map contrast)."""
    return image_to_png(render_attention_map(weights, tokens, title=title, vmax=vmax))


def divider(segments: np.ndarray, positions: np.ndarray) -> int | None:
    """Index (in ``positions``) of the first token of sentence B, when both sentences are there."""
    shown = segments[positions]
    if not (shown == 0).any() or not (shown == 1).any():
        return None
    return int(np.argmax(shown == 1))


def static_png(maps: AttentionMaps, state: ExplorerState, parts: str = "all",
               title: str = "") -> bytes:
    """The explorer's one static picture of ``state``: the small maps (``parts`` "all": every
    layer; "layer": the chosen layer's heads; "head": none) beside the chosen map, as the
    options (filter, hidden [CLS]/[SEP], rollout, colour scale) show them; ``title`` above."""
    from .views import select_view

    state.check_against(maps)
    view = select_view(maps, state.pair_filter, state.hide_special, state.rollout)
    head = 0 if state.rollout else state.head
    name = (f"Rollout up to layer {state.layer + 1}" if state.rollout
            else f"Layer {state.layer + 1}, head {state.head + 1}")
    pieces = [render_attention_map(
        view.weights[state.layer, head], view.row_tokens, view.col_tokens, title=name,
        max_extent=560 if parts == "head" else 420, vmax=state.vmax,
        row_positions=tuple(view.row_positions), col_positions=tuple(view.col_positions),
        row_divider=divider(maps.segments, view.row_positions),
        col_divider=divider(maps.segments, view.col_positions))]
    if parts != "head":
        layers = range(view.weights.shape[0]) if parts == "all" else [state.layer]
        grid = render_grid(view.weights[list(layers)], [str(i + 1) for i in layers],
                           list(view.head_names), vmax=state.vmax)
        pieces.insert(0, grid.with_selection(state.layer if parts == "all" else 0, head))
    band = TITLE_SIZE + 2 * MARGIN if title else 0
    width = max(sum(p.width for p in pieces) + 12 * (len(pieces) - 1),
                text_width(title, TITLE_SIZE) + 2 * MARGIN)
    image = Image.new("RGB", (width, band + max(p.height for p in pieces)), "white")
    if title:
        ImageDraw.Draw(image).text((MARGIN, MARGIN), title, fill=TEXT,
                                   font=font_for(title, TITLE_SIZE))
    x = 0
    for piece in pieces:
        image.paste(piece, (x, band))
        x += piece.width + 12
    return image_to_png(image)
