"""Small figure helpers for the notebooks: labels on a scatter plot that do not overlap."""

from __future__ import annotations

NEAR_OFFSETS = [(5, 4), (5, -4), (-5, 4), (-5, -4), (0, 9), (0, -9)]  # pixels from the point
FAR_OFFSETS = [(r * dx, r * dy) for r in (16, 26, 36)
               for dx, dy in [(1, 1), (1, -1), (-1, 1), (-1, -1), (1, 0), (-1, 0), (0, 1), (0, -1)]]


def place_labels(ax, xy, labels, fontsize: int = 9) -> int:
    """Label each point without overlaps: try offsets around it, nearest first, and keep the first
    whose text box hits no earlier label, no point and stays inside the axes (greedy,
    deterministic); a label set far from its point gets a thin leader line. Call it after the
    points are drawn and the limits set. Returns the number of clashes it could not avoid (0 when
    every label is clear)."""
    fig = ax.figure
    fig.canvas.draw()  # fixes the axis limits and gives a renderer for text sizes
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    to_data = ax.transData.inverted()
    dots = [ax.transData.transform(p) for p in xy]  # the points, in pixels
    placed, left = [], 0

    def clashes(box):
        hits = sum(box.overlaps(other) for other in placed)
        hits += sum(box.x0 - 4 < x < box.x1 + 4 and box.y0 - 4 < y < box.y1 + 4 for x, y in dots)
        outside = box.x0 < frame.x0 or box.x1 > frame.x1 or box.y0 < frame.y0 or box.y1 > frame.y1
        return hits + 10 * outside

    for (px, py), label in zip(dots, labels, strict=True):
        best = None
        for dx, dy in NEAR_OFFSETS + FAR_OFFSETS:
            tx, ty = to_data.transform((px + dx, py + dy))
            text = ax.text(tx, ty, label, fontsize=fontsize,
                           ha="left" if dx > 0 else "right" if dx < 0 else "center",
                           va="bottom" if dy > 0 else "top" if dy < 0 else "center")
            box = text.get_window_extent(renderer)
            score = clashes(box)
            if best is None or score < best[0]:
                if best is not None:
                    best[1].remove()
                best = (score, text, box, (dx, dy), (tx, ty))
            else:
                text.remove()
            if score == 0:
                break
        placed.append(best[2])
        left += best[0]
        if best[3] in FAR_OFFSETS:  # a thin line from the point to its label
            x, y = to_data.transform((px, py))
            ax.plot([x, best[4][0]], [y, best[4][1]], color="gray", linewidth=0.6, zorder=0)
    return left


__all__ = ["place_labels"]
