"""The three fine-tuning heads equal transformers' classes: logits, loss, loading and saving."""

from __future__ import annotations

import warnings

import pytest
import torch
from helpers import padded_batch

import course_lib as cl

transformers = pytest.importorskip("transformers")

SMALL = dict(vocab_size=1200, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
             intermediate_size=64, max_position_embeddings=40)
OURS = {
    "sequence": cl.BertForSequenceClassification,
    "token": cl.BertForTokenClassification,
    "qa": cl.BertForQuestionAnswering,
}
THEIRS = {
    "sequence": "BertForSequenceClassification",
    "token": "BertForTokenClassification",
    "qa": "BertForQuestionAnswering",
}
LABELS = {"sequence": 3, "token": 5, "qa": 2}


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """Random task models written by transformers, heads with non-zero biases; an encoder."""
    torch.manual_seed(3)
    out = {}
    for task, name in THEIRS.items():
        config = transformers.BertConfig(**SMALL, num_labels=LABELS[task])
        model = getattr(transformers, name)(config).eval()
        with torch.no_grad():
            for param_name, param in model.named_parameters():
                if param_name.startswith(("classifier", "qa_outputs")):
                    param.add_(torch.randn_like(param) * 0.1)
        out[task] = tmp_path_factory.mktemp(task)
        model.save_pretrained(out[task])
    out["encoder"] = tmp_path_factory.mktemp("encoder")
    transformers.BertModel(transformers.BertConfig(**SMALL)).save_pretrained(out["encoder"])
    return out


def _theirs(task, folder):
    cls = getattr(transformers, THEIRS[task])
    return cls.from_pretrained(str(folder), attn_implementation="eager").eval()


def _targets(task, ids, mask):
    if task == "sequence":
        return {"labels": torch.tensor([2, 0, -100])}
    if task == "token":
        generator = torch.Generator().manual_seed(1)
        labels = torch.randint(0, LABELS[task], ids.shape, generator=generator)
        labels[mask == 0] = -100
        labels[:, 0] = -100
        return {"labels": labels}
    # the last row's answer is "not in this window": position seq, ignored
    seq = ids.shape[1]
    return {"start_positions": torch.tensor([3, 5, seq]),
            "end_positions": torch.tensor([6, 5, seq])}


@pytest.mark.parametrize("task", list(OURS))
def test_equals_transformers(task, folders):
    ids, mask, segments = padded_batch(SMALL["vocab_size"], lengths=(14, 9, 5))
    ours = OURS[task].from_pretrained(folders[task])
    theirs = _theirs(task, folders[task])
    targets = _targets(task, ids, mask)
    with torch.no_grad():
        a = ours(ids, attention_mask=mask, token_type_ids=segments, **targets)
        b = theirs(ids, attention_mask=mask, token_type_ids=segments, **targets)
    names = ("start_logits", "end_logits") if task == "qa" else ("logits",)
    for name in names:
        mine, ref = getattr(a, name), getattr(b, name)
        assert mine.shape == ref.shape
        real = mask.bool() if mine.dim() >= 2 and task != "sequence" else slice(None)
        assert (mine[real] - ref[real]).abs().max() < 1e-5, name
    assert abs(a.loss.item() - b.loss.item()) < 1e-5
    assert a.loss.item() > 0


def test_segment_ids_matter(folders):
    """A pair classifier reads the segment IDs: zeroing them changes the scores."""
    ids, mask, segments = padded_batch(SMALL["vocab_size"], lengths=(14, 9, 5))
    model = cl.BertForSequenceClassification.from_pretrained(folders["sequence"])
    with torch.no_grad():
        with_segments = model(ids, mask, segments).logits
        without = model(ids, mask).logits
    assert (with_segments - without).abs().max() > 1e-4


def test_qa_loss_is_mean_of_start_and_end(folders):
    ids, mask, segments = padded_batch(SMALL["vocab_size"], lengths=(14, 9, 5))
    model = cl.BertForQuestionAnswering.from_pretrained(folders["qa"])
    start, end = torch.tensor([1, 2, 3]), torch.tensor([4, 2, 3])
    with torch.no_grad():
        out = model(ids, mask, segments, start_positions=start, end_positions=end)
    ce = torch.nn.functional.cross_entropy
    expected = (ce(out.start_logits, start) + ce(out.end_logits, end)) / 2
    assert abs(out.loss.item() - expected.item()) < 1e-6


