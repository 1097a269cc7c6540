"""Checkers for notebook 10 (where next): two rules of BERT's text clean-up that matter for
multilingual text: spaces around CJK ideographs, and the uncased normalisation (lowercase, then
strip accents)."""

from __future__ import annotations

import unicodedata

from course_lib.tokenizer import _CJK_RANGES, is_cjk, strip_accents

from .cases import Case, check_cases, read_text
from .report import CheckReport, recorded
from .rules import exercise

CJK_CASES = [
    "東京は大きい",  # kanji with hiragana between them
    "我喜欢BERT!",  # Chinese, then Latin letters
    "한국어 텍스트",  # Hangul: written with spaces, not split per character
    "カタカナとひらがな",  # katakana and hiragana only: no ideographs at all
    "A\u3400B\uf900C",  # Extension A (U+3400) and a compatibility ideograph (U+F900)
    "plain English, no change.",
    "Un café à Tokyo: 東京.",  # accented Latin letters are not ideographs
    # the first and last ideograph of every block BERT names (assigned since Unicode 14)
    "main block \u4e00\u9fff, Extension A \u3400\u4dbf",
    "Extension B \U00020000\U0002a6df, C \U0002a700\U0002b738, D \U0002b740\U0002b81d, "
    "E \U0002b820\U0002cea1",
    "compatibility \uf900\ufad9, supplement \U0002f800\U0002fa1d",
]
ACCENT_CASES = [
    "Café Crème",
    "Tiếng Việt",
    "ÅNGSTRÖM naïve façade",
    "Ἀθῆναι",  # Greek with breathing and accent marks
    "Straße",  # ß has no accent: it stays
    "東京 and ﬁsh",  # CJK is not an accent; the "ﬁ" ligature is not an accent either
]


def reference_space_around_cjk(text: str) -> str:
    """BERT's rule: every CJK ideograph becomes a word of its own (spaces on both sides)."""
    return "".join(f" {char} " if is_cjk(char) else char for char in text)


def reference_uncased_normalize(text: str) -> str:
    """What an uncased BERT does before WordPiece: lowercase, then drop accents (NFD, then remove
    the combining marks, Unicode category Mn)."""
    return strip_accents(text.lower())


def _cjk_mistakes(text: str) -> dict[str, str]:
    """What the usual wrong rules give for one text."""
    def spaced(rule):
        return "".join(f" {c} " if rule(c) else c for c in text)

    def is_kana_or_hangul(char: str) -> bool:
        name = unicodedata.name(char, "")
        return name.startswith(("HIRAGANA", "KATAKANA", "HANGUL"))

    def is_compatibility(char: str) -> bool:
        return 0xF900 <= ord(char) <= 0xFAFF or 0x2F800 <= ord(char) <= 0x2FA1F

    return {
        "hiragana, katakana or Hangul were split too; BERT splits only the ideograph blocks "
        "(those scripts form words like English does)": spaced(lambda c: is_cjk(c)
                                                                 or is_kana_or_hangul(c)),
        "only the main block U+4E00-U+9FFF was handled; BERT also splits Extension A "
        "(U+3400-U+4DBF), the other extensions and the compatibility ideographs":
            spaced(lambda c: 0x4E00 <= ord(c) <= 0x9FFF),
        "only blocks below U+10000 were handled; Extensions B to E (U+20000-U+2CEAF) and the "
        "Compatibility Ideographs Supplement (U+2F800-U+2FA1F) are ideographs too":
            spaced(lambda c: is_cjk(c) and ord(c) < 0x10000),
        "the compatibility ideographs (U+F900-U+FAFF and U+2F800-U+2FA1F) were left out":
            spaced(lambda c: is_cjk(c) and not is_compatibility(c)),
        "the last code point of a block was left out: range(a, b) stops before b, but BERT's "
        "blocks include their last code point":
            spaced(lambda c: any(low <= ord(c) < high for low, high in _CJK_RANGES)),
        "every non-ASCII character was split; only ideographs are":
            spaced(lambda c: ord(c) > 127),
    }


@recorded
def check_space_around_cjk(space_around_cjk) -> CheckReport:
    """``space_around_cjk(text) -> str``: the text with spaces around every CJK ideograph, so that
    splitting on whitespace makes each ideograph a word of its own. Compared word by word."""
    report = CheckReport("spaces around CJK ideographs")
    cases = [Case(repr(text), (text,), reference_space_around_cjk(text).split(),
                  {why: wrong.split() for why, wrong in _cjk_mistakes(text).items()},
                  call=f"space_around_cjk({text!r})") for text in CJK_CASES]
    check_cases(report, "space_around_cjk", space_around_cjk, cases,
                read=lambda answer: read_text(answer).split())
    return report


def _accent_mistakes(text: str) -> dict[str, str]:
    def drop_marks(normal_form: str, value: str) -> str:
        return "".join(c for c in unicodedata.normalize(normal_form, value)
                       if unicodedata.category(c) != "Mn")

    return {
        "the text was not lowercased (an uncased model lowercases first)": strip_accents(text),
        "the accents were kept; decompose with unicodedata.normalize('NFD', ...) and drop the "
        "combining marks (category 'Mn')": text.lower(),
        "every non-ASCII character was removed, which also deletes letters such as 'ß' and CJK "
        "characters; drop only the combining marks":
            text.lower().encode("ascii", "ignore").decode(),
        "NFKD was used; it also rewrites compatibility characters such as the ligature 'ﬁ' -> "
        "'fi'. BERT uses NFD": drop_marks("NFKD", text.lower()),
        "the text was decomposed (NFD) but the combining marks were not removed":
            unicodedata.normalize("NFD", text.lower()),
    }


@exercise(forbids=("course_lib.tokenizer.strip_accents",),
          write_from='`unicodedata.normalize("NFD", ...)` and the category "Mn"')
def check_uncased_normalize(uncased_normalize) -> CheckReport:
    """``uncased_normalize(text) -> str``: lowercase, then strip accents, as uncased BERT does."""
    report = CheckReport("uncased normalisation (lowercase, strip accents)")
    cases = [Case(repr(text), (text,), reference_uncased_normalize(text), _accent_mistakes(text),
                  call=f"uncased_normalize({text!r})") for text in ACCENT_CASES]
    check_cases(report, "uncased_normalize", uncased_normalize, cases, read=read_text)
    return report


__all__ = [
    "check_space_around_cjk",
    "check_uncased_normalize",
    "reference_space_around_cjk",
    "reference_uncased_normalize",
]
