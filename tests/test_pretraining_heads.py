"""BertForMaskedLM / BertForPreTraining equal transformers' models; mask_tokens statistics."""

from __future__ import annotations

import pytest
import torch

import course_lib as cl

transformers = pytest.importorskip("transformers")

SMALL = dict(
    vocab_size=120, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
    intermediate_size=64, max_position_embeddings=40,
)


def _batch(seed=0):
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, SMALL["vocab_size"], (3, 12), generator=generator)
    mask = torch.ones_like(ids)
    mask[1, 8:] = 0
    mask[2, 4:] = 0
    ids[mask == 0] = 0
    segments = torch.zeros_like(ids)
    segments[:, 6:] = 1
    segments[mask == 0] = 0
    labels = torch.full_like(ids, -100)
    labels[0, 2], labels[1, 5], labels[2, 1], labels[0, 9] = 7, 9, 11, 13
    return ids, mask, segments, labels


@pytest.fixture(scope="module")
def reference_folders(tmp_path_factory):
    """Random checkpoints written by transformers itself: MLM, pre-training, encoder only."""
    torch.manual_seed(7)
    config = transformers.BertConfig(**SMALL)
    folders = {}
    for name, cls in (
        ("mlm", transformers.BertForMaskedLM),
        ("pretraining", transformers.BertForPreTraining),
        ("encoder", transformers.BertModel),
    ):
        model = cls(config).eval()
        with torch.no_grad():  # non-zero head biases and LayerNorms, so that a mix-up shows
            for param_name, param in model.named_parameters():
                if "cls." in param_name and ("bias" in param_name or "LayerNorm" in param_name):
                    param.add_(torch.randn_like(param) * 0.1)
        folder = tmp_path_factory.mktemp(name)
        model.save_pretrained(folder)
        folders[name] = folder
    return folders


def _reference(cls, folder):
    return cls.from_pretrained(str(folder), attn_implementation="eager").eval()


def test_masked_lm_equals_reference(reference_folders):
    ids, mask, segments, labels = _batch()
    ours = cl.BertForMaskedLM.from_pretrained(reference_folders["mlm"])
    theirs = _reference(transformers.BertForMaskedLM, reference_folders["mlm"])
    with torch.no_grad():
        a = ours(ids, mask, segments, labels=labels)
        b = theirs(input_ids=ids, attention_mask=mask, token_type_ids=segments, labels=labels)
    assert a.logits.shape == (3, 12, SMALL["vocab_size"])
    keep = mask.bool()  # padded positions are never read
    assert (a.logits[keep] - b.logits[keep]).abs().max() < 1e-5
    assert abs(a.loss.item() - b.loss.item()) < 1e-5


def test_pretraining_equals_reference(reference_folders):
    ids, mask, segments, labels = _batch(1)
    nsp = torch.tensor([0, 1, 1])
    ours = cl.BertForPreTraining.from_pretrained(reference_folders["pretraining"])
    theirs = _reference(transformers.BertForPreTraining, reference_folders["pretraining"])
    with torch.no_grad():
        a = ours(ids, mask, segments, labels=labels, next_sentence_label=nsp)
        b = theirs(input_ids=ids, attention_mask=mask, token_type_ids=segments, labels=labels,
                   next_sentence_label=nsp)
    keep = mask.bool()
    assert (a.logits[keep] - b.prediction_logits[keep]).abs().max() < 1e-5
    assert a.seq_relationship_logits.shape == (3, 2)
    assert (a.seq_relationship_logits - b.seq_relationship_logits).abs().max() < 1e-5
    assert abs(a.loss.item() - b.loss.item()) < 1e-5
    assert abs(a.loss.item() - (a.masked_lm_loss + a.next_sentence_loss).item()) < 1e-6


def test_training_mode_gradients_flow_and_loss_matches_manual():
    torch.manual_seed(0)
    model = cl.BertForMaskedLM(cl.BertConfig.tiny(vocab_size=50, hidden_dropout=0.0,
                                                   attention_dropout=0.0))
    ids, mask, segments, labels = _batch()
    ids = ids % 50
    labels = torch.where(labels >= 0, labels % 50, labels)
    out = model(ids, mask, segments, labels=labels)
    chosen = labels != -100
    manual = torch.nn.functional.cross_entropy(out.logits[chosen], labels[chosen])
    assert torch.allclose(out.loss, manual, atol=1e-6)
    out.loss.backward()
    assert model.bert.embeddings.word_embeddings.weight.grad.abs().sum() > 0