@pytest.mark.parametrize("task", list(OURS))
def test_save_pretrained_read_by_transformers(task, folders, tmp_path):
    ids, mask, segments = padded_batch(SMALL["vocab_size"], lengths=(14, 9, 5))
    ours = OURS[task].from_pretrained(folders[task])
    with torch.no_grad():  # changed weights, so that the reference cannot just be re-read
        getattr(ours, ours.head).bias.add_(0.5)
        ours.bert.encoder.layers[0].attention.query.weight.mul_(1.1)
    ours.save_pretrained(tmp_path)
    theirs = _theirs(task, tmp_path)
    again = OURS[task].from_pretrained(tmp_path)
    with torch.no_grad():
        a, b, c = (m(ids, attention_mask=mask, token_type_ids=segments) for m in
                   (ours, theirs, again))
    name = "start_logits" if task == "qa" else "logits"
    assert (getattr(a, name) - getattr(b, name)).abs().max() < 1e-5
    assert torch.equal(getattr(a, name), getattr(c, name))
    assert theirs.config.num_labels == LABELS[task]


def test_encoder_only_checkpoint_gets_a_new_head(folders):
    with pytest.warns(UserWarning, match="no classifier"):
        model = cl.BertForTokenClassification.from_pretrained(folders["encoder"], num_labels=7)
    assert model.classifier.weight.shape == (7, SMALL["hidden_size"])
    assert torch.all(model.classifier.bias == 0)
    assert 0.01 < model.classifier.weight.std().item() < 0.03  # normal, std 0.02
    # the encoder itself was loaded: it equals transformers' encoder
    ids, mask, segments = padded_batch(SMALL["vocab_size"], lengths=(14, 9, 5))
    ref = transformers.BertModel.from_pretrained(str(folders["encoder"]),
                                                 attn_implementation="eager").eval()
    with torch.no_grad():
        ours = model.bert(ids, mask, segments).last_hidden_state
        theirs = ref(ids, attention_mask=mask, token_type_ids=segments).last_hidden_state
    assert (ours - theirs)[mask.bool()].abs().max() < 1e-5


def test_minilm_loads_with_new_heads():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = cl.BertForSequenceClassification.from_pretrained("minilm", num_labels=2)
    assert any("no classifier" in str(w.message) for w in caught)
    assert model.bert.pooler is not None and model.num_labels == 2


def test_num_labels_must_match_a_saved_head(folders):
    with pytest.raises(ValueError, match="head for 3 labels, not num_labels=4"):
        cl.BertForSequenceClassification.from_pretrained(folders["sequence"], num_labels=4)


@pytest.mark.parametrize("task, targets, message", [
    ("sequence", {"labels": torch.tensor([0, 3, 1])}, r"labels must be in 0\.\.2"),
    ("sequence", {"labels": torch.tensor([[0], [1], [1]])}, r"must have shape \(3,\)"),
    ("sequence", {"labels": torch.tensor([0.0, 1.0, 1.0])}, "whole-number"),
    ("token", {"labels": torch.zeros(3, 13, dtype=torch.long)}, r"shape \(3, 14\)"),
    ("token", {"labels": torch.full((3, 14), -1)}, r"labels must be in 0\.\.4"),
    ("qa", {"start_positions": torch.tensor([0, 1, 15]), "end_positions": torch.tensor([1, 1, 15])},
     "past the input"),
    ("qa", {"start_positions": torch.tensor([0, 1, -2]), "end_positions": torch.tensor([1, 1, 2])},
     "past the input"),
    ("qa", {"start_positions": torch.tensor([4, 1, 2]), "end_positions": torch.tensor([2, 1, 2])},
     "before its start"),
    ("qa", {"start_positions": torch.tensor([4, 1, 2])}, "both"),
    ("qa", {"start_positions": torch.tensor([4, 1]), "end_positions": torch.tensor([4, 1])},
     r"shape \(3,\)"),
])
def test_bad_labels_are_refused(task, targets, message, folders):
    ids, mask, segments = padded_batch(SMALL["vocab_size"], lengths=(14, 9, 5))
    model = OURS[task].from_pretrained(folders[task])
    with pytest.raises(ValueError, match=message):
        model(ids, mask, segments, **targets)


def test_num_labels_is_checked():
    with pytest.raises(ValueError, match="num_labels must be an int of at least 2"):
        cl.BertForTokenClassification(cl.BertConfig.tiny(), num_labels=1)
    with pytest.raises(ValueError, match="2 outputs"):
        cl.BertForQuestionAnswering(cl.BertConfig.tiny(), num_labels=3)


def test_qa_from_pretrained_refuses_other_label_counts(folders):
    with pytest.raises(ValueError, match="2 outputs"):
        cl.BertForQuestionAnswering.from_pretrained(folders["encoder"], num_labels=3)
