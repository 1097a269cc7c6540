"""Learn a WordPiece vocabulary from text: start from characters, merge the best pair, repeat.

Where does BERT's 30,522-token ``vocab.txt`` come from? It was learned from the training text
(Wu et al. 2016 describe the method; Schuster and Nakajima 2012 introduced it). This trainer is
the course's small version of that idea:

1. Split the text into words as BERT does (lowercase, punctuation apart).
2. Write every word as characters: the first as itself, the others with ``##`` ("continues a
   word"): ``cat`` -> ``c ##a ##t``. The vocabulary starts as the special tokens plus these pieces.
3. Count every pair of neighbouring pieces over all words (each word weighted by its frequency)
   and give each pair the score ``count(a b) / (count(a) * count(b))``: high when a and b occur
   together much more often than their own frequencies would suggest.
4. Merge the best pair everywhere into one new piece (``c ##a`` -> ``ca``), add it to the
   vocabulary, and repeat from 3 until the vocabulary reaches ``vocab_size`` (or nothing is
   left to merge).

Dividing by the counts of the parts is what distinguishes WordPiece from byte-pair encoding
(which merges the most frequent pair): it prefers pairs whose parts are rare on their own.
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
    """A WordPiece vocabulary (list of tokens, ID = position) learned from ``texts``.

    It holds the five special tokens first, then every starting character piece, then the merged
    pieces in the order they were learned. Stops at ``vocab_size`` tokens, or earlier when every
    word is a single piece. Ties between equal scores go to the more frequent pair, then to the
    alphabetically first, so the result is deterministic.
    """
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