def test_decoder_is_tied_to_word_embeddings():
    model = cl.BertForPreTraining(cl.BertConfig.tiny(vocab_size=60))
    embedding = model.bert.embeddings.word_embeddings.weight
    assert model.lm_head.decoder.weight is embedding
    assert model.lm_head.decoder.weight.data_ptr() == embedding.data_ptr()
    with torch.no_grad():
        embedding[3, 0] = 42.0
    assert model.lm_head.decoder.weight[3, 0].item() == 42.0
    names = [name for name, _ in model.named_parameters()]
    assert "lm_head.decoder.weight" not in names  # counted once: it is the embedding's tensor
    assert model.lm_head.bias.shape == (60,)


def test_tied_after_loading_and_save_roundtrip(reference_folders, tmp_path):
    model = cl.BertForMaskedLM.from_pretrained(reference_folders["mlm"])
    assert model.lm_head.decoder.weight is model.bert.embeddings.word_embeddings.weight
    model.save_pretrained(tmp_path)
    again = transformers.BertForMaskedLM.from_pretrained(str(tmp_path)).eval()
    ids, mask, segments, _ = _batch(2)
    with torch.no_grad():
        a = model(ids, mask, segments).logits
        b = again(input_ids=ids, attention_mask=mask, token_type_ids=segments).logits
    assert (a[mask.bool()] - b[mask.bool()]).abs().max() < 1e-5


def test_checkpoint_without_head_is_a_clear_error(reference_folders):
    with pytest.raises(ValueError, match="no masked-LM head"):
        cl.BertForMaskedLM.from_pretrained(reference_folders["encoder"])
    with pytest.raises(ValueError, match="no next-sentence head"):
        cl.BertForPreTraining.from_pretrained(reference_folders["mlm"])


def test_next_sentence_label_refused_without_nsp_head():
    model = cl.BertForMaskedLM(cl.BertConfig.tiny(vocab_size=50))
    with pytest.raises(ValueError, match="BertForPreTraining"):
        model(torch.tensor([[2, 5, 3]]), next_sentence_label=torch.tensor([0]))


@pytest.mark.parametrize("label, rule", [
    (torch.tensor([0, 1]), "one label per pair"),
    (torch.tensor([[0], [1], [0]]), "one label per pair"),
    (torch.tensor([0, 2, 1]), "must be 0"),
    (torch.tensor([0, -1, 1]), "must be 0"),
    (torch.tensor([0.0, 0.7, 1.0]), "whole numbers"),
])
def test_bad_next_sentence_label_names_the_rule(label, rule):
    model = cl.BertForPreTraining(cl.BertConfig.tiny(vocab_size=50)).eval()
    ids = torch.tensor([[2, 5, 3]] * 3)
    with pytest.raises(ValueError, match=rule):
        model(ids, next_sentence_label=label)


def test_next_sentence_label_accepts_lists_floats_and_a_scalar_for_one_pair():
    model = cl.BertForPreTraining(cl.BertConfig.tiny(vocab_size=50)).eval()
    ids = torch.tensor([[2, 5, 3], [2, 6, 3]])
    expected = model(ids, next_sentence_label=torch.tensor([0, 1])).next_sentence_loss
    for label in ([0, 1], torch.tensor([0.0, 1.0])):
        assert torch.equal(model(ids, next_sentence_label=label).next_sentence_loss, expected)
    one = model(ids[:1], next_sentence_label=1).next_sentence_loss
    assert torch.equal(one, model(ids[:1], next_sentence_label=[1]).next_sentence_loss)


