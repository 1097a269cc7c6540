"""The course's pre-training helpers: corpus, probes, tokenizer, a short training run."""

from __future__ import annotations

import torch

import course_lib as cl
from course_kit import probes as kp
from course_lib import pretraining as pt


def test_corpus_and_probes_are_held_out():
    corpus, probes = kp.load_corpus(), kp.load_probes()
    assert len(corpus) == 6000 and len(probes) == 240
    assert not {p["sentence"] for p in probes} & set(corpus)
    for probe in probes:
        assert probe["sentence"].split()[probe["word_position"]] == probe["answer"]
    assert {(p["template"], p["clue_side"]) for p in probes} == {
        (t, s) for t in ("animals", "capitals", "fruit") for s in ("left", "right")}


def test_course_tokenizer_makes_every_corpus_word_one_piece():
    corpus = kp.load_corpus()
    tok = kp.course_tokenizer(corpus)
    assert tok.vocab_size == 455 and tok.mask_token_id is not None  # stopped: all merged
    for word in {w for line in corpus[:300] for w in line.split()}:
        assert tok.tokenize(word) == [word]


def test_short_training_lowers_the_loss_and_restores_threads():
    corpus = kp.load_corpus()[:300]
    tok = kp.course_tokenizer(corpus)
    torch.manual_seed(0)
    model = cl.BertForMaskedLM(kp.small_config(tok.vocab_size))
    threads = torch.get_num_threads()
    run = pt.train_masked_lm(model, tok, corpus, steps=60, batch_size=16, warmup=10,
                             progress=False)
    assert torch.get_num_threads() == threads
    assert len(run.losses) == 60 and not model.training
    assert sum(run.losses[-10:]) / 10 < sum(run.losses[:10]) / 10 - 1.0
    accuracy = kp.probe_accuracy(model, tok)
    assert ("all", "right") in accuracy and all(0 <= a <= 1 for a in accuracy.values())


def test_token_position_counts_pieces_and_cls():
    tok = cl.load_tokenizer("minilm")
    sentence = "the duck quacked by the river ."
    at = pt.token_position(tok, sentence, 2)  # "quacked" is several pieces in this vocabulary
    assert tok.encode(sentence).tokens[at] == tok.tokenize("quacked")[0]
    assert kp.chance_levels()["animals (right clue)"] == 1 / 8
