"""Checkers for notebook 01 (text to token IDs): WordPiece, [CLS]/[SEP] with padding, pairs.

The reference is course_lib's tokenizer with the shipped vocabulary (bert-base-uncased's).
"""

from __future__ import annotations

from functools import lru_cache

from ..pretrained import load_tokenizer
from ..tokenizer import UNK, WordPieceTokenizer
from ._learner import as_plain_list, call_learner
from .core import CheckReport

WORDPIECE_WORDS = ["wordpiece", "unaffable", "tokenization", "embeddings", "the", "huggingface",
                   "xylophones", "snow☃", "a" * 101]
ENCODE_CASES = [("The cat sat on the mat.", 12), ("Hello, world!", 5),
                ("Tokenization splits rare words into pieces.", 10), ("BERT reads text.", 7)]
PAIR_CASES = [("Is it raining?", "Take an umbrella."), ("Hi!", "Hello there, how are you?")]


@lru_cache(maxsize=1)
def reference_tokenizer() -> WordPieceTokenizer:
    """The shipped model's tokenizer (MiniLM uses bert-base-uncased's vocabulary), loaded once."""
    return load_tokenizer("minilm")


def _strip_hashes(pieces: list[str]) -> list[str]:
    return [piece[2:] if piece.startswith("##") else piece for piece in pieces]


def shortest_match_first(word: str, vocab) -> list[str]:
    """A typical mistake, kept to recognise it: take the shortest vocabulary piece each time."""
    pieces, start = [], 0
    while start < len(word):
        prefix = "##" if start else ""
        end = start + 1
        while end <= len(word) and prefix + word[start:end] not in vocab:
            end += 1
        if end > len(word):
            return [UNK]
        pieces.append(prefix + word[start:end])
        start = end
    return pieces


def _short(pieces: list[str]) -> str:
    """A list of pieces for a message, cut after 6 pieces."""
    if len(pieces) <= 6:
        return str(pieces)
    return f"{str(pieces[:6])[:-1]}, ... ({len(pieces)} pieces)]"


def _wordpiece_hint(word: str, answer: list[str], expected: list[str], vocab) -> str:
    """Name the mistake behind a wrong list of pieces."""
    if expected == [UNK] and len(word) > 100:
        return "a word over 100 characters becomes ['[UNK]'] without trying to split it"
    if expected == [UNK]:
        return ("when some part of the word matches no vocabulary piece, the whole word becomes "
                "['[UNK]'], not just that part")
    if _strip_hashes(answer) == _strip_hashes(expected):
        return "pieces after the first must start with '##' (and the first piece must not)"
    if answer == shortest_match_first(word, vocab):
        return "you took the shortest match first; take the longest piece found in the vocabulary"
    if "".join(_strip_hashes(answer)) == word:
        return "the pieces spell the word but are not the longest matches, left to right"
    return "the pieces do not spell the word"


def check_wordpiece(wordpiece) -> CheckReport:
    """Run ``wordpiece(word, vocab) -> list of pieces`` on words with known answers."""
    report = CheckReport("wordpiece")
    tokenizer = reference_tokenizer()
    for word in WORDPIECE_WORDS:
        expected = tokenizer.wordpiece(word)
        shown = word if len(word) < 20 else f"{word[:5]}... ({len(word)} characters)"
        finished, answer = call_learner(report, f"wordpiece({shown!r})", wordpiece, word,
                                        dict(tokenizer.vocab))
        if not finished:
            return report
        answer = as_plain_list(answer)
        if answer is None or not all(isinstance(piece, str) for piece in answer):
            report.fail(f"wordpiece({shown!r}) should return a list of str")
        elif answer == expected:
            report.ok(f"{shown!r} -> {expected}")
        else:
            hint = _wordpiece_hint(word, answer, expected, tokenizer.vocab)
            report.fail(f"{shown!r}: expected {expected}, got {_short(answer)}: {hint}")
    return report


def _is_two_lists(answer) -> bool:
    """A pair of sequences, as in ``return ids, mask`` (not one flat list of ints)."""
    return (isinstance(answer, (tuple, list)) and len(answer) == 2
            and all(as_plain_list(part) is not None for part in answer))