def test_causal_mode_cannot_see_the_right():
    torch.manual_seed(0)
    model = cl.BertForMaskedLM(cl.BertConfig.tiny(vocab_size=50), causal=True).eval()
    ids = torch.tensor([[2, 7, 8, 9, 10, 3]])
    changed = ids.clone()
    changed[0, 4] = 20  # change a token: only positions 4 and later may react
    with torch.no_grad():
        a, b = model(ids).logits, model(changed).logits
    assert torch.allclose(a[0, :4], b[0, :4], atol=1e-6)
    assert not torch.allclose(a[0, 4:], b[0, 4:], atol=1e-4)
    bidirectional = cl.BertForMaskedLM(cl.BertConfig.tiny(vocab_size=50)).eval()
    with torch.no_grad():
        c, d = bidirectional(ids).logits, bidirectional(changed).logits
    assert not torch.allclose(c[0, :4], d[0, :4], atol=1e-4)


def test_causal_mask_shape_and_triangle():
    mask = cl.causal_mask(4)
    assert mask.dtype == torch.bool and mask.shape == (4, 4)
    assert mask.tolist() == [[True, False, False, False], [True, True, False, False],
                             [True, True, True, False], [True, True, True, True]]
    assert cl.bidirectional_mask(3).all()
    with pytest.raises(ValueError, match="positive integer"):
        cl.causal_mask(0)


# ---- mask_tokens -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tok():
    return cl.load_tokenizer("minilm")


def _many_ids(tok, rows=400):
    texts = ["the quick brown fox jumps over the lazy dog near the river bank today",
             "a short one", "bert hides some words and learns to guess them back"]
    return tok.encode_batch([texts[i % 3] for i in range(rows)])["input_ids"]


def test_mask_tokens_statistics(tok):
    ids = _many_ids(tok)
    generator = torch.Generator().manual_seed(0)
    masked, labels = cl.mask_tokens(ids, tok, 0.15, generator)
    special = torch.isin(ids, torch.tensor([0, 100, 101, 102, 103]))
    candidates = (~special).sum().item()
    chosen = labels != -100
    n = chosen.sum().item()
    # chosen share: 0.15 within 4 standard errors
    assert abs(n / candidates - 0.15) < 4 * (0.15 * 0.85 / candidates) ** 0.5
    assert not (chosen & special).any(), "special tokens and padding are never chosen"
    assert (labels[chosen] == ids[chosen]).all(), "labels hold the original IDs"
    assert (labels[~chosen] == -100).all()
    assert (masked[~chosen] == ids[~chosen]).all(), "unchosen positions are unchanged"
    to_mask = (masked[chosen] == tok.mask_token_id).float().mean().item()
    kept = (masked[chosen] == ids[chosen]).float().mean().item()
    replaced = 1 - to_mask - kept
    se = (0.25 / n) ** 0.5
    assert abs(to_mask - 0.8) < 4 * se
    assert abs(kept - 0.1) < 4 * se + 0.001  # a random token can equal the original (rare)
    assert abs(replaced - 0.1) < 4 * se + 0.001


def test_mask_tokens_deterministic_and_new_each_call(tok):
    ids = _many_ids(tok, 20)
    a = cl.mask_tokens(ids, tok, generator=torch.Generator().manual_seed(3))
    b = cl.mask_tokens(ids, tok, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    generator = torch.Generator().manual_seed(3)
    first = cl.mask_tokens(ids, tok, generator=generator)
    second = cl.mask_tokens(ids, tok, generator=generator)
    assert not torch.equal(first[1], second[1]), "the same generator draws new masks each call"


def test_mask_tokens_leaves_input_and_handles_edges(tok):
    ids = _many_ids(tok, 5)
    before = ids.clone()
    masked, labels = cl.mask_tokens(ids, tok, 1.0, torch.Generator().manual_seed(0))
    assert torch.equal(ids, before)
    special = torch.isin(ids, torch.tensor([0, 100, 101, 102, 103]))
    assert (labels[~special] == ids[~special]).all()  # probability 1: every word chosen
    _, none = cl.mask_tokens(ids, tok, 0.0)
    assert (none == -100).all()
    with pytest.raises(ValueError, match="between 0 and 1"):
        cl.mask_tokens(ids, tok, 1.5)
    no_mask = cl.WordPieceTokenizer.from_vocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a"])
    with pytest.raises(ValueError, match="no \\[MASK\\]"):
        cl.mask_tokens(torch.tensor([[2, 4, 3]]), no_mask)
