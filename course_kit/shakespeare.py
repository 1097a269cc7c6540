"""Notebook 09b's data: Shakespeare's plays as speeches (course_lib/assets/data/shakespeare, made
by tools/assets/data/make_shakespeare.py), cut into passages and sentence pairs, with three plays
held out for validation, and the small BERT trained on them."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import random
import re

import torch

from course_lib import BertConfig, BertForMaskedLM, BertForPreTraining, WordPieceTokenizer
from course_lib.files import course_file
from course_lib.pretraining import validation_loss
from course_lib.wordpiece_trainer import train_wordpiece

SPEECHES = "data/shakespeare/speeches.tsv.gz"
SPEECHES_SHA256 = "7921babe03217fea8f361e2916e57262ed7320a87eac82d156d7cb3de406cf74"
VALIDATION_PLAYS = ("hamlet", "macbeth", "twelfth_night")  # held out: never trained on
VOCAB_SIZE = 3000
MAX_LENGTH = 64  # tokens: the small model's positions; a longer input is cut
MAX_WORDS = 40  # words in a passage: about 50 tokens, under MAX_LENGTH
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")

# (text, the word we expect), lowercased and split as the tokenizer splits. The first two are
# lines of held-out plays (Hamlet, Twelfth Night); the others are common turns of phrase of the
# plays, which the training plays contain too.
BLANKS = (
    ("to be , or not to [MASK] : that is the question .", "be"),
    ("if music be the food of [MASK] , play on .", "love"),
    ("god save the [MASK] !", "king"),
    ("how now , my [MASK] ! what news ?", "lord"),
    ("i pray [MASK] , good sir , be patient .", "you"),
    ("give me thy [MASK] , and let us go .", "hand"),
)


def load_speeches() -> list[dict[str, str]]:
    """Every speech of the 37 plays, in order: {"play", "speaker", "text"}; the file's SHA-256 is
    checked first."""
    path = course_file(SPEECHES)
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != SPEECHES_SHA256:
        raise ValueError(f"{path} has SHA-256 {digest}, not the shipped {SPEECHES_SHA256}: the "
                         "file was changed or damaged; reinstall the course")
    text = gzip.decompress(data).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE))


def split_plays(speeches: list[dict[str, str]]) -> tuple[list[dict], list[dict]]:
    """(training speeches, validation speeches): VALIDATION_PLAYS are held out whole."""
    training = [s for s in speeches if s["play"] not in VALIDATION_PLAYS]
    validation = [s for s in speeches if s["play"] in VALIDATION_PLAYS]
    return training, validation


def passages(speeches: list[dict[str, str]], max_words: int = MAX_WORDS) -> list[str]:
    """Each speech cut into passages of whole sentences, at most ``max_words`` words each. A
    longer sentence keeps only its first ``max_words`` words: the rest of it is left out."""
    _check_speeches(speeches)
    if isinstance(max_words, bool) or not isinstance(max_words, int) or max_words < 1:
        raise ValueError(f"max_words must be a whole number of at least 1, got {max_words!r}")
    found = []
    for speech in speeches:
        current: list[str] = []
        for sentence in SENTENCE_END.split(speech["text"]):
            words = sentence.split()[:max_words]
            if current and len(current) + len(words) > max_words:
                found.append(" ".join(current))
                current = []
            current += words
        if current:
            found.append(" ".join(current))
    return found


def _check_speeches(speeches) -> None:
    """A clear error unless ``speeches`` is a list of speeches as ``load_speeches`` gives them."""
    if isinstance(speeches, (str, dict)) or not isinstance(speeches, list) or not all(
            isinstance(s, dict) and isinstance(s.get("text"), str) for s in speeches):
        raise TypeError("speeches must be a list of speeches as load_speeches() gives them: "
                        "dicts with 'play', 'speaker' and 'text'")


def sentence_pairs(speeches: list[dict[str, str]], max_words: int = MAX_WORDS // 2
                   ) -> list[tuple[str, str]]:
    """(a, b): two passages that follow each other in one play (in one speech or across two
    speeches), each at most ``max_words`` words: the material of sentence-order prediction."""
    _check_speeches(speeches)
    pairs = []
    for play in dict.fromkeys(s["play"] for s in speeches):
        pieces = passages([s for s in speeches if s["play"] == play], max_words)
        pairs += list(zip(pieces[::2], pieces[1::2], strict=False))
    return pairs


def held_out_sample(validation: list[dict[str, str]], passages_wanted: int = 1000,
                    pairs_wanted: int = 500, seed: int = 0) -> tuple[list[str], list[tuple]]:
    """A fixed random sample of the held-out plays' passages and sentence pairs (the shipped
    model's training log was measured on the sample of the defaults)."""
    rng = random.Random(seed)
    return (rng.sample(passages(validation), passages_wanted),
            rng.sample(sentence_pairs(validation), pairs_wanted))


