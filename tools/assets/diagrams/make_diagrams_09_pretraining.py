"""Draw the diagrams of notebook 09 (pre-training BERT) as plain SVG files (no dependencies).

Run from anywhere:  python tools/assets/diagrams/make_diagrams_09_pretraining.py
It rewrites 09_causal_vs_bidirectional.svg and 09_masked_lm.svg in course_lib/assets/diagrams/.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parents[2] / "course_lib" / "assets" / "diagrams"  # shipped inside course_lib
sys.path.insert(0, str(HERE))

from make_diagrams_06_10 import (  # noqa: E402  (the shared SVG writer and colours)
    ATTENTION,
    EMBED,
    FEED_FORWARD,
    INPUT,
    LINE,
    NORM,
    OUTPUT,
    Svg,
)

WORDS = ["[CLS]", "the", "[MASK]", "barked", "loudly", "[SEP]"]
SEEN, HIDDEN = "#4a7bd0", "#f4f4f4"


def mask_grid(svg: Svg, left: int, top: int, causal: bool, title: str, note: str) -> None:
    """A seq x seq grid: row = the position that looks, column = the position looked at."""
    cell = 34
    svg.text(left + 3 * cell + 40, top - 44, title, size=15, bold=True)
    for j, word in enumerate(WORDS):  # column labels, rotated would be nicer; short words fit
        svg.text(left + 80 + j * cell + cell / 2, top - 8, word, size=9)
    for i, word in enumerate(WORDS):
        y = top + i * cell
        svg.text(left + 74, y + cell / 2 + 4, word, size=11, anchor="end")
        for j in range(len(WORDS)):
            allowed = j <= i if causal else True
            fill = SEEN if allowed else HIDDEN
            svg.parts.append(f"<rect x='{left + 80 + j * cell}' y='{y}' width='{cell - 2}' "
                             f"height='{cell - 2}' fill='{fill}' stroke='{LINE}' "
                             "stroke-width='0.6'/>")
    row = WORDS.index("[MASK]")
    y = top + row * cell
    svg.parts.append(f"<rect x='{left + 78}' y='{y - 2}' width='{len(WORDS) * cell + 2}' "
                     f"height='{cell + 2}' fill='none' stroke='#d04a4a' stroke-width='2.5'/>")
    svg.text(left + 80 + 3 * cell, top + len(WORDS) * cell + 24, note, size=12, italic=True)


def causal_vs_bidirectional() -> Svg:
    svg = Svg(900, 384)
    svg.text(450, 26, "Which positions each position may look at (blue = allowed)", size=16,
             bold=True)
    mask_grid(svg, 20, 110, False, "bidirectional (BERT): all True",
              "[MASK] sees 'barked' on its right: dog!")
    mask_grid(svg, 470, 110, True, "causal (GPT-style): lower triangle",
              "[MASK] sees only '[CLS] the': any animal")
    svg.text(450, 372, "Rows look, columns are looked at. The causal mask is "
             "torch.tril(torch.ones(n, n, dtype=torch.bool)): the diagonal stays (a position "
             "sees itself).", size=11)
    return svg


def masked_lm() -> Svg:
    svg = Svg(944, 300)
    svg.text(472, 26, "Masked language modelling: hide 15%, predict them from both sides",
             size=16, bold=True)
    steps = [
        (["sentence", "the dog barked", "at the gate"], INPUT),
        (["choose 15%", "of the words", "(never [CLS]/[SEP])"], NORM),
        (["80% [MASK]", "10% random", "10% unchanged"], NORM),
        (["BERT encoder", "bidirectional", "(batch, seq, hidden)"], ATTENTION),
        (["MLM head", "dense, GELU, LN,", "x word emb. + b"], FEED_FORWARD),
        (["logits", "(batch, seq,", "vocab)"], OUTPUT),
        (["cross-entropy", "at chosen", "positions only"], EMBED),
    ]
    svg.box_row(steps)
    svg.text(472, 172, "labels = the original ID at chosen positions, -100 everywhere else "
             "(cross_entropy ignores -100)", size=12)
    svg.text(472, 196, "The decoder's weight IS the word-embedding matrix (tied): the score of "
             "word w = vector . embedding(w) + bias(w)", size=12)
    svg.text(472, 226, "Why 80/10/10: fine-tuning text never contains [MASK], so the model must "
             "also predict at real, unmasked words", size=12, italic=True)
    svg.text(472, 250, "(Devlin et al. 2019, section 3.1 and appendix C.2).", size=12,
             italic=True)
    return svg


def main() -> None:
    for name, build in (("09_causal_vs_bidirectional.svg", causal_vs_bidirectional),
                        ("09_masked_lm.svg", masked_lm)):
        build().save(OUT / name)
        print("wrote", OUT / name)


if __name__ == "__main__":
    main()
