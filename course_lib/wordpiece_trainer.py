"""Learn a WordPiece vocabulary from text: start from characters, merge the best pair, repeat.

The course's small version of how BERT's ``vocab.txt`` was learned (Schuster and Nakajima 2012;
Wu et al. 2016): split text into words as BERT does; write each word as pieces (``cat`` -> ``c ##a
##t``); score every neighbouring pair ``count(a b) / (count(a) * count(b))`` over all words; merge
the best pair everywhere into a new piece; repeat until ``vocab_size``. Dividing by the parts'
counts (byte-pair encoding does not) prefers pairs whose parts are rare on their own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from .tokenizer import SPECIAL_TOKENS, WordPieceTokenizer

CONTINUES = "##"


def word_counts(texts: Iterable[str], lowercase: bool = True) -> Counter:
    """How often each word occurs, words split as BERT's basic tokenizer splits them."""
    if isinstance(texts, str):
        raise TypeError("texts must be a list of texts, got a single str")
    splitter = WordPieceTokenizer.from_vocab(SPECIAL_TOKENS, lowercase=lowercase)
    counts: Counter = Counter()
    for text in texts:
        counts.update(splitter.basic_tokenize(text))
    return counts


def split_into_characters(word: str) -> list[str]:
    """``"cat"`` -> ``["c", "##a", "##t"]``: the starting pieces of one word."""
    return [word[0]] + [CONTINUES + char for char in word[1:]]


def merge_pieces(a: str, b: str) -> str:
    """a then b as one piece: ``("c", "##a")`` -> ``"ca"``, ``("##a", "##t")`` -> ``"##at"``."""
    return a + b.removeprefix(CONTINUES)


def pair_scores(splits: dict[str, list[str]], counts: Counter) -> dict[tuple[str, str], float]:
    """WordPiece's score of every neighbouring pair: count(a b) / (count(a) * count(b))."""
    piece_count: Counter = Counter()
    pair_count: Counter = Counter()
    for word, pieces in splits.items():
        frequency = counts[word]
        for piece in pieces:
            piece_count[piece] += frequency
        for pair in zip(pieces, pieces[1:], strict=False):
            pair_count[pair] += frequency
    return {
        pair: n / (piece_count[pair[0]] * piece_count[pair[1]]) for pair, n in pair_count.items()}


def train_wordpiece(texts: Iterable[str], vocab_size: int, lowercase: bool = True) -> list[str]:
    """A WordPiece vocabulary (tokens, ID = position) learned from ``texts``: the special tokens,
    the character pieces, then the merges in order, up to ``vocab_size`` or until every word is one
    piece. Ties go to the more frequent pair, then the alphabetically first (deterministic)."""
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, int):
        raise TypeError(f"vocab_size must be an int, got {type(vocab_size).__name__}")
    counts = word_counts(texts, lowercase)
    if not counts:
        raise ValueError("texts hold no words: nothing to learn a vocabulary from")
    splits = {word: split_into_characters(word) for word in counts}
    characters = sorted({piece for pieces in splits.values() for piece in pieces})
    vocab = list(SPECIAL_TOKENS) + characters
    if vocab_size < len(vocab):
        raise ValueError(
            f"vocab_size {vocab_size} is below the {len(vocab)} tokens needed for the special "
            "tokens and the characters of the text")
    known = set(vocab)
    while len(vocab) < vocab_size:
        scores = pair_scores(splits, counts)
        if not scores:
            break  # every word is one piece already
        frequency = _pair_frequencies(splits, counts)
        best = min(scores, key=lambda pair: (-scores[pair], -frequency[pair], pair))
        new_piece = merge_pieces(*best)
        splits = {word: _merge_in(pieces, best, new_piece) for word, pieces in splits.items()}
        if new_piece not in known:  # the same string can come from two different pairs
            vocab.append(new_piece)
            known.add(new_piece)
    return vocab


def _pair_frequencies(splits: dict[str, list[str]], counts: Counter) -> Counter:
    """How often each neighbouring pair occurs (for breaking ties between equal scores)."""
    frequency: Counter = Counter()
    for word, pieces in splits.items():
        for pair in zip(pieces, pieces[1:], strict=False):
            frequency[pair] += counts[word]
    return frequency


def _merge_in(pieces: list[str], pair: tuple[str, str], new_piece: str) -> list[str]:
    """One word's pieces with every occurrence of ``pair`` (left to right) made one piece."""
    merged, index = [], 0
    while index < len(pieces):
        if index + 1 < len(pieces) and (pieces[index], pieces[index + 1]) == pair:
            merged.append(new_piece)
            index += 2
        else:
            merged.append(pieces[index])
            index += 1
    return merged


__all__ = ["merge_pieces", "pair_scores", "split_into_characters", "train_wordpiece", "word_counts"]
