"""The shipped course-mlm checkpoint: loads by name (hashes checked), fills in blanks from both
sides, equals transformers, and works in the attention explorer."""

from __future__ import annotations

import shutil

import pytest
import torch

import course_kit as kit
import course_lib as cl
from course_kit import probes as kp
from course_lib import pretrained
from course_lib import pretraining as pt

COURSE_MLM_FOLDER = cl.course_file("models/course-mlm")  # shipped inside course_lib

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def course():
    return cl.BertForMaskedLM.from_pretrained("course-mlm"), cl.load_tokenizer("course-mlm")


def test_small_and_in_the_hugging_face_layout():
    names = {path.name for path in COURSE_MLM_FOLDER.iterdir()}
    assert {"config.json", "model.safetensors", "vocab.txt"} <= names
    size = sum(path.stat().st_size for path in COURSE_MLM_FOLDER.iterdir())
    assert size < 3_000_000


def test_fills_in_blanks_from_the_right(course):
    model, tok = course
    assert pt.fill_in_the_blank(model, tok, "every morning the [MASK] barked at the gate .")[0][0] \
        == "dog"
    accuracy = kp.probe_accuracy(model, tok)
    assert accuracy[("all", "right")] >= 0.9 and accuracy[("all", "left")] >= 0.9


def test_equals_transformers(course):
    transformers = pytest.importorskip("transformers")
    model, tok = course
    reference = transformers.BertForMaskedLM.from_pretrained(
        str(COURSE_MLM_FOLDER), attn_implementation="eager").eval()
    batch = tok.encode_batch(["the [MASK] quacked by the river .", "we learned that [MASK] is"])
    with torch.no_grad():
        ours = model(batch["input_ids"], batch["attention_mask"]).logits
        theirs = reference(**batch).logits
    keep = batch["attention_mask"].bool()
    assert (ours[keep] - theirs[keep]).abs().max() < 1e-5


def test_hash_is_checked(tmp_path, monkeypatch):
    copy = tmp_path / "course-mlm"
    shutil.copytree(COURSE_MLM_FOLDER, copy)
    data = bytearray((copy / "model.safetensors").read_bytes())
    data[-1] ^= 1  # one bit of one weight
    (copy / "model.safetensors").write_bytes(bytes(data))
    monkeypatch.setitem(pretrained.SHIPPED_MODELS, "course-mlm",
                        pretrained.ShippedModel(lambda: copy, pretrained.COURSE_MLM_SHA256))
    with pytest.raises(ValueError, match="SHA-256"):
        cl.BertForMaskedLM.from_pretrained("course-mlm")


def test_encoder_only_loading_and_explorer(course):
    model, tok = course
    encoder = cl.load_pretrained("course-mlm")  # the head set aside
    assert encoder.config.vocab_size == tok.vocab_size
    explorer = kit.AttentionExplorer(model.bert, tok, "late at night the [MASK] barked .")
    assert explorer.current_png().startswith(PNG_MAGIC)
    assert explorer.tokens[0] == "[CLS]" and "[MASK]" in explorer.tokens
    layers, heads = model.config.num_layers, model.config.num_heads
    assert explorer.maps.weights.shape[:2] == (layers, heads)
