"""Draw the diagrams of notebooks 06, 07 and 09 as plain SVG files (no dependencies).

Run from anywhere:  python tools/assets/diagrams/make_diagrams_06_10.py
It rewrites 06_encoder_stack.svg, 07_checkpoint_names.svg and 09_classifier_pipeline.svg
in course_lib/assets/diagrams/.
The numbers in the pictures are BERT-base's (and the shipped MiniLM's).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parents[2] / "course_lib" / "assets" / "diagrams"  # shipped inside course_lib
sys.path.insert(0, str(HERE))

from svg_writer import Svg  # noqa: E402  (the course's one SVG writer)

# Colours shared by all course diagrams of these notebooks.
INPUT = "#e8eef7"
EMBED = "#d7ecd9"
ATTENTION = "#fde3c8"
FEED_FORWARD = "#dde3f7"
NORM = "#f2f2f2"
OUTPUT = "#f7d9e3"
ASIDE = "#eeeeee"
LINE = "#333333"  # the grid lines of notebook 09's mask pictures


def encoder_stack() -> Svg:
    """BERT-base from token IDs to the CLS and Sequence outputs, with one layer opened up."""
    svg = Svg(820, 930)
    svg.text(410, 28, "BERT-base: 12 encoder layers, 768 wide, 12 heads", size=17, bold=True)
    left, width = 70, 330
    center = left + width / 2
    svg.box(left, 50, width, 46, INPUT, ["token IDs: a 1-D vector of 3..512 integers",
                                  "[CLS] w1 w2 ... [SEP], each < 30,522"])
    svg.arrow(center, 96, center, 116)
    svg.box(left, 116, width, 58, EMBED, ["embeddings: word + position + segment",
                                   "then LayerNorm  ->  (seq, 768)",
                                   "23.8M parameters"])
    top, height, gap = 198, 30, 10
    for index in range(12):
        y = top + index * (height + gap)
        svg.arrow(center, y - gap, center, y)
        fill = ATTENTION if index == 0 else "#fbefe2"
        svg.box(left, y, width, height, fill,
                f"encoder layer {index + 1}   (seq, 768) -> (seq, 768)", size=12)
    bottom = top + 12 * (height + gap) - gap
    svg.text(left - 8, top + 6 * (height + gap), "x 12", size=15, bold=True, anchor="end")

    # The two outputs of the block.
    out_y = bottom + 40
    svg.arrow(center, bottom, center, out_y - 8)
    svg.box(left, out_y - 8, width, 30, OUTPUT, "last hidden state: (seq, 768)")
    cls_x, seq_x, branch_w = left, left + 175, 155
    branch_y = out_y + 60
    svg.arrow(center - 40, out_y + 22, cls_x + branch_w / 2, branch_y)
    svg.arrow(center + 40, out_y + 22, seq_x + branch_w / 2, branch_y)
    svg.box(cls_x, branch_y, branch_w, 64, OUTPUT, ["CLS output", "the [CLS] vector", "-> (768,)"],
            bold_first=True)
    svg.box(seq_x, branch_y, branch_w, 64, OUTPUT,
            ["Sequence output", "all vectors", "-> (seq, 768)"], bold_first=True)
    pool_y = branch_y + 92
    svg.arrow(seq_x + branch_w / 2, branch_y + 64, seq_x + branch_w / 2, pool_y)
    svg.box(left + width - 210, pool_y, 210, 64, OUTPUT, ["global average or max pooling",
                                                  "over the real tokens only",
                                                  "(padding left out) -> (768,)"],
            size=12)

    # One layer opened up, on the right.
    zx, zw = 485, 290
    zc = zx + zw / 2
    svg.parts.append(f"<rect x='{zx - 48}' y='44' width='{zw + 88}' height='640' rx='10' "
                     f"fill='none' stroke='#999999' stroke-dasharray='6,4'/>")
    svg.curve(f"M {left + width} {top + height / 2} L {zx - 50} {top + height / 2}", dashed=True)
    svg.text(zc, 66, "inside one encoder layer", size=14, bold=True)
    svg.box(zx, 84, zw, 30, NORM, "x: (seq, 768)")
    svg.arrow(zc, 114, zc, 136)
    svg.box(zx, 136, zw, 78, ATTENTION, ["multi-head self-attention", "Q, K, V: 12 heads x 64 each",
                              "softmax(Q K^T / 8) V, heads merged",
                              "output projection 768 -> 768"], bold_first=True,
            size=12)
    svg.arrow(zc, 214, zc, 240)
    svg.box(zx, 240, zw, 40, NORM, ["add x (residual), then LayerNorm"], size=12)
    svg.curve(f"M {zx} 99 C {zx - 40} 120, {zx - 40} 240, {zx} 258")
    svg.arrow(zc, 280, zc, 306)
    svg.box(zx, 306, zw, 62, FEED_FORWARD,
            ["feed-forward, token by token", "768 -> 3072, GELU, 3072 -> 768"], bold_first=True,
            size=12)
    svg.arrow(zc, 368, zc, 394)
    svg.box(zx, 394, zw, 40, NORM, ["add (residual), then LayerNorm"], size=12)
    svg.curve(f"M {zx + zw} 262 C {zx + zw + 40} 290, {zx + zw + 40} 390, {zx + zw} 412")
    svg.arrow(zc, 434, zc, 456)
    svg.box(zx, 456, zw, 30, NORM, "to the next layer: (seq, 768)")
    svg.text(zc, 516, "parameters per layer:", size=12, bold=True)
    for i, line in enumerate(["attention 4 x (768 x 768 + 768) = 2,362,368",
                              "feed-forward 2 x 768 x 3072 + 3072 + 768 = 4,722,432",
                              "2 LayerNorms 2 x (768 + 768) = 3,072",
                              "one layer: 7,087,872; twelve: 85,054,464",
                              "+ embeddings 23,837,184 = 108,891,648",
                              "(+ pooler 590,592 = 109,482,240, 'about 110M')"]):
        svg.text(zc, 536 + i * 18, line, size=11)
    return svg


def checkpoint_names() -> Svg:
    """How a Hugging Face checkpoint name becomes our parameter name, and what is set aside."""
    svg = Svg(820, 420)
    svg.text(410, 28, "From checkpoint names to our names", size=17, bold=True)
    svg.text(200, 60, "model.safetensors (Hugging Face layout)", size=13, bold=True)
    svg.text(620, 60, "our BertModel.state_dict()", size=13, bold=True)
    rows = [
        ("[bert.]embeddings.word_embeddings.weight", "embeddings.word_embeddings.weight", True),
        ("[bert.]embeddings.LayerNorm.weight (or .gamma)", "embeddings.layer_norm.weight", True),
        ("[bert.]encoder.layer.3.attention.self.query.weight",
         "encoder.layers.3.attention.query.weight", True),
        ("[bert.]encoder.layer.3.attention.output.dense.bias",
         "encoder.layers.3.attention.output.bias", True),
        ("[bert.]encoder.layer.3.intermediate.dense.weight",
         "encoder.layers.3.feed_forward.intermediate.weight", True),
        ("[bert.]encoder.layer.3.output.LayerNorm.bias (or .beta)",
         "encoder.layers.3.output_norm.bias", True),
        ("[bert.]embeddings.position_ids", "set aside: a buffer 0..511, not learned", False),
        ("[bert.]pooler.dense.weight / .bias", "set aside (unless add_pooler=True)", False),
        ("cls.predictions.* / cls.seq_relationship.*", "set aside: pre-training heads", False),
    ]
    for i, (theirs, ours, loaded) in enumerate(rows):
        y = 76 + i * 36
        svg.box(20, y, 370, 28, INPUT if loaded else ASIDE, theirs, size=11)
        svg.box(440, y, 360, 28, EMBED if loaded else ASIDE, ours, size=11, dashed=not loaded)
        svg.arrow(390, y + 14, 440, y + 14, dashed=not loaded)
    svg.text(410, 410, "Every tensor is checked for its shape first; a missing, unexpected or "
             "mis-shaped one is an error that names it.", size=12, italic=True)
    return svg


def classifier_pipeline() -> Svg:
    """Notebook 09's pipeline: sentences to features to a linear classifier."""
    svg = Svg(944, 240)
    svg.text(472, 26, "Classifying sentences with a frozen encoder and a linear layer", size=16,
             bold=True)
    steps = [
        (["sentence", "'Heavy rain is", "expected...'"], INPUT),
        (["tokenizer", "IDs + mask", "(batch, seq)"], INPUT),
        (["encoder (frozen)", "pretrained or", "random weights"], ATTENTION),
        (["features", "CLS, avg, max", "(batch, 384)"], OUTPUT),
        (["standardise", "with train", "statistics"], NORM),
        (["nn.Linear", "384 -> 4", "(trained)"], FEED_FORWARD),
        (["label", "sport, food,", "weather, tech"], EMBED),
    ]
    svg.box_row(steps)
    svg.text(472, 172, "Only the 384 x 4 + 4 = 1,540 numbers of the linear layer are trained; "
             "the encoder's 22.6M stay as they are.", size=12)
    svg.text(472, 196, "Pretrained weights already place related sentences close together; "
             "random weights do not,", size=12, italic=True)
    svg.text(472, 216, "and a few hundred labelled sentences are far too few to train 22.6M "
             "numbers from scratch.", size=12, italic=True)
    return svg


def main() -> None:
    for name, build in (("06_encoder_stack.svg", encoder_stack),
                        ("07_checkpoint_names.svg", checkpoint_names),
                        ("09_classifier_pipeline.svg", classifier_pipeline)):
        build().save(OUT / name)
        print("wrote", OUT / name)


if __name__ == "__main__":
    main()
