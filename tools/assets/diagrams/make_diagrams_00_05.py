"""Draw the diagrams of notebooks 00-05 as plain SVG files (no plotting library needed).

Run from anywhere: ``python tools/assets/diagrams/make_diagrams_00_05.py``.
It writes, into course_lib/assets/diagrams/:

- ``embeddings_sum.svg``     token + position + segment embeddings, summed, then LayerNorm
- ``qkv_one_head.svg``       one head: Q, K, V, scaled scores, mask, softmax, weights x V
- ``heads_split_merge.svg``  768 = 12 x 64: split into heads, attend, merge, project
- ``encoder_layer.svg``      one post-LN layer: attention, add & norm, feed-forward, add & norm
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parents[2] / "course_lib" / "assets" / "diagrams"  # shipped inside course_lib
sys.path.insert(0, str(HERE))

from svg_writer import Svg  # noqa: E402  (the course's one SVG writer)

# One colour per idea, used the same way in every diagram.
TOKEN, POSITION, SEGMENT_A, SEGMENT_B = "#cfe2ff", "#d1f2d9", "#ffe5b4", "#ffd0d0"
QUERY, KEY, VALUE = "#cfe2ff", "#d1f2d9", "#ffe5b4"
NORM, FFN, ATTENTION, PLAIN = "#e8dcf5", "#ffe5b4", "#cfe2ff", "#f2f2f2"
HEAD_COLORS = ["#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462",
                "#b3de69", "#fccde5", "#d9d9d9", "#bc80bd", "#ccebc5", "#ffed6f"]

def embeddings_sum() -> Svg:
    """Three rows of embeddings, one column per token, summed and normalised."""
    tokens = ["[CLS]", "my", "dog", "is", "cute", "[SEP]", "he", "likes", "play", "##ing", "[SEP]"]
    segments = ["A"] * 6 + ["B"] * 5
    cell, gap, left, top = 66, 6, 170, 50
    width = left + len(tokens) * (cell + gap) + 20
    d = Svg(width, 430, "BERT's input: token + position + segment embeddings", centred_text=True)
    d.text(width / 2, 20, "Each input vector = token embedding + position embedding + segment "
           "embedding, then LayerNorm", size=14, bold=True)
    rows = [("input tokens", None), ("token embeddings\n(vocab_size x 768)", TOKEN),
            ("position embeddings\n(512 x 768)", POSITION),
            ("segment embeddings\n(2 x 768)", None), ("sum, then LayerNorm\n(seq x 768)", NORM)]
    for row, (label, _) in enumerate(rows):
        y = top + row * 74
        d.text(left - 12, y + 20, label, size=12, anchor="end")
        if row in (2, 3, 4):
            d.text(left - 150, y - 14, "+" if row < 4 else "=", size=20, bold=True)
    for column, (token, segment) in enumerate(zip(tokens, segments, strict=True)):
        x = left + column * (cell + gap)
        d.box(x, top, cell, 40, "white", token, size=12, bold=True)
        d.box(x, top + 74, cell, 40, TOKEN, f"E({token})", size=10)
        d.box(x, top + 148, cell, 40, POSITION, f"P{column + 1}", size=12)
        color = SEGMENT_A if segment == "A" else SEGMENT_B
        d.box(x, top + 222, cell, 40, color, f"S{segment}", size=12)
        d.box(x, top + 296, cell, 40, NORM, f"x{column + 1}", size=12)
    d.text(width / 2, 410, "The same word gets the same token embedding anywhere; the position "
           "row tells where it is; the segment row tells which sentence (A or B).", size=12,
           italic=True)
    return d


def qkv_one_head() -> Svg:
    """One head of self-attention, from the input vectors to the head's output."""
    d = Svg(980, 360, "One head of self-attention", centred_text=True)
    d.text(490, 20, "One attention head (BERT-base: hidden 768, head size d = 64)", size=14,
           bold=True)
    d.box(20, 150, 120, 60, PLAIN, "x\n(seq, 768)", bold=True)
    for row, (name, fill) in enumerate((("Q", QUERY), ("K", KEY), ("V", VALUE))):
        y = 60 + row * 100
        d.polyline([(140, 180), (165, 180), (165, y + 25), (185, y + 25)])
        d.box(185, y, 110, 50, fill, f"x W_{name} + b_{name}\n768 -> 64", size=11)
        d.arrow(295, y + 25, 330, y + 25)
        d.box(330, y, 80, 50, fill, f"{name}\n(seq, 64)", size=12, bold=True)
    d.polyline([(410, 85), (450, 85), (450, 120), (470, 120)])
    d.polyline([(410, 185), (450, 185), (450, 150), (470, 150)])
    d.box(470, 100, 130, 70, ATTENTION, "Q K^T / sqrt(d)\nscores (seq, seq)", size=12)
    d.arrow(600, 135, 630, 135)
    d.box(630, 105, 100, 60, PLAIN, "mask:\npadding -> -inf", size=11)
    d.arrow(730, 135, 760, 135)
    d.box(760, 105, 90, 60, ATTENTION, "softmax\n(each row)", size=12)
    d.arrow(805, 165, 805, 235)
    d.polyline([(410, 285), (760, 285)])
    d.box(760, 245, 90, 80, VALUE, "weights x V\n(seq, 64)", size=12, bold=True)
    d.text(590, 335, "each output = a weighted average of the value vectors", size=11,
           italic=True)
    d.text(590, 225, "sqrt(d) keeps the scores' spread near 1,\nso softmax is not saturated",
           size=11, italic=True)
    return d