def training_log() -> dict:
    """The shipped model's training log (tools/assets/models/train_shakespeare_bert.py): both
    runs' losses, their evaluations every 250 steps, the machine and the time."""
    path = course_file("models/shakespeare-bert/training_log.json")
    return json.loads(path.read_text(encoding="utf-8"))


def shakespeare_tokenizer(texts: list[str], vocab_size: int = VOCAB_SIZE) -> WordPieceTokenizer:
    """A WordPiece vocabulary learned from ``texts`` by the course trainer, merging the most
    frequent pair as the Hugging Face ``tokenizers`` library does."""
    vocab = train_wordpiece(texts, vocab_size, rule="frequency")
    return WordPieceTokenizer.from_vocab(vocab, model_max_length=None)


def small_config(vocab_size: int, **overrides) -> BertConfig:
    """Notebook 09b's BERT: 4 layers, 4 heads, 128 wide, 64 positions, BERT's dropout of 0.1."""
    sizes = dict(vocab_size=vocab_size, hidden_size=128, num_layers=4, num_heads=4,
                 intermediate_size=512, max_position_embeddings=MAX_LENGTH)
    return BertConfig(**{**sizes, **overrides})



@torch.no_grad()
def blank_answers(model: BertForMaskedLM, tokenizer: WordPieceTokenizer,
                  blanks=BLANKS, k: int = 3) -> list[dict]:
    """For each blank: the model's top-k words and the probability it gives the expected word."""
    found = []
    for text, expected in blanks:
        ids = torch.tensor([tokenizer.encode(text).input_ids])  # (1, seq)
        at = int((ids[0] == tokenizer.mask_token_id).nonzero()[0])
        probabilities = model(ids).logits[0, at].softmax(-1)  # (vocab,)
        top = probabilities.topk(k)
        found.append({"text": text, "expected": expected,
                      "top": tokenizer.convert_ids_to_tokens(top.indices.tolist()),
                      "p_expected": round(probabilities[tokenizer.vocab[expected]].item(), 4)})
    return found


@torch.no_grad()
def order_accuracy(model: BertForPreTraining, tokenizer: WordPieceTokenizer,
                   pairs: list[tuple[str, str]], max_length: int = MAX_LENGTH) -> float:
    """Share of pairs, each shown in order (label 0) and swapped (label 1), whose order the
    next-sentence head gets right: 0.5 is a guess."""
    first, second = [a for a, _ in pairs], [b for _, b in pairs]
    hits = 0
    for label, (a, b) in enumerate(((first, second), (second, first))):
        batch = tokenizer.encode_batch(a, b, max_length=max_length)
        logits = model(**batch).seq_relationship_logits  # (pairs, 2)
        hits += int((logits.argmax(-1) == label).sum())
    return hits / (2 * len(pairs))


def evaluation(tokenizer: WordPieceTokenizer, validation_texts: list[str],
               validation_pairs: list[tuple[str, str]] | None = None):
    """The ``evaluate`` of ``train_masked_lm`` for notebook 09b: validation loss (the same masks
    every time), the blanks, and the order accuracy for a model with the next-sentence head."""
    def evaluate(model) -> dict:
        result = {"validation_loss": round(validation_loss(model, tokenizer, validation_texts,
                                                           max_length=MAX_LENGTH), 4),
                  "blanks": blank_answers(model, tokenizer)}
        if validation_pairs is not None:
            result["order_accuracy"] = round(order_accuracy(model, tokenizer, validation_pairs), 4)
        return result
    return evaluate


__all__ = ["BLANKS", "MAX_LENGTH", "VALIDATION_PLAYS", "blank_answers", "evaluation",
           "held_out_sample", "load_speeches", "order_accuracy", "passages", "sentence_pairs",
           "shakespeare_tokenizer", "small_config", "split_plays", "training_log"]
