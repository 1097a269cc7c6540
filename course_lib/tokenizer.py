"""BERT's WordPiece tokenizer, written from scratch: text -> tokens -> token IDs.

Two stages: ``basic_tokenize`` (clean, space out CJK ideographs, lowercase and strip accents for
uncased models, split on whitespace and punctuation), then ``wordpiece`` (the longest vocabulary
pieces, left to right; "tokenization" -> "token", "##ization"). ``encode`` wraps the IDs as
``[CLS] a [SEP] (b [SEP])``, truncating and padding. Piece for piece and ID for ID it matches the
reference, ``transformers``' Python BERT tokenizer, literal special tokens ("[SEP]") included.
"""

from __future__ import annotations

import io
import operator
import os
import re
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

import torch

from .validation import MAX_POSITIONS, MIN_BLOCK_LENGTH, MIN_PAIR_LENGTH

PAD, UNK, CLS, SEP, MASK = "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"
SPECIAL_TOKENS = (PAD, UNK, CLS, SEP, MASK)
REQUIRED_TOKENS = (CLS, SEP, PAD, UNK)  # [MASK] is only needed for masked-LM pre-training
# The word -> pieces cache is bounded in entries and in characters, so a stream of long distinct
# texts cannot grow it without limit; the oldest words are dropped first.
CACHE_MAX_WORDS = 100_000
CACHE_MAX_CHARS = 4_000_000
PADDING_MODES = (False, True, "max_length")
BATCH_PADDING_MODES = ("longest", "max_length")

# Splits text around literal special tokens; the parentheses keep them in re.split's result.
_SPECIAL_RE = re.compile("(" + "|".join(re.escape(token) for token in SPECIAL_TOKENS) + ")")

# The blocks of CJK ideographs that BERT splits into one token per character. Hiragana, katakana
# and Hangul are not in them: those scripts are written with spaces or long words, like English.
_CJK_RANGES = (
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0x3400, 0x4DBF),  # Extension A
    (0x20000, 0x2A6DF),  # Extension B
    (0x2A700, 0x2B73F),  # Extension C
    (0x2B740, 0x2B81F),  # Extension D
    (0x2B820, 0x2CEAF),  # Extension E
    (0xF900, 0xFAFF),  # Compatibility Ideographs
    (0x2F800, 0x2FA1F),  # Compatibility Ideographs Supplement
)


def is_cjk(char: str) -> bool:
    """True for a CJK ideograph (the blocks BERT uses), which becomes a token on its own."""
    code = ord(char)
    if code < 0x3400:  # a shortcut: nothing below the first block is an ideograph
        return False
    return any(low <= code <= high for low, high in _CJK_RANGES)


def is_whitespace(char: str) -> bool:
    """Space, tab, newline, carriage return or any Unicode space separator (Zs), e.g. NBSP."""
    return char in " \t\n\r" or unicodedata.category(char) == "Zs"


def is_control(char: str) -> bool:
    """Unicode "other" characters (C*: control, format such as zero-width, private use...), but
    not tab, newline and carriage return, which BERT treats as whitespace."""
    return char not in "\t\n\r" and unicodedata.category(char).startswith("C")


def is_punctuation(char: str) -> bool:
    """Every ASCII symbol that is not a letter, digit or space (so "$", "^", "`" too), and P*."""
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def strip_accents(word: str) -> str:
    """Remove accents: NFD splits "é" into "e" + a combining mark (category Mn), which we drop."""
    if word.isascii():  # a shortcut: ASCII has no accents
        return word
    return "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")


def split_on_punctuation(word: str) -> list[str]:
    """Make every punctuation character a word of its own: "don't!" -> ["don", "'", "t", "!"]."""
    if word.isalnum():  # a shortcut: only letters and digits, so nothing to split
        return [word]
    pieces: list[str] = []
    current = ""
    for char in word:
        if is_punctuation(char):
            if current:
                pieces.append(current)
            pieces.append(char)
            current = ""
        else:
            current += char
    if current:
        pieces.append(current)
    return pieces


def _check_text(text: object, name: str = "text") -> str:
    if not isinstance(text, str):
        hint = "; decode bytes first, e.g. data.decode('utf-8')" if isinstance(text, bytes) else ""
        raise TypeError(f"{name} must be a str, got {type(text).__name__}{hint}")
    return text


