"""The model that runs is the model the learner reads: an edit to any readable module changes
the output in every mode (training, eval, no_grad, inference_mode, with and without maps)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import torch

import course_lib as cl
from course_lib import attention, embeddings, layers

MODES = ["train", "eval", "no_grad", "inference_mode", "no_grad with maps"]


def _output(model: cl.BertModel, ids: torch.Tensor, mode: str) -> torch.Tensor:
    model.train(mode == "train")  # dropout is 0 in the config, so training mode is deterministic
    maps = mode.endswith("maps")
    if mode in ("train", "eval"):
        return model(ids, output_attentions=maps).last_hidden_state.detach()
    context = torch.inference_mode() if mode == "inference_mode" else torch.no_grad()
    with context:
        return model(ids, output_attentions=maps).last_hidden_state.clone()


@pytest.fixture
def model_and_ids():
    torch.manual_seed(0)
    config = cl.BertConfig.tiny(hidden_dropout=0.0, attention_dropout=0.0)
    return cl.BertModel(config), torch.randint(1, 120, (2, 9))


def _pre_ln_layer(self, x, mask=None, output_attentions=False):
    """A learner's rewrite: pre-LN instead of BERT's post-LN."""
    attended, weights = self.attention(self.attention_norm(x), mask, output_attentions)
    x = x + attended
    return x + self.feed_forward(self.output_norm(x)), weights


def _silent_attention(self, x, mask=None, output_attentions=False):
    """A learner's broken attention: returns zeros."""
    batch, seq, _ = x.shape
    weights = x.new_zeros(batch, self.num_heads, seq, seq) if output_attentions else None
    return torch.zeros_like(x), weights


EDITS = {
    "EncoderLayer.forward as pre-LN": (layers.EncoderLayer, "forward", _pre_ln_layer),
    "MultiHeadSelfAttention.forward returns zeros":
        (attention.MultiHeadSelfAttention, "forward", _silent_attention),
    "FeedForward.forward doubled":
        (layers.FeedForward, "forward", lambda self, x: 2 * self.output(
            self.activation(self.intermediate(x)))),
    "BertEmbeddings.forward without LayerNorm":
        (embeddings.BertEmbeddings, "forward",
         lambda self, ids, segments=None: self.word_embeddings(ids)),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("edit", list(EDITS))
def test_an_edited_module_changes_the_output(model_and_ids, monkeypatch, edit, mode):
    model, ids = model_and_ids
    before = _output(model, ids, mode)
    owner, name, replacement = EDITS[edit]
    monkeypatch.setattr(owner, name, replacement)
    after = _output(model, ids, mode)
    assert (after - before).abs().max().item() > 1e-3, f"{edit} had no effect in {mode}"


@pytest.mark.parametrize("mode", MODES)
def test_a_replaced_activation_changes_the_output(model_and_ids, mode):
    model, ids = model_and_ids
    before = _output(model, ids, mode)
    for layer in model.encoder.layers:
        layer.feed_forward.activation = torch.relu
    assert (_output(model, ids, mode) - before).abs().max().item() > 1e-4


def test_the_model_calls_the_library_gelu(monkeypatch):
    """No decoy: replacing ``gelu`` in ``layers`` (before a model is built) is what a new model
    calls."""
    config = cl.BertConfig.tiny(hidden_dropout=0.0, attention_dropout=0.0)
    torch.manual_seed(0)
    ids = torch.randint(1, 120, (2, 9))
    torch.manual_seed(1)
    before = cl.BertModel(config).eval()(ids).last_hidden_state
    monkeypatch.setattr(layers, "gelu", lambda x: x)  # the learner's "activation"
    torch.manual_seed(1)
    after = cl.BertModel(config).eval()(ids).last_hidden_state
    assert (after - before).abs().max().item() > 1e-4


def test_gelu_equals_its_formula():
    x = torch.linspace(-6, 6, 1001)
    assert (cl.gelu(x) - cl.gelu_formula(x)).abs().max().item() < 1e-6


def test_the_model_has_no_hidden_engine():
    """BertModel.forward is embeddings -> encoder -> pooler: no dispatch, no private torch API.

    Reads the code of model.py (names, attributes and imports; not its docstrings)."""
    tree = ast.parse((Path(cl.__file__).parent / "model.py").read_text())
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    names |= {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    names |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    for forbidden in ("_global_forward_hooks", "_forward_hooks", "_version", "inference", "fast",
                      "InferenceBert", "precision", "padding_free", "autocast", "inference_mode"):
        assert forbidden not in names, forbidden
