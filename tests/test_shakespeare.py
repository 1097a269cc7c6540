"""Notebook 09b's library: the Shakespeare data (shipped bytes, parser, split), the fast WordPiece
trainer and its two merge rules, masked-LM training with validation and sentence pairs, the shipped
shakespeare-bert and its log, and the association test with its checker."""

from __future__ import annotations

import importlib.util
import math
import random
import sys
from collections import Counter
from pathlib import Path

import pytest
import torch

import course_lib as cl
from course_kit import association as ka
from course_kit import probes as kp
from course_kit import shakespeare as sh
from course_kit.checks.association import check_effect_size, weat
from course_lib import pretraining as pt
from course_lib.wordpiece_trainer import _merge_in, merge_pieces, pair_scores, word_counts

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def plays():
    speeches = sh.load_speeches()
    training, validation = sh.split_plays(speeches)
    return speeches, training, validation


@pytest.fixture(scope="module")
def tok(plays):
    return sh.shakespeare_tokenizer(sh.passages(plays[1]))


# ---- data ---------------------------------------------------------------------------------------

def test_the_shipped_plays(plays):
    speeches, training, validation = plays
    assert len({s["play"] for s in speeches}) == 37 and len(speeches) > 29_000
    assert {s["play"] for s in validation} == set(sh.VALIDATION_PLAYS)
    assert not {s["play"] for s in training} & set(sh.VALIDATION_PLAYS)
    assert all(s["text"].strip() and "[" not in s["text"] for s in speeches)
    assert any("To be, or not to be" in s["text"] for s in validation)


def test_a_damaged_data_file_is_refused(monkeypatch, tmp_path):
    damaged = tmp_path / "speeches.tsv.gz"
    damaged.write_bytes(b"not the shipped file")
    monkeypatch.setattr(sh, "course_file", lambda name: damaged)
    with pytest.raises(ValueError, match="SHA-256 .* not the shipped"):
        sh.load_speeches()