def read_vocab(path: Path, data: io.BufferedIOBase | None = None) -> list[str]:
    """The tokens of a vocabulary file: one a line, ID = line number (from 0), "\\r\\n" ends too;
    ``data``: the file's bytes as a stream, when the caller already read (and checked) them."""
    if data is None and not path.is_file():
        raise FileNotFoundError(f"vocabulary file not found: {path}")
    try:
        with (
            io.TextIOWrapper(data, encoding="utf-8") if data is not None
            else path.open(encoding="utf-8")) as file:
            return [line.rstrip("\n") for line in file]
    except UnicodeDecodeError as error:
        raise ValueError(
            f"vocabulary file {path} is not valid UTF-8 text ({error.reason}); vocab.txt must "
            "be UTF-8, one token a line") from None


class Encoding(list):
    """The input IDs of one encoded text (a plain ``list``: ``enc == [101, 7592, 102]``), with
    ``.input_ids`` (the same), ``.attention_mask`` (1 real, 0 padding), ``.token_type_ids`` (0
    for ``[CLS] a [SEP]``, 1 for ``b [SEP]``) and ``.tokens`` (the strings)."""

    def __init__(
        self, input_ids: list[int], attention_mask: list[int], token_type_ids: list[int],
        tokens: list[str]) -> None:
        super().__init__(input_ids)
        self.attention_mask = attention_mask
        self.token_type_ids = token_type_ids
        self.tokens = tokens

    @property
    def input_ids(self) -> list[int]:
        """The token IDs, as a plain list (a copy of this Encoding's items)."""
        return list(self)


