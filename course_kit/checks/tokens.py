"""Checkers for notebook 01 (text to token IDs): WordPiece, [CLS]/[SEP] with padding, pairs.

The reference is course_lib's tokenizer with the shipped vocabulary (bert-base-uncased's). Each
checker is its cases plus its catalogue: wrong versions of the reference that compute what a
typical mistake gives on the same input.
"""

from __future__ import annotations

from functools import lru_cache

from course_lib.pretrained import load_tokenizer
from course_lib.tokenizer import UNK, WordPieceTokenizer

from .cases import Case, Unreadable, check_cases, read_two_lists
from .compare import as_plain_list
from .report import CheckReport, recorded
from .rules import exercise

MAX_WORD = 100  # BERT's longest word in characters: longer ones become [UNK] unsplit
WORDPIECE_WORDS = ["wordpiece", "unaffable", "tokenization", "embeddings", "the", "huggingface",
                   "xylophones", "snow☃", "a" * MAX_WORD, "a" * (MAX_WORD + 1)]
ENCODE_CASES = [("The cat sat on the mat.", 12), ("Hello, world!", 5),
                ("Tokenization splits rare words into pieces.", 10), ("BERT reads text.", 7)]
PAIR_CASES = [("Is it raining?", "Take an umbrella."), ("Hi!", "Hello there, how are you?")]


@lru_cache(maxsize=1)
def reference_tokenizer() -> WordPieceTokenizer:
    """The shipped model's tokenizer (MiniLM uses bert-base-uncased's vocabulary), loaded once."""
    return load_tokenizer("minilm")


# ---- wordpiece ------------------------------------------------------------------------------

def _strip_hashes(pieces: list[str]) -> list[str]:
    return [piece[2:] if piece.startswith("##") else piece for piece in pieces]


def greedy_pieces(word: str, vocab, longest: bool = True, whole_word_unk: bool = True,
                  max_chars: int | None = None) -> list[str]:
    """WordPiece's greedy left-to-right split, with switches that make the typical mistakes:
    ``longest=False`` takes the shortest match, ``whole_word_unk=False`` keeps the pieces found
    before the part that matches nothing, ``max_chars=None`` drops the length limit."""
    if max_chars is not None and len(word) > max_chars:
        return [UNK]
    pieces, start = [], 0
    while start < len(word):
        prefix = "##" if start else ""
        ends = range(len(word), start, -1) if longest else range(start + 1, len(word) + 1)
        end = next((end for end in ends if prefix + word[start:end] in vocab), None)
        if end is None:
            return [UNK] if whole_word_unk else [*pieces, UNK]
        pieces.append(prefix + word[start:end])
        start = end
    return pieces


def shortest_match_first(word: str, vocab) -> list[str]:
    """A typical mistake, kept to recognise it: take the shortest vocabulary piece each time."""
    return greedy_pieces(word, vocab, longest=False, max_chars=MAX_WORD)


def wordpiece_mistakes(word: str, vocab, right: list[str]) -> dict[str, list[str]]:
    """The catalogue: what each typical mistake gives for ``word``."""
    return {
        "you took the shortest match first; take the longest piece found in the vocabulary":
            shortest_match_first(word, vocab),
        "the pieces after the first lack their '##' (pieces after the first must start with "
        "'##', and the first piece must not)": _strip_hashes(right),
        "every piece got '##'; the first piece of a word has none":
            ["##" + piece for piece in _strip_hashes(right)],
        "only the part that matches nothing became [UNK]; when some part of the word matches no "
        "vocabulary piece, the whole word becomes ['[UNK]']":
            greedy_pieces(word, vocab, whole_word_unk=False, max_chars=MAX_WORD),
        f"the length limit is missing: a word over {MAX_WORD} characters becomes ['[UNK]'] "
        "without trying to split it": greedy_pieces(word, vocab),
        f"the length limit is off by one: a word of exactly {MAX_WORD} characters is still split; "
        f"only words over {MAX_WORD} become ['[UNK]']":
            greedy_pieces(word, vocab, max_chars=MAX_WORD - 1),
    }


def _short(pieces: list[str]) -> str:
    """A list of pieces for a message, cut after 6 pieces."""
    if len(pieces) <= 6:
        return str(pieces)
    return f"{str(pieces[:6])[:-1]}, ... ({len(pieces)} pieces)]"


def _read_pieces(answer) -> list[str]:
    pieces = as_plain_list(answer)
    if pieces is None or not all(isinstance(piece, str) for piece in pieces):
        raise Unreadable("should return a list of str")
    return pieces


def _explain_pieces(case: Case, answer: list[str]) -> str:
    if len(case.args[0]) > MAX_WORD:
        return f"a word over {MAX_WORD} characters becomes ['[UNK]'] without trying to split it"
    if "".join(_strip_hashes(answer)) == case.args[0]:
        return "the pieces spell the word but are not the longest matches, left to right"
    return "the pieces do not spell the word"


@exercise(forbids=("course_lib.WordPieceTokenizer.wordpiece",),
          write_from="`longest_piece`, as the steps above say")