def heads_split_merge() -> Svg:
    """768 features cut into 12 heads of 64, attended in parallel and glued back."""
    d = Svg(1000, 420, "Splitting into heads and merging them back", centred_text=True)
    d.text(500, 20, "12 heads: split 768 into 12 x 64, attend per head, merge, project", size=14,
           bold=True)
    # one token's vector, 768 wide, as 12 coloured blocks
    x0, y0, block = 20, 70, 22
    d.text(x0 + 6 * block, y0 - 18, "one token's Q vector: 768 = 12 x 64", size=12)
    for head in range(12):
        d.box(x0 + head * block, y0, block, 30, HEAD_COLORS[head], "", rx=0, stroke="#555")
    d.text(x0 + 6 * block, y0 + 48, "(batch, seq, 768)", size=12, bold=True)
    d.arrow(x0 + 12 * block + 10, y0 + 15, x0 + 12 * block + 60, y0 + 15)
    d.text(x0 + 12 * block + 35, y0 - 6, "view", size=11, italic=True)
    # the same as (seq, 12, 64): 12 short rows per token
    x1 = 350
    d.text(x1 + 60, y0 - 18, "(batch, seq, 12, 64)", size=12, bold=True)
    for head in range(12):
        d.box(x1, y0 - 4 + head * 13, 120, 11, HEAD_COLORS[head], "", rx=0, stroke="#555")
    d.arrow(x1 + 130, y0 + 70, x1 + 200, y0 + 70)
    d.text(x1 + 165, y0 + 45, "transpose\n(1, 2)", size=11, italic=True)
    # (12, seq, 64): one panel per head, each attends on its own
    x2 = 560
    d.text(x2 + 200, y0 - 18, "(batch, 12, seq, 64): each head attends on its own", size=12,
           bold=True)
    for head in range(12):
        col, row = head % 6, head // 6
        x, y = x2 + col * 68, y0 + row * 80
        d.box(x, y, 60, 64, HEAD_COLORS[head], f"head {head + 1}\nsoftmax(\nQK^T/8) V", size=9)
    # merge back
    y3 = 290
    d.polyline([(x2 + 200, y0 + 150), (x2 + 200, y3 - 40), (x1 + 60, y3 - 40), (x1 + 60, y3 - 10)])
    d.text(x1 + 330, y3 - 54, "transpose(1, 2), then reshape: heads side by side again",
           size=11, italic=True)
    for head in range(12):
        d.box(x1 - 72 + head * block, y3, block, 30, HEAD_COLORS[head], "", rx=0, stroke="#555")
    d.text(x1 + 60, y3 + 48, "merged (batch, seq, 768)", size=12, bold=True)
    d.arrow(x1 - 72 + 12 * block + 10, y3 + 15, x1 + 260, y3 + 15)
    d.box(x1 + 260, y3 - 10, 180, 50, ATTENTION, "output projection\nLinear 768 -> 768",
          size=12)
    d.arrow(x1 + 440, y3 + 15, x1 + 480, y3 + 15)
    d.text(x1 + 540, y3 + 15, "(batch, seq, 768)", size=12, bold=True)
    d.text(500, 400, "Head 1 owns features 1-64 of Q, K and V, head 2 features 65-128, and so on; "
           "the projection mixes what the 12 heads found.", size=12, italic=True)
    return d


def encoder_layer() -> Svg:
    """One post-LN encoder layer, bottom to top as in the BERT paper's figure."""
    d = Svg(560, 640, "One BERT encoder layer (post-LN)", centred_text=True)
    d.text(280, 20, "One encoder layer (post-LN, as in BERT)", size=14, bold=True)
    cx, w = 250, 220
    left = cx - w / 2
    d.text(cx, 610, "x  (batch, seq, 768)", size=13, bold=True)
    d.arrow(cx, 595, cx, 555)
    d.box(left, 505, w, 50, ATTENTION, "multi-head self-attention\n12 heads of 64", size=12)
    d.arrow(cx, 505, cx, 471)
    d.circle_plus(cx, 460)
    d.polyline([(cx, 575), (cx + 170, 575), (cx + 170, 460), (cx + 11, 460)])
    d.text(cx + 178, 520, "residual", size=11, italic=True, anchor="start")
    d.arrow(cx, 449, cx, 420)
    d.box(left, 380, w, 40, NORM, "LayerNorm (attention_norm)", size=12)
    d.arrow(cx, 380, cx, 340)
    d.box(left, 260, w, 80, FFN, "feed-forward\nLinear 768 -> 3072\nGELU\nLinear 3072 -> 768",
          size=11)
    d.arrow(cx, 260, cx, 226)
    d.circle_plus(cx, 215)
    d.polyline([(cx, 360), (cx + 170, 360), (cx + 170, 215), (cx + 11, 215)])
    d.text(cx + 178, 290, "residual", size=11, italic=True, anchor="start")
    d.arrow(cx, 204, cx, 175)
    d.box(left, 135, w, 40, NORM, "LayerNorm (output_norm)", size=12)
    d.arrow(cx, 135, cx, 95)
    d.text(cx, 80, "to the next layer  (batch, seq, 768)", size=13, bold=True)
    d.text(cx, 45, "h = LayerNorm(x + Attention(x));  out = LayerNorm(h + FeedForward(h))",
           size=12, italic=True)
    return d


DIAGRAMS = {
    "embeddings_sum.svg": embeddings_sum,
    "qkv_one_head.svg": qkv_one_head,
    "heads_split_merge.svg": heads_split_merge,
    "encoder_layer.svg": encoder_layer,
}


def main() -> None:
    for name, draw in DIAGRAMS.items():
        print("wrote", draw().save(OUT / name).relative_to(HERE.parents[2]))


if __name__ == "__main__":
    main()
