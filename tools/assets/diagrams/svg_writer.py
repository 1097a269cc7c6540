"""The one small SVG writer behind every course diagram (no plotting library needed).

Each ``make_diagrams_*.py`` script draws its pictures with :class:`Svg` and writes them into
course_lib/assets/diagrams/. Text is dark on white on purpose: the notebooks show the
files as they are, in light and dark themes alike.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

FONT = "font-family='DejaVu Sans, Helvetica, Arial, sans-serif'"
INK = "#222222"
DASH = " stroke-dasharray='5,4'"


class Svg:
    """A list of SVG elements with helpers for the few shapes the diagrams need.

    ``text`` puts the baseline at ``y`` unless ``centred_text`` is set, then ``y`` is the middle
    of the text (the convention of notebooks 00-05's diagrams). Box labels are always centred.
    """

    def __init__(self, width: int, height: int, title: str = "", ink: str = INK,
                 centred_text: bool = False):
        self.width, self.height, self.title = width, height, title
        self.ink, self.centred_text = ink, centred_text
        self.parts: list[str] = []

    def box(self, x, y, w, h, fill, label="", size=13, bold=False, bold_first=False,
            dashed=False, rx=6, stroke=None):
        """A rounded rectangle with its label's lines (a list or one string with \\n) centred."""
        self.parts.append(f"<rect x='{x}' y='{y}' width='{w}' height='{h}' rx='{rx}' ry='{rx}' "
                          f"fill='{fill}' stroke='{stroke or self.ink}' stroke-width='1.2'"
                          f"{DASH if dashed else ''}/>")
        lines = label.split("\n") if isinstance(label, str) else list(label)
        if lines and lines != [""]:
            self._lines(x + w / 2, y + h / 2, lines, size, bold, bold_first, "middle",
                        self.ink, False, centred=True)

    def text(self, x, y, label, size=13, bold=False, anchor="middle", color=None, italic=False):
        """Free text; several lines when ``label`` holds newlines."""
        self._lines(x, y, str(label).split("\n"), size, bold, False, anchor, color or self.ink,
                    italic, centred=self.centred_text)

    def _lines(self, x, y, lines, size, bold, bold_first, anchor, color, italic, centred):
        step = size * 1.25
        first = y - (len(lines) - 1) * step / 2 if centred else y
        baseline = " dominant-baseline='central'" if centred else ""
        style = " font-style='italic'" if italic else ""
        for number, line in enumerate(lines):
            heavy = bold or (bold_first and number == 0)
            weight = " font-weight='bold'" if heavy else ""
            self.parts.append(
                f"<text x='{x}' y='{first + number * step:.1f}' {FONT} font-size='{size}'"
                f"{weight}{style} fill='{color}' text-anchor='{anchor}'{baseline}>"
                f"{escape(line)}</text>")

    def arrow(self, x1, y1, x2, y2, color=None, dashed=False):
        self.parts.append(f"<line x1='{x1}' y1='{y1}' x2='{x2}' y2='{y2}' "
                          f"stroke='{color or self.ink}' stroke-width='1.5'"
                          f"{DASH if dashed else ''} marker-end='url(#head)'/>")

    def polyline(self, points, color=None, dashed=False, arrow=True):
        """Straight segments through ``points``, with an arrow head at the end."""
        coords = " ".join(f"{x},{y}" for x, y in points)
        marker = " marker-end='url(#head)'" if arrow else ""
        self.parts.append(f"<polyline points='{coords}' fill='none' stroke='{color or self.ink}' "
                          f"stroke-width='1.5'{DASH if dashed else ''}{marker}/>")

    def curve(self, d, color=None, dashed=False):
        """An SVG path (``d`` as in the SVG spec), with an arrow head at the end."""
        self.parts.append(f"<path d='{d}' fill='none' stroke='{color or self.ink}' "
                          f"stroke-width='1.5'{DASH if dashed else ''} marker-end='url(#head)'/>")

    def circle_plus(self, x, y, r=11):
        """The residual-add symbol."""
        self.parts.append(f"<circle cx='{x}' cy='{y}' r='{r}' fill='white' stroke='{self.ink}' "
                          "stroke-width='1.5'/>")
        self._lines(x, y, ["+"], 16, True, False, "middle", self.ink, False, centred=True)

    def box_row(self, steps, y=60, width=124, gap=10, height=72) -> None:
        """A left-to-right pipeline: one box per (lines, fill) step, arrows between them."""
        for i, (lines, fill) in enumerate(steps):
            x = 12 + i * (width + gap)
            self.box(x, y, width, height, fill, lines, bold_first=True, size=12)
            if i:
                self.arrow(x - gap, y + height // 2, x, y + height // 2)

    def svg(self) -> str:
        title = f"<title>{escape(self.title)}</title>\n" if self.title else ""
        return (f"<svg xmlns='http://www.w3.org/2000/svg' width='{self.width}' "
                f"height='{self.height}' viewBox='0 0 {self.width} {self.height}'>\n{title}"
                "<defs><marker id='head' viewBox='0 0 10 10' refX='9' refY='5' markerWidth='7' "
                "markerHeight='7' orient='auto-start-reverse'><path d='M0,0 L10,5 L0,10 z' "
                f"fill='{self.ink}'/></marker></defs>\n"
                f"<rect width='{self.width}' height='{self.height}' fill='white'/>\n"
                + "\n".join(self.parts) + "\n</svg>\n")

    def save(self, path: Path) -> Path:
        path.write_text(self.svg(), encoding="utf-8")
        return path