def check_wordpiece(wordpiece) -> CheckReport:
    """Run ``wordpiece(word, vocab) -> list of pieces`` on words with known answers."""
    report = CheckReport("wordpiece")
    tokenizer = reference_tokenizer()
    vocab = dict(tokenizer.vocab)
    cases = []
    for word in WORDPIECE_WORDS:
        shown = repr(word) if len(word) < 20 else f"'{word[:5]}...' ({len(word)} characters)"
        right = tokenizer.wordpiece(word)
        cases.append(Case(shown, (word, vocab), right, call=f"wordpiece({shown})",
                          mistakes=wordpiece_mistakes(word, vocab, right)))
    check_cases(report, "wordpiece", wordpiece, cases, read=_read_pieces, show=_short,
                explain=_explain_pieces)
    return report


# ---- build_model_input ----------------------------------------------------------------------

def _show_ids_and_mask(pair) -> str:
    return f"IDs {pair[0]} with mask {pair[1]}"


def _model_input_hint(case: Case, answer: tuple[list, list]) -> str:
    """Name the mistake behind wrong input IDs or mask of ``build_model_input``."""
    (ids, mask), (right_ids, right_mask) = answer, case.expected
    max_length, cls_id, sep_id, pad_id = case.args[1:]
    real = sum(right_mask)
    if len(ids) != max_length or len(mask) != max_length:
        return (f"both lists need exactly max_length = {max_length} entries (got {len(ids)} IDs "
                f"and {len(mask)} mask values): truncate longer inputs, pad shorter ones")
    if ids[0] != cls_id:
        return f"the input must start with [CLS] (ID {cls_id})"
    if ids[:real] != right_ids[:real]:
        if sep_id not in ids:
            return (f"[SEP] (ID {sep_id}) is missing: when truncating, keep the first "
                    "max_length - 2 pieces, then add [SEP]")
        return f"the real tokens should be {right_ids[:real]}"
    if ids != right_ids:
        return f"padding positions must hold [PAD] (ID {pad_id})"
    if mask[real:] != right_mask[real:]:
        return "the attention mask must be 0 on padding"
    return "the attention mask must be 1 on every real token, [CLS] and [SEP] included"


@recorded
def check_build_model_input(build_model_input) -> CheckReport:
    """Run ``build_model_input(piece_ids, max_length, cls_id, sep_id, pad_id)`` -> (ids, mask)."""
    report = CheckReport("build_model_input")
    tokenizer = reference_tokenizer()
    specials = (tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id)
    cases = []
    for text, max_length in ENCODE_CASES:
        piece_ids = tokenizer.convert_tokens_to_ids(tokenizer.tokenize(text))
        encoded = tokenizer.encode(text, max_length=max_length, padding=True)
        right = (encoded.input_ids, encoded.attention_mask)
        swapped = "the two lists are swapped: return (input_ids, attention_mask)"
        cases.append(Case(f"{text!r} with max_length {max_length}",
                          (list(piece_ids), max_length, *specials), right,
                          mistakes={swapped: right[::-1]},
                          call=f"build_model_input({len(piece_ids)} pieces of {text!r}, "
                               f"max_length={max_length})"))
    check_cases(report, "build_model_input", build_model_input, cases,
                read=read_two_lists(("input_ids", "attention_mask")), show=_show_ids_and_mask,
                explain=_model_input_hint)
    return report


# ---- pair_input -----------------------------------------------------------------------------

def _pair_hint(case: Case, answer: tuple[list, list]) -> str:
    """Name the mistake behind a wrong pair encoding."""
    (ids, segments), (right_ids, _) = answer, case.expected
    if len(ids) != len(right_ids):
        return (f"the IDs should read [CLS] a [SEP] b [SEP]: {len(right_ids)} IDs, "
                f"got {len(ids)}")
    if ids != right_ids:
        return "the IDs should read [CLS] a [SEP] b [SEP]"
    if len(segments) != len(ids):
        return "token_type_ids need one segment ID per input ID"
    first_sep = ids.index(right_ids[-1])
    if segments[0] != 0 or segments[first_sep] != 0:
        return "[CLS] and the first [SEP] belong to segment 0 (sentence A)"
    if segments[-1] != 1:
        return "the last [SEP] belongs to segment 1 (sentence B)"
    return "segment 0 covers [CLS] a [SEP], segment 1 covers b [SEP]"


def _show_ids_and_segments(pair) -> str:
    return f"IDs {pair[0]} with segments {pair[1]}"


@recorded
def check_pair_input(pair_input) -> CheckReport:
    """Run ``pair_input(ids_a, ids_b, cls_id, sep_id)`` -> (input_ids, token_type_ids)."""
    report = CheckReport("pair_input")
    tokenizer = reference_tokenizer()
    cases = []
    for text_a, text_b in PAIR_CASES:
        ids_a, ids_b = (tokenizer.convert_tokens_to_ids(tokenizer.tokenize(text))
                        for text in (text_a, text_b))
        encoded = tokenizer.encode(text_a, text_b)
        right = (encoded.input_ids, encoded.token_type_ids)
        swapped = "the two lists are swapped: return (input_ids, token_type_ids)"
        cases.append(Case(f"{text_a!r} + {text_b!r}", (list(ids_a), list(ids_b),
                          tokenizer.cls_token_id, tokenizer.sep_token_id), right,
                          mistakes={swapped: right[::-1]},
                          call=f"pair_input({text_a!r}, {text_b!r})"))
    check_cases(report, "pair_input", pair_input, cases,
                read=read_two_lists(("input_ids", "token_type_ids")),
                show=_show_ids_and_segments, explain=_pair_hint)
    return report
