"""Notebook 09's experiment: the course corpus, its held-out probes, and how often a model gets
them right (a word that only its right-hand context gives away shows what a bidirectional
model sees and a left-to-right one cannot)."""

from __future__ import annotations

import csv
from pathlib import Path

import torch

from course_lib import BertForMaskedLM, WordPieceTokenizer
from course_lib.files import course_file
from course_lib.pretraining import token_position


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


__all__ = ["chance_levels", "load_corpus", "load_probes", "probe_accuracy"]