def _model_input_hint(ids: list, mask: list, expected, max_length: int,
                      tokenizer: WordPieceTokenizer) -> str:
    """Name the mistake behind wrong input IDs or mask of ``build_model_input``."""
    cls_id, sep_id, pad_id = tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id
    real = sum(expected.attention_mask)
    if len(ids) != max_length or len(mask) != max_length:
        return (f"both lists need exactly max_length = {max_length} entries (got {len(ids)} IDs "
                f"and {len(mask)} mask values): truncate longer inputs, pad shorter ones")
    if ids[0] != cls_id:
        return f"the input must start with [CLS] (ID {cls_id})"
    if ids[:real] != expected.input_ids[:real]:
        if sep_id not in ids:
            return (f"[SEP] (ID {sep_id}) is missing: when truncating, keep the first "
                    "max_length - 2 pieces, then add [SEP]")
        return f"the real tokens should be {expected.input_ids[:real]}"
    if ids != expected.input_ids:
        return f"padding positions must hold [PAD] (ID {pad_id})"
    if mask[real:] != expected.attention_mask[real:]:
        return "the attention mask must be 0 on padding"
    return "the attention mask must be 1 on every real token, [CLS] and [SEP] included"


def check_build_model_input(build_model_input) -> CheckReport:
    """Run ``build_model_input(piece_ids, max_length, cls_id, sep_id, pad_id)`` -> (ids, mask)."""
    report = CheckReport("build_model_input")
    tokenizer = reference_tokenizer()
    specials = (tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id)
    for text, max_length in ENCODE_CASES:
        piece_ids = tokenizer.convert_tokens_to_ids(tokenizer.tokenize(text))
        expected = tokenizer.encode(text, max_length=max_length, padding=True)
        what = f"build_model_input({len(piece_ids)} pieces of {text!r}, max_length={max_length})"
        finished, answer = call_learner(report, what, build_model_input, list(piece_ids),
                                        max_length, *specials)
        if not finished:
            return report
        if not _is_two_lists(answer):
            report.fail(f"{what} should return two lists: (input_ids, attention_mask)")
            return report
        ids, mask = as_plain_list(answer[0]), as_plain_list(answer[1])
        if ids is None or mask is None:
            report.fail(f"{what}: input_ids and attention_mask should be lists of ints")
        elif ids == expected.input_ids and mask == expected.attention_mask:
            report.ok(f"{text!r} with max_length {max_length}: {len(piece_ids)} pieces -> "
                      f"{sum(mask)} real tokens + {max_length - sum(mask)} padding")
        else:
            hint = _model_input_hint(ids, mask, expected, max_length, tokenizer)
            report.fail(f"{text!r} with max_length {max_length}: {hint}")
    return report


def _pair_hint(ids: list, segments: list, expected) -> str:
    """Name the mistake behind a wrong pair encoding."""
    if len(ids) != len(expected.input_ids):
        return (f"the IDs should read [CLS] a [SEP] b [SEP]: {len(expected.input_ids)} IDs, "
                f"got {len(ids)}")
    if ids != expected.input_ids:
        return "the IDs should read [CLS] a [SEP] b [SEP]"
    if len(segments) != len(ids):
        return "token_type_ids need one segment ID per input ID"
    first_sep = ids.index(expected.input_ids[-1])
    if segments[0] != 0 or segments[first_sep] != 0:
        return "[CLS] and the first [SEP] belong to segment 0 (sentence A)"
    if segments[-1] != 1:
        return "the last [SEP] belongs to segment 1 (sentence B)"
    return "segment 0 covers [CLS] a [SEP], segment 1 covers b [SEP]"


def check_pair_input(pair_input) -> CheckReport:
    """Run ``pair_input(ids_a, ids_b, cls_id, sep_id)`` -> (input_ids, token_type_ids)."""
    report = CheckReport("pair_input")
    tokenizer = reference_tokenizer()
    for text_a, text_b in PAIR_CASES:
        ids_a = tokenizer.convert_tokens_to_ids(tokenizer.tokenize(text_a))
        ids_b = tokenizer.convert_tokens_to_ids(tokenizer.tokenize(text_b))
        expected = tokenizer.encode(text_a, text_b)
        what = f"pair_input({text_a!r}, {text_b!r})"
        finished, answer = call_learner(report, what, pair_input, list(ids_a), list(ids_b),
                                        tokenizer.cls_token_id, tokenizer.sep_token_id)
        if not finished:
            return report
        if not _is_two_lists(answer):
            report.fail(f"{what} should return two lists: (input_ids, token_type_ids)")
            return report
        ids, segments = as_plain_list(answer[0]), as_plain_list(answer[1])
        if ids is None or segments is None:
            report.fail(f"{what}: input_ids and token_type_ids should be lists of ints")
        elif ids == expected.input_ids and segments == expected.token_type_ids:
            report.ok(f"{what}: segments {segments}")
        else:
            report.fail(f"{what}: {_pair_hint(ids, segments, expected)}")
    return report