class WordPieceTokenizer:
    """BERT's tokenizer: a vocabulary file (one token a line, line number = ID) and two stages.

    ``lowercase=False`` for cased models; ``strip_accents=None`` follows ``lowercase``. Longer words
    than ``max_chars_per_word`` become [UNK]; ``model_max_length`` (None: no limit) caps ``encode``.
    """

    def __init__(
        self, vocab_file: str | os.PathLike, lowercase: bool = True,
        strip_accents: bool | None = None, max_chars_per_word: int = 100,
        model_max_length: int | None = MAX_POSITIONS) -> None:
        if not isinstance(vocab_file, (str, os.PathLike)):
            raise TypeError(
                f"vocab_file must be a path (str or Path), got {type(vocab_file).__name__}")
        tokens = read_vocab(Path(vocab_file))
        self._setup(tokens, lowercase, strip_accents, max_chars_per_word, model_max_length)

    @classmethod
    def from_vocab(
        cls, tokens: Iterable[str], lowercase: bool = True, strip_accents: bool | None = None,
        max_chars_per_word: int = 100,
        model_max_length: int | None = MAX_POSITIONS) -> WordPieceTokenizer:
        """Build a tokenizer from an in-memory vocabulary (a list of tokens, ID = position)."""
        if isinstance(tokens, (str, bytes)) or not isinstance(tokens, Iterable):
            raise TypeError(f"tokens must be a list of str, got {type(tokens).__name__}")
        tokens = list(tokens)
        tokenizer = cls.__new__(cls)
        tokenizer._setup(tokens, lowercase, strip_accents, max_chars_per_word, model_max_length)
        return tokenizer

    def _setup(
        self, tokens: list[str], lowercase: bool, strip_accents: bool | None,
        max_chars_per_word: int, model_max_length: int | None) -> None:
        """Check the settings and the vocabulary, then build the lookup tables."""
        if not isinstance(lowercase, bool):
            raise TypeError(f"lowercase must be True or False, got {lowercase!r}")
        if strip_accents is not None and not isinstance(strip_accents, bool):
            raise TypeError(f"strip_accents must be True, False or None, got {strip_accents!r}")
        if not isinstance(max_chars_per_word, int) or max_chars_per_word < 1:
            raise ValueError(f"max_chars_per_word must be an int >= 1, got {max_chars_per_word!r}")
        if model_max_length is not None and (
            not isinstance(model_max_length, int) or model_max_length < MIN_BLOCK_LENGTH):
            raise ValueError(
                f"model_max_length must be None or an int >= {MIN_BLOCK_LENGTH}, "
                f"got {model_max_length!r}")
        vocab: dict[str, int] = {}
        for index, token in enumerate(tokens):
            if not isinstance(token, str):
                raise TypeError(
                    f"vocabulary tokens must be str, got {type(token).__name__} at ID {index}")
            if token in vocab:
                raise ValueError(
                    f"vocabulary token {token!r} appears twice (IDs {vocab[token]} and {index}); "
                    "each token must have one ID")
            vocab[token] = index
        missing = [token for token in REQUIRED_TOKENS if token not in vocab]
        if missing:
            raise ValueError(
                f"vocabulary is missing the special token(s) {', '.join(missing)}; "
                f"BERT needs {', '.join(REQUIRED_TOKENS)}")

        self.vocab = vocab
        self.ids_to_tokens = list(tokens)
        self.lowercase = lowercase
        self.strip_accents = lowercase if strip_accents is None else strip_accents
        self.max_chars_per_word = max_chars_per_word
        self.model_max_length = model_max_length
        self.cls_token_id = vocab[CLS]
        self.sep_token_id = vocab[SEP]
        self.pad_token_id = vocab[PAD]
        self.unk_token_id = vocab[UNK]
        self.mask_token_id = vocab.get(MASK)  # None when the vocabulary has no [MASK]
        # No piece is longer than the longest vocabulary token: no need to look further.
        self._longest_token = max(len(token) for token in tokens)
        self._cache: dict[str, tuple[str, ...]] = {}  # word -> its pieces (words repeat a lot)
        self._cache_chars = 0  # characters of the words in the cache

    @property
    def vocab_size(self) -> int:
        """How many tokens the vocabulary has (IDs run from 0 to vocab_size - 1)."""
        return len(self.ids_to_tokens)

    def __len__(self) -> int:
        return self.vocab_size

    def __repr__(self) -> str:
        return (
            f"WordPieceTokenizer(vocab_size={self.vocab_size}, lowercase={self.lowercase}, "
            f"strip_accents={self.strip_accents})")

    # ---- stage 1: basic tokenization ------------------------------------------------------

    def clean_text(self, text: str) -> str:
        """Drop NUL, U+FFFD and control/format characters; turn every whitespace into a space."""
        out = []
        for char in text:
            if char in "\x00\ufffd" or is_control(char):
                continue
            out.append(" " if is_whitespace(char) else char)
        return "".join(out)

    def basic_tokenize(self, text: str) -> list[str]:
        """Split text into words and punctuation, before WordPiece: "Hi, you!" -> hi , you !"""
        _check_text(text)
        words: list[str] = []
        # Literal special tokens ("[SEP]") are kept whole; the odd items are those tokens.
        for index, part in enumerate(_SPECIAL_RE.split(text)):
            if index % 2 == 1:
                words.append(part)
            elif part:
                words.extend(self._basic_tokenize_part(part))
        return words

    def _basic_tokenize_part(self, text: str) -> list[str]:
        text = self.clean_text(text)
        text = "".join(f" {char} " if is_cjk(char) else char for char in text)
        # NFC composes "e" + combining acute into "é", so both spellings give the same tokens.
        text = unicodedata.normalize("NFC", text)
        words: list[str] = []
        for word in text.split():
            if word in SPECIAL_TOKENS:  # e.g. "[CLS]" with a zero-width space inside
                words.append(word)
                continue
            if self.lowercase:
                word = word.lower()
            if self.strip_accents:
                word = strip_accents(word)
            words.extend(split_on_punctuation(word))
        return words

    # ---- stage 2: WordPiece -------------------------------------------------------------

    def wordpiece(self, word: str) -> list[str]:
        """Greedy longest-match-first: "unaffable" -> ["una", "##ffa", "##ble"]; a word that cannot
        be covered so, or longer than ``max_chars_per_word``, becomes ["[UNK]"] as a whole."""
        _check_text(word, "word")
        if any(char.isspace() for char in word):
            raise ValueError(
                f"word must not contain whitespace, got {word!r}; use tokenize() for text")
        return list(self._cached_wordpiece(word))

    def _cached_wordpiece(self, word: str) -> tuple[str, ...]:
        pieces = self._cache.get(word)
        if pieces is None:
            pieces = tuple(self._wordpiece(word))
            if len(word) > self.max_chars_per_word:
                return pieces  # [UNK] at once: nothing worth keeping
            while self._cache and (
                len(self._cache) >= CACHE_MAX_WORDS
                or self._cache_chars + len(word) > CACHE_MAX_CHARS):
                oldest = next(iter(self._cache))  # dicts keep insertion order
                self._cache_chars -= len(oldest)
                del self._cache[oldest]
            if len(word) <= CACHE_MAX_CHARS:
                self._cache[word] = pieces
                self._cache_chars += len(word)
        return pieces

    def _wordpiece(self, word: str) -> list[str]:
        if len(word) > self.max_chars_per_word:
            return [UNK]
        pieces = []
        start = 0
        while start < len(word):
            prefix = "##" if start > 0 else ""
            end = min(len(word), start + self._longest_token)
            while end > start and prefix + word[start:end] not in self.vocab:
                end -= 1
            if end == start:  # not even one character matched
                return [UNK]
            pieces.append(prefix + word[start:end])
            start = end
        return pieces

    def tokenize(self, text: str) -> list[str]:
        """Text -> WordPiece tokens: "Hello, world!" -> ['hello', ',', 'world', '!']."""
        tokens: list[str] = []
        for word in self.basic_tokenize(text):
            if word in SPECIAL_TOKENS:
                tokens.append(word)
            else:
                tokens.extend(self._cached_wordpiece(word))
        return tokens

    # ---- tokens <-> IDs -----------------------------------------------------------------

    def convert_tokens_to_ids(self, tokens: str | Sequence[str]) -> int | list[int]:
        """Look tokens up in the vocabulary; unknown ones get the [UNK] ID. A str gives one int."""
        if isinstance(tokens, str):
            return self.vocab.get(tokens, self.unk_token_id)
        return [self.vocab.get(_check_text(token, "token"), self.unk_token_id) for token in tokens]

    def convert_ids_to_tokens(self, ids: int | Iterable[int]) -> str | list[str]:
        """IDs -> token strings (one int gives one str); IDs outside the vocabulary are an error."""
        if hasattr(ids, "tolist"):  # a torch tensor or NumPy array
            ids = ids.tolist()
        if isinstance(ids, (str, bytes)):
            raise TypeError(f"ids must be token IDs (ints), got {type(ids).__name__}")
        if not isinstance(ids, Iterable):
            return self.ids_to_tokens[self._check_id(ids)]
        return [self.ids_to_tokens[self._check_id(token_id)] for token_id in ids]

    def _check_id(self, token_id: object) -> int:
        try:
            index = operator.index(token_id)
        except TypeError:
            raise TypeError(f"token IDs must be ints, got {type(token_id).__name__}") from None
        if not 0 <= index < self.vocab_size:
            raise ValueError(
                f"token ID {index} is outside the vocabulary "
                f"(IDs run from 0 to {self.vocab_size - 1})")
        return index

    def decode(self, ids: Iterable[int], skip_special_tokens: bool = True) -> str:
        """IDs -> text, "##" pieces glued on; ``skip_special_tokens`` drops all five, [UNK] and
        [MASK] too. Not an inverse: decode(encode("Héllo, you!")) == "hello , you !"."""
        tokens = self.convert_ids_to_tokens(ids)
        if isinstance(tokens, str):
            raise TypeError("ids must be a list of token IDs, got a single int")
        if skip_special_tokens:
            tokens = [token for token in tokens if token not in SPECIAL_TOKENS]
        words: list[str] = []
        for token in tokens:
            if token.startswith("##") and words:
                words[-1] += token[2:]
            else:
                words.append(token)
        return " ".join(words)

    # ---- model inputs -------------------------------------------------------------------

    def encode(
        self, text: str, text_pair: str | None = None, max_length: int | None = None,
        padding: bool | str = False) -> Encoding:
        """Text (or a pair) -> ``[CLS] a [SEP] (b [SEP])`` as an ``Encoding`` of IDs. ``max_length``
        truncates (a pair from the end of the longer text, b on a tie, as BERT does; [CLS] and
        [SEP] kept); ``padding=True`` (or "max_length") pads with [PAD] up to it."""
        _check_text(text)
        if text_pair is not None:
            _check_text(text_pair, "text_pair")
        if not (padding is False or padding is True or padding == "max_length"):
            raise ValueError(f"padding must be one of {PADDING_MODES}, got {padding!r}")
        if max_length is not None:
            self._check_max_length(max_length, pair=text_pair is not None)
        elif padding:
            raise ValueError(f"padding={padding!r} needs max_length (the length to pad to)")

        tokens_a = self.tokenize(text)
        tokens_b = None if text_pair is None else self.tokenize(text_pair)
        if max_length is not None:
            tokens_a, tokens_b = self._truncate(tokens_a, tokens_b, max_length)
        tokens = [CLS, *tokens_a, SEP]
        token_type_ids = [0] * len(tokens)
        if tokens_b is not None:
            tokens += [*tokens_b, SEP]
            token_type_ids += [1] * (len(tokens_b) + 1)
        attention_mask = [1] * len(tokens)
        if padding and max_length is not None:
            extra = max_length - len(tokens)
            tokens += [PAD] * extra
            attention_mask += [0] * extra
            token_type_ids += [0] * extra
        input_ids = [self.vocab.get(token, self.unk_token_id) for token in tokens]
        return Encoding(input_ids, attention_mask, token_type_ids, tokens)

    def _check_max_length(self, max_length: object, pair: bool) -> None:
        if isinstance(max_length, bool) or not isinstance(max_length, int):
            raise TypeError(f"max_length must be an int or None, got {type(max_length).__name__}")
        minimum = MIN_PAIR_LENGTH if pair else MIN_BLOCK_LENGTH
        if max_length < minimum:
            room = "[CLS] a [SEP] b [SEP] with a token of each text" if pair else "[CLS] x [SEP]"
            raise ValueError(f"max_length must be at least {minimum} ({room}), got {max_length}")
        if self.model_max_length is not None and max_length > self.model_max_length:
            raise ValueError(
                f"max_length must be at most model_max_length={self.model_max_length} "
                f"(the model's number of positions), got {max_length}")

    @staticmethod
    def _truncate(
        tokens_a: list[str], tokens_b: list[str] | None, max_length: int
    ) -> tuple[list[str], list[str] | None]:
        """Cut tokens so that, with [CLS] and the [SEP]s, at most ``max_length`` remain."""
        if tokens_b is None:
            return tokens_a[: max_length - 2], None
        budget = max_length - 3
        a, b = len(tokens_a), len(tokens_b)
        while a + b > budget:  # "longest first": shorten whichever text is longer
            if a > b:
                a -= 1
            else:
                b -= 1
        return tokens_a[:a], tokens_b[:b]

    def encode_batch(
        self, texts: Sequence[str], text_pairs: Sequence[str] | None = None,
        max_length: int | None = None, padding: str = "longest") -> dict[str, torch.Tensor]:
        """Encode many texts into ``{"input_ids", "attention_mask", "token_type_ids"}``, (batch,
        seq) LongTensors padded to the ``"longest"`` text or to ``"max_length"``."""
        if isinstance(texts, (str, bytes)) or not isinstance(texts, Sequence):
            raise TypeError(f"texts must be a list of str, got {type(texts).__name__}")
        if len(texts) == 0:
            raise ValueError("texts must hold at least one text (the batch is empty)")
        if text_pairs is not None:
            if isinstance(text_pairs, (str, bytes)) or not isinstance(text_pairs, Sequence):
                raise TypeError(
                    f"text_pairs must be a list of str, got {type(text_pairs).__name__}")
            if len(text_pairs) != len(texts):
                raise ValueError(
                    f"text_pairs must have one text per text: got {len(texts)} texts "
                    f"and {len(text_pairs)} text_pairs")
        if padding not in BATCH_PADDING_MODES:
            raise ValueError(f"padding must be one of {BATCH_PADDING_MODES}, got {padding!r}")
        if padding == "max_length" and max_length is None:
            raise ValueError("padding='max_length' needs max_length (the length to pad to)")

        pairs = [None] * len(texts) if text_pairs is None else list(text_pairs)
        for index, (text, pair) in enumerate(zip(texts, pairs, strict=True)):
            _check_text(text, f"texts[{index}]")
            if pair is not None:
                _check_text(pair, f"text_pairs[{index}]")
        encodings = [
            self.encode(text, pair, max_length=max_length)
            for text, pair in zip(texts, pairs, strict=True)]
        length = max_length if padding == "max_length" else max(len(enc) for enc in encodings)
        batch: dict[str, list[list[int]]] = {
            "input_ids": [], "attention_mask": [], "token_type_ids": []}
        for enc in encodings:
            extra = length - len(enc)
            batch["input_ids"].append(enc.input_ids + [self.pad_token_id] * extra)
            batch["attention_mask"].append(enc.attention_mask + [0] * extra)
            batch["token_type_ids"].append(enc.token_type_ids + [0] * extra)
        return {name: torch.tensor(rows, dtype=torch.long) for name, rows in batch.items()}
