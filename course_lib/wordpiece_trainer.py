"""Learn a WordPiece vocabulary from text: start from characters, merge the best pair, repeat.

The course's small version of how BERT's ``vocab.txt`` was learned (Schuster and Nakajima 2012;
Wu et al. 2016): split text into words as BERT does; write each word as pieces (``cat`` -> ``c ##a
##t``); score every neighbouring pair ``count(a b) / (count(a) * count(b))`` over all words; merge
the best pair everywhere into a new piece; repeat until ``vocab_size``. Dividing by the parts'
counts (byte-pair encoding does not) prefers pairs whose parts are rare on their own.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Iterable

from .tokenizer import SPECIAL_TOKENS, WordPieceTokenizer

CONTINUES = "##"
MERGE_RULES = ("score", "frequency")


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
    return {pair: score(n, piece_count[pair[0]], piece_count[pair[1]])
            for pair, n in pair_count.items()}


def score(pair_count: int, count_a: int, count_b: int) -> float:
    """WordPiece's score of a pair a b: count(a b) / (count(a) * count(b))."""
    return pair_count / (count_a * count_b)


def train_wordpiece(texts: Iterable[str], vocab_size: int, lowercase: bool = True,
                    rule: str = "score") -> list[str]:
    """A WordPiece vocabulary (tokens, ID = position) learned from ``texts``: the special tokens,
    the character pieces, then the merges in order, up to ``vocab_size`` or until every word is one
    piece. ``rule="score"`` merges the pair with the best WordPiece score (ties: the more frequent
    pair); ``rule="frequency"`` the most frequent pair, as byte-pair encoding does and as the
    Hugging Face ``tokenizers`` library trains WordPiece. Then the alphabetically first pair.

    The merges are those of recomputing ``pair_scores`` after every merge, but only the words that
    hold the merged pair are counted again and the best pair comes from a heap (``_PairTally``):
    seconds for all of Shakespeare's plays instead of hours."""
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, int):
        raise TypeError(f"vocab_size must be an int, got {type(vocab_size).__name__}")
    if rule not in MERGE_RULES:
        raise ValueError(f"rule must be one of {MERGE_RULES} (byte-pair encoding's rule is "
                         f"'frequency'), got {rule!r}")
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
    tally = _PairTally(splits, counts, by_frequency=rule == "frequency")
    while len(vocab) < vocab_size:
        best = tally.best_pair()
        if best is None:
            break  # every word is one piece already
        new_piece = merge_pieces(*best)
        tally.merge(best, new_piece)
        if new_piece not in known:  # the same string can come from two different pairs
            vocab.append(new_piece)
            known.add(new_piece)
    return vocab


class _PairTally:
    """Piece and pair counts over all words, kept up to date merge after merge, and a heap of
    (-score, -count, pair) entries. An entry whose numbers changed since it was pushed is stale (a
    fresh one was pushed when they changed) and is skipped."""

    def __init__(self, splits: dict[str, list[str]], counts: Counter, by_frequency: bool = False):
        self.splits, self.counts, self.by_frequency = splits, counts, by_frequency
        self.piece_count: Counter = Counter()
        self.pair_count: Counter = Counter()
        self.words_with: dict[tuple[str, str], set[str]] = defaultdict(set)  # pair -> words
        self.pairs_with: dict[str, set[tuple[str, str]]] = defaultdict(set)  # piece -> pairs
        for word, pieces in splits.items():
            self._count(word, pieces, +1)
        self.heap = [self._entry(pair) for pair in self.pair_count]
        heapq.heapify(self.heap)

    def _count(self, word: str, pieces: list[str], sign: int) -> None:
        """Count (sign +1) or take back (-1) one word's pieces and neighbouring pairs."""
        frequency = sign * self.counts[word]
        for piece in pieces:
            self.piece_count[piece] += frequency
        for pair in zip(pieces, pieces[1:], strict=False):
            self.pair_count[pair] += frequency
            if sign > 0:
                self.words_with[pair].add(word)
                self.pairs_with[pair[0]].add(pair)
                self.pairs_with[pair[1]].add(pair)

    def _entry(self, pair: tuple[str, str]) -> tuple[float, int, tuple[str, str]]:
        """A pair's heap key: (-score, -count, pair), or (-count, -count, pair) by frequency."""
        n = self.pair_count[pair]
        if self.by_frequency:
            return -n, -n, pair
        return -score(n, self.piece_count[pair[0]], self.piece_count[pair[1]]), -n, pair

    def best_pair(self) -> tuple[str, str] | None:
        """The pair with the best score now (None when no pair is left)."""
        while self.heap:
            entry = heapq.heappop(self.heap)
            pair = entry[2]
            if self.pair_count[pair] > 0 and entry == self._entry(pair):
                return pair
        return None

    def merge(self, pair: tuple[str, str], new_piece: str) -> None:
        """Merge ``pair`` in every word that holds it; push every pair whose score changed."""
        for word in self.words_with.pop(pair):
            old = self.splits[word]
            new = _merge_in(old, pair, new_piece)
            if new != old:
                self._count(word, old, -1)
                self._count(word, new, +1)
                self.splits[word] = new
        changed = set()
        for piece in (*pair, new_piece):  # their counts changed, so did the score of their pairs
            changed |= self.pairs_with[piece]
        for other in changed:
            if self.pair_count[other] > 0:
                heapq.heappush(self.heap, self._entry(other))


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


__all__ = ["merge_pieces", "pair_scores", "score", "split_into_characters", "train_wordpiece",
           "word_counts"]
