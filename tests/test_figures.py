"""course_kit/figures.py: scatter labels placed without overlaps."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from course_kit.figures import place_labels  # noqa: E402


def text_boxes(ax):
    renderer = ax.figure.canvas.get_renderer()
    return [t.get_window_extent(renderer) for t in ax.texts]


def test_crowded_labels_do_not_overlap():
    rng = np.random.default_rng(0)
    xy = np.concatenate([rng.normal(0, 0.05, (8, 2)), rng.normal(1, 0.3, (8, 2))])
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.scatter(xy[:, 0], xy[:, 1])
    ax.margins(0.12)
    left = place_labels(ax, xy.tolist(), [f"label{i}" for i in range(len(xy))])
    boxes = text_boxes(ax)
    assert len(boxes) == len(xy) and left == 0
    for i, a in enumerate(boxes):
        assert not any(a.overlaps(b) for b in boxes[i + 1:])
    plt.close(fig)


def test_it_reports_what_it_could_not_avoid():
    xy = [[0.0, 0.0]] * 40  # forty labels on one point cannot all be clear
    fig, ax = plt.subplots(figsize=(3, 3))
    ax.scatter([0], [0])
    assert place_labels(ax, xy, ["a long label"] * 40) > 0
    plt.close(fig)
