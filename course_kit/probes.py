"""Notebook 09's experiment: the course corpus, its tokenizer and small BERT, and held-out probes
that measure how often a model gets a word right (a word that only its right-hand context gives
away shows what a bidirectional model sees and a left-to-right one cannot)."""

from __future__ import annotations

import csv
from pathlib import Path

import torch

from course_lib import BertConfig, BertForMaskedLM, WordPieceTokenizer
from course_lib.files import course_file
from course_lib.pretraining import token_position
from course_lib.wordpiece_trainer import train_wordpiece

COURSE_VOCAB_SIZE = 1000  # more than the corpus needs: it stops when every word is one token


def load_corpus(path: str | Path | None = None) -> list[str]:
    """The course's pre-training sentences, one per line (default: the shipped corpus)."""
    path = course_file("data/pretraining_corpus.txt") if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"corpus not found: {path}")
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_probes(path: str | Path | None = None) -> list[dict]:
    """Held-out sentences with one word to predict: template, clue_side, word_position, answer."""
    path = course_file("data/pretraining_probes.tsv") if path is None else path
    with open(path, encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file, delimiter="\t"))
    for row in rows:
        row["word_position"] = int(row["word_position"])
    return rows


def course_tokenizer(texts: list[str]) -> WordPieceTokenizer:
    """A WordPiece tokenizer whose vocabulary is learned from ``texts`` by the course trainer."""
    vocab = train_wordpiece(texts, COURSE_VOCAB_SIZE)
    return WordPieceTokenizer.from_vocab(vocab, model_max_length=None)


def small_config(vocab_size: int, **overrides) -> BertConfig:
    """The small BERT of notebook 09: 2 layers, 4 heads, 64 wide, 32 positions, no dropout
    (at this size, on so regular a corpus, dropout only slows a few minutes of training down)."""
    sizes = dict(vocab_size=vocab_size, hidden_size=64, num_layers=2, num_heads=4,
                 intermediate_size=256, max_position_embeddings=32, hidden_dropout=0.0,
                 attention_dropout=0.0)
    return BertConfig(**{**sizes, **overrides})


@torch.no_grad()
def probe_accuracy(model: BertForMaskedLM, tokenizer: WordPieceTokenizer,
                   probes: list[dict] | None = None) -> dict[tuple[str, str], float]:
    """Share of probes whose hidden word is the model's top prediction, per (template, side).

    Also ("all", "left") and ("all", "right"): every template together, by side of the clue.
    All probes go through the model as one padded batch.
    """
    probes = load_probes() if probes is None else probes
    if not probes:
        raise ValueError("probes is empty: give at least one probe (load_probes() has them)")
    batch = tokenizer.encode_batch([probe["sentence"] for probe in probes])
    ids = batch["input_ids"].clone()  # (probes, seq)
    at = torch.tensor([token_position(tokenizer, p["sentence"], p["word_position"])
                       for p in probes])  # (probes,)
    rows = torch.arange(len(probes))
    answers = ids[rows, at].clone()  # (probes,)
    ids[rows, at] = tokenizer.mask_token_id
    logits = model(ids, batch["attention_mask"]).logits  # (probes, seq, vocab)
    hits = (logits[rows, at].argmax(-1) == answers).tolist()  # (probes,)
    groups: dict[tuple[str, str], list[int]] = {}
    for probe, hit in zip(probes, hits, strict=True):
        for key in ((probe["template"], probe["clue_side"]), ("all", probe["clue_side"])):
            groups.setdefault(key, []).append(int(hit))
    return {key: sum(values) / len(values) for key, values in sorted(groups.items())}


def chance_levels(probes: list[dict] | None = None) -> dict[str, float]:
    """Accuracy of guessing uniformly among the words that can fill each template's slot."""
    probes = load_probes() if probes is None else probes
    answers: dict[tuple[str, str], set[str]] = {}
    for probe in probes:
        answers.setdefault((probe["template"], probe["clue_side"]), set()).add(probe["answer"])
    return {f"{t} ({side} clue)": 1 / len(a) for (t, side), a in sorted(answers.items())}


__all__ = ["chance_levels", "course_tokenizer", "load_corpus", "load_probes", "probe_accuracy",
           "small_config"]
