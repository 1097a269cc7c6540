"""The course's WordPiece trainer: characters first, best-scoring merges, stops at the size."""

from __future__ import annotations

import pytest

import course_lib as cl
from course_lib.wordpiece_trainer import merge_pieces, pair_scores, split_into_characters

TEXTS = ["the cat sat on the mat.", "the cats sat.", "a hat, a mat and a cat!"]


def test_starting_pieces_and_merge_rule():
    assert split_into_characters("cat") == ["c", "##a", "##t"]
    assert merge_pieces("c", "##a") == "ca"
    assert merge_pieces("##a", "##t") == "##at"


def test_score_divides_by_part_counts():
    # "ab" x3 and "ac" x1: count(a)=4, count(##b)=3, count(##c)=1
    splits = {"ab": ["a", "##b"], "ac": ["a", "##c"]}
    scores = pair_scores(splits, {"ab": 3, "ac": 1})
    assert scores[("a", "##b")] == pytest.approx(3 / (4 * 3))
    assert scores[("a", "##c")] == pytest.approx(1 / (4 * 1))  # rarer pair, same score


def test_vocabulary_layout_and_size():
    vocab = cl.train_wordpiece(TEXTS, 28)
    assert vocab[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert len(vocab) == 28 and len(set(vocab)) == 28
    assert vocab[-3:] == ["the", "and", "##at"]  # learned merges come last, in order
    assert "." in vocab and "##t" in vocab and "c" in vocab  # punctuation and characters
    assert vocab == cl.train_wordpiece(TEXTS, 28), "deterministic"


def test_large_target_makes_every_word_one_token():
    vocab = cl.train_wordpiece(TEXTS, 10_000)  # stops when nothing is left to merge
    tok = cl.WordPieceTokenizer.from_vocab(vocab)
    for word in ["the", "cat", "cats", "mat", "hat", "and"]:
        assert tok.tokenize(word) == [word]
    assert len(vocab) < 10_000


def test_small_target_splits_words_into_pieces():
    vocab = cl.train_wordpiece(TEXTS, 28)
    tok = cl.WordPieceTokenizer.from_vocab(vocab)
    pieces = tok.tokenize("the cats sat on the mat")
    assert "".join(p.removeprefix("##") for p in pieces) == "thecatssatonthemat"
    assert "[UNK]" not in pieces
    assert len(pieces) > 6  # not every word is a token yet


def test_errors_name_the_rule():
    with pytest.raises(ValueError, match="below"):
        cl.train_wordpiece(TEXTS, 10)
    with pytest.raises(ValueError, match="no words"):
        cl.train_wordpiece(["   "], 100)
    with pytest.raises(TypeError, match="single str"):
        cl.train_wordpiece("the cat", 100)
