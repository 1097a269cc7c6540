"""The course's one definition of head scores (course_kit/explorer/patterns.py): the words that
notebooks 04 and 08 show match what `head_pattern_scores` computes."""

import numpy as np
import pytest

from course_kit.explorer.patterns import (
    BROAD_ENTROPY,
    DOMINANT_SHARE,
    SCORE_DEFINITIONS,
    SHARE_NAMES,
    definitions_markdown,
    head_pattern_scores,
)

PAIR = ["[CLS]", "the", "cat", "[SEP]", "it", "slept", "[SEP]"]


def random_maps(seed: int, layers: int = 2, heads: int = 3, seq: int = len(PAIR)) -> np.ndarray:
    """Rows that sum to 1, shape (layers, heads, seq, seq)."""
    scores = np.random.default_rng(seed).normal(size=(layers, heads, seq, seq)) * 3
    weights = np.exp(scores)
    return (weights / weights.sum(axis=-1, keepdims=True)).astype(np.float32)


def test_every_score_has_one_definition():
    assert set(SCORE_DEFINITIONS) == set(SHARE_NAMES) | {"entropy", "broadness"}
    table = definitions_markdown()
    for name in SCORE_DEFINITIONS:
        assert f"`{name}`" in table
    assert f"{DOMINANT_SHARE:g}" in table and f"{BROAD_ENTROPY:g}" in table


def test_sep_share_is_every_sep_column_averaged_over_all_rows():
    maps = random_maps(0)
    patterns = head_pattern_scores(maps, PAIR)
    by_words = maps[..., [3, 6]].sum(axis=-1).mean(axis=-1)  # both [SEP] columns, every row
    np.testing.assert_allclose(patterns.shares["[SEP]"], by_words, rtol=1e-5)
    last_column_only = maps[..., -1].mean(axis=-1)  # the older, narrower reading
    assert not np.allclose(patterns.shares["[SEP]"], last_column_only)


def test_offsets_average_over_the_rows_that_have_the_neighbour():
    maps = random_maps(1)
    patterns = head_pattern_scores(maps, PAIR)
    seq = len(PAIR)
    previous = np.mean([maps[..., i, i - 1] for i in range(1, seq)], axis=0)
    following = np.mean([maps[..., i, i + 1] for i in range(seq - 1)], axis=0)
    np.testing.assert_allclose(patterns.shares["previous"], previous, rtol=1e-5)
    np.testing.assert_allclose(patterns.shares["next"], following, rtol=1e-5)


@pytest.mark.parametrize("share, expected",
                         [(DOMINANT_SHARE, "[CLS]"), (DOMINANT_SHARE - 0.05, "mixed")])
def test_a_label_needs_the_threshold_not_just_the_largest_share(share, expected):
    seq = len(PAIR)
    head = np.full((seq, seq), 0.0, dtype=np.float32)
    head[:, 0] = share
    head[:, 1] = 1 - share  # narrow: two places per row, so never "broad"
    patterns = head_pattern_scores(head[None, None], PAIR)
    assert patterns.shares["[CLS]"][0, 0] == pytest.approx(share, rel=1e-5)
    assert patterns.labels[0, 0] == expected  # [CLS] is the largest share in both cases