def _maker():
    spec = importlib.util.spec_from_file_location(
        "make_shakespeare", ROOT / "tools/assets/data/make_shakespeare.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_parser_keeps_speeches_and_drops_everything_else():
    play = """THE PLAY

Persons Represented

DUKE, a duke.

ACT I.

SCENE I. A room.

[Enter DUKE and Hor.]

DUKE.
Good morrow,
my friend.

[Exit Hor.]

And so farewell.

HORATIO
Farewell, [Aside] my lord.

ACT II.

Hor.
Again.
"""
    assert _maker().speeches(play) == [
        ("Duke", "Good morrow, my friend. And so farewell."), ("Horatio", "Farewell, my lord."),
        ("Hor", "Again.")]


def test_passages_keep_whole_sentences_within_the_limit():
    speech = {"play": "p", "speaker": "s",
              "text": "One two three. Four five six seven! " + " ".join(["w"] * 50) + ". End?"}
    found = sh.passages([speech], max_words=8)
    assert found[0] == "One two three. Four five six seven!"
    assert all(len(p.split()) <= 8 for p in found) and found[-1] == "End?"
    pairs = sh.sentence_pairs([speech] * 2, max_words=8)
    assert all(isinstance(a, str) and isinstance(b, str) for a, b in pairs)


# ---- the WordPiece trainer -----------------------------------------------------------------------

def _slow_wordpiece(texts, vocab_size, rule="score"):
    """The trainer as notebook 09 explains it: every pair's score recomputed after every merge."""
    counts = word_counts(texts)
    splits = {w: [w[0]] + ["##" + c for c in w[1:]] for w in counts}
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab += sorted({p for pieces in splits.values() for p in pieces})
    while len(vocab) < vocab_size:
        scores = pair_scores(splits, counts)
        if not scores:
            break
        frequency = Counter()
        for word, pieces in splits.items():
            for pair in zip(pieces, pieces[1:], strict=False):
                frequency[pair] += counts[word]
        if rule == "frequency":
            best = min(scores, key=lambda p, f=frequency: (-f[p], p))
        else:
            best = min(scores, key=lambda p, f=frequency, s=scores: (-s[p], -f[p], p))
        new = merge_pieces(*best)
        splits = {w: _merge_in(p, best, new) for w, p in splits.items()}
        if new not in vocab:
            vocab.append(new)
    return vocab


@pytest.mark.parametrize("rule", ["score", "frequency"])
def test_the_fast_trainer_merges_as_the_slow_one(rule):
    corpus = kp.load_corpus()
    rng = random.Random(0)
    words = ["".join(rng.choice("abcde") for _ in range(rng.randint(1, 6))) for _ in range(300)]
    made_up = [" ".join(rng.choice(words) for _ in range(8)) for _ in range(200)]
    for texts, size in ((corpus, 120), (corpus, 455), (made_up, 40), (made_up, 200)):
        assert cl.train_wordpiece(texts, size, rule=rule) == _slow_wordpiece(texts, size, rule)


def test_the_frequency_rule_matches_the_tokenizers_library(plays):
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    texts = sh.passages(plays[1])[:8000]
    ours = cl.train_wordpiece(texts, 1500, rule="frequency")
    reference = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    reference.normalizer = normalizers.BertNormalizer(lowercase=True)
    reference.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    reference.train_from_iterator(texts, trainers.WordPieceTrainer(
        vocab_size=1500, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
        show_progress=False))
    assert len(set(ours) & set(reference.get_vocab())) / len(ours) > 0.97


def test_an_unknown_rule_is_refused():
    with pytest.raises(ValueError, match="rule must be one of"):
        cl.train_wordpiece(["a b"], 20, rule="bpe")


def test_the_shakespeare_vocabulary_keeps_common_words_whole(tok):
    assert tok.vocab_size == sh.VOCAB_SIZE
    for word in ("the", "lord", "thee", "king", "love"):
        assert tok.tokenize(word) == [word]


# ---- training with validation and sentence pairs -------------------------------------------------

def _tiny(tok, kind=cl.BertForMaskedLM):
    torch.manual_seed(0)
    return kind(sh.small_config(tok.vocab_size, hidden_size=32, num_layers=1, num_heads=2,
                                intermediate_size=64))


def test_evaluate_runs_before_every_and_at_the_end(plays, tok):
    texts = sh.passages(plays[1])[:400]
    calls = []
    run = pt.train_masked_lm(_tiny(tok), tok, texts, steps=7, batch_size=4, warmup=2,
                             max_length=64, progress=False, every=3,
                             evaluate=lambda model: calls.append(model.training) or {"x": 1})
    assert [e["step"] for e in run.evaluations] == [0, 3, 6, 7]
    assert calls == [False] * 4  # evaluated in eval mode
    assert run.order_losses == [] and len(run.losses) == 7


def test_sentence_pairs_train_the_order_head(plays, tok):
    pairs = sh.sentence_pairs(plays[1])[:300]
    model = _tiny(tok, cl.BertForPreTraining)
    run = pt.train_masked_lm(model, tok, pairs, steps=5, batch_size=8, warmup=1, max_length=64,
                             progress=False)
    assert len(run.order_losses) == 5 and all(0 < x < 2 for x in run.order_losses)
    assert 0 <= sh.order_accuracy(model, tok, pairs[:20]) <= 1
    with pytest.raises(TypeError, match="BertForPreTraining"):
        pt.train_masked_lm(_tiny(tok), tok, pairs, steps=2, warmup=1, progress=False)
    with pytest.raises(ValueError, match=r"all sentences .* or all \(a, b\) tuples"):
        pt.train_masked_lm(model, tok, [pairs[0], "a sentence"], steps=2, warmup=1,
                           progress=False)
    with pytest.raises(TypeError, match="evaluate must be a function"):
        pt.train_masked_lm(model, tok, pairs, steps=2, warmup=1, progress=False, evaluate=3)


def test_validation_loss_uses_the_same_masks_every_time(plays, tok):
    texts = sh.passages(plays[2])[:100]
    model = _tiny(tok)
    first = pt.validation_loss(model, tok, texts, max_length=64)
    assert first == pt.validation_loss(model, tok, texts, max_length=64)
    assert first != pt.validation_loss(model, tok, texts, seed=1, max_length=64)
    assert abs(first - math.log(tok.vocab_size)) < 1.0  # a random model: near a uniform guess
    with pytest.raises(ValueError, match="sentences, not"):
        pt.validation_loss(model, tok, [("a", "b")])


# ---- the shipped model and its log --------------------------------------------------------------

def test_the_shipped_model_loads_checked_and_matches_its_log(plays, tok):
    model = cl.BertForMaskedLM.from_pretrained("shakespeare-bert")
    assert cl.load_tokenizer("shakespeare-bert").vocab == tok.vocab
    log = sh.training_log()
    mlm, sop = log["runs"]
    assert (mlm["kind"], sop["kind"]) == ("mlm", "mlm+sop")
    assert len(mlm["losses"]) == mlm["steps"] == len(sop["order_losses"])
    assert model.num_parameters() == mlm["parameters"]
    texts, _ = sh.held_out_sample(plays[2])
    measured = pt.validation_loss(model, tok, texts, max_length=64)
    assert measured == pytest.approx(mlm["evaluations"][-1]["validation_loss"], abs=0.01)
    losses = [e["validation_loss"] for e in mlm["evaluations"]]
    assert losses[-1] < losses[0] - 2.5 and losses[-1] == min(losses)  # it learned from the plays


# ---- the association test and its checker -------------------------------------------------------

def test_effect_size_sign_and_scale():
    g = torch.Generator().manual_seed(0)
    A, B = torch.randn(5, 8, generator=g), torch.randn(5, 8, generator=g)
    X = A[:, :] + 0.1 * torch.randn(5, 8, generator=g)  # close to A
    Y = B + 0.1 * torch.randn(5, 8, generator=g)  # close to B
    d = ka.effect_size(X, Y, A, B)
    assert 1.0 < d <= 2.0
    assert ka.effect_size(Y, X, A, B) == pytest.approx(-d)
    assert ka.effect_size(3 * X, Y, A, B) == pytest.approx(d)  # cosines: lengths do not matter
    assert ka.permutation_p_value(X, Y, A, B, rounds=2000) < 0.05
    assert ka.permutation_p_value(Y, X, A, B, rounds=2000) > 0.9


def test_word_vectors_need_single_piece_words():
    tok = cl.load_tokenizer("minilm")
    embeddings = torch.nn.Embedding(tok.vocab_size, 4)
    assert ka.word_vectors(embeddings, tok, ["nurse", "pilot"]).shape == (2, 4)
    with pytest.raises(ValueError, match="one piece .*'hairdresser'"):
        ka.word_vectors(embeddings, tok, ["nurse", "hairdresser"])


def _by_hand(X, Y, A, B, correction=1):
    """WEAT's effect size as a learner writes it, cosines from F.cosine_similarity."""
    def s(w):
        cos = torch.nn.functional.cosine_similarity
        return cos(w, A).mean() - cos(w, B).mean()

    sx, sy = torch.stack([s(x) for x in X]), torch.stack([s(y) for y in Y])
    return (sx.mean() - sy.mean()) / torch.cat([sx, sy]).std(correction=correction)


def test_the_checker_passes_right_answers_and_names_each_mistake():
    assert check_effect_size(lambda X, Y, A, B: float(_by_hand(X, Y, A, B))).passed
    assert check_effect_size(lambda X, Y, A, B: float(_by_hand(X, Y, A, B, 0))).passed
    assert check_effect_size(_by_hand).passed  # a 0-dim tensor
    for wrong, words in ((dict(cosine=False), "dot products"), (dict(spread="x"), "X alone"),
                         (dict(spread="pooled"), "pooled"), (dict(spread=None), "no division"),
                         (dict(flip=True), "sign is flipped"), (dict(summed=True), "sums")):
        report = check_effect_size(lambda X, Y, A, B, w=wrong: weat(X, Y, A, B, **w))
        assert not report.passed and words in str(report), (wrong, str(report))


def test_the_checker_refuses_the_courses_own_function():
    report = check_effect_size(ka.effect_size)
    assert not report.passed and "you called `kit.association.effect_size`" in str(report)
    assert not check_effect_size(weat).passed  # the checker's own reference is refused too


def test_a_spread_around_the_midpoint_of_the_two_means_is_caught():
    """Right when X and Y have as many words, wrong otherwise: the third case has 3 + 5."""
    def midpoint(X, Y, A, B):
        sx, sy = ka.association(X, A, B), ka.association(Y, A, B)
        centre = (sx.mean() + sy.mean()) / 2
        spread = (torch.cat([sx, sy]) - centre).pow(2).sum().div(len(sx) + len(sy) - 1).sqrt()
        return float((sx.mean() - sy.mean()) / spread)

    assert not check_effect_size(midpoint).passed


def test_bad_inputs_get_clear_errors(plays):
    vectors = torch.randn(4, 8)
    with pytest.raises(ValueError, match="same width d"):
        ka.effect_size(vectors, vectors, vectors, torch.randn(4, 9))
    with pytest.raises(ValueError, match=r"X must be an \(n, d\) tensor"):
        ka.effect_size(torch.randn(8), vectors, vectors, vectors)
    with pytest.raises(ValueError, match="rounds must be"):
        ka.permutation_p_value(vectors, vectors, vectors, vectors, rounds=0)
    with pytest.raises(ValueError, match="max_words must be"):
        sh.passages(plays[0][:3], max_words=0)
    with pytest.raises(TypeError, match="speeches must be a list of speeches"):
        sh.passages(["a text, not a speech"])
    with pytest.raises(TypeError, match="single string"):
        ka.word_vectors(torch.nn.Embedding(10, 2), cl.load_tokenizer("minilm"), "nurse")


def test_a_short_run_without_a_warmup_setting_warms_up_over_all_its_steps(plays, tok):
    run = pt.train_masked_lm(_tiny(tok), tok, sh.passages(plays[1])[:50], steps=3, batch_size=2,
                             max_length=64, progress=False)
    assert len(run.losses) == 3


if __name__ == "__main__":
    sys.exit(pytest.main([__file__]))
