"""Notebook 07b's checker: ``load_my_bert(pieces)`` returns a cl.BertModel running the learner's
pieces and holding MiniLM's weights."""

from __future__ import annotations

import torch

from course_lib.model import BertModel
from course_lib.pretrained import load_pretrained, load_tokenizer

from .calling import call_learner
from .report import CheckReport, recorded

SENTENCE = "The cat sat on the mat because it was tired."
TOLERANCE = 1e-5
LOAD_SECONDS = 120.0  # reading the shipped checkpoint takes a few seconds on a slow machine


@recorded
def check_load_my_bert(load_my_bert, pieces) -> CheckReport:
    """``load_my_bert(pieces)``: ``capstone.build_bert(config, pieces)`` with the shipped MiniLM
    weights loaded by ``pieces.load_weights``, in eval mode; its output must equal course_lib's
    MiniLM."""
    report = CheckReport("your BERT with MiniLM's weights")
    ran, model = call_learner(report, "load_my_bert(pieces)", load_my_bert, pieces,
                              seconds=LOAD_SECONDS)
    if not ran:
        return report
    if not isinstance(model, BertModel):
        report.fail(f"it should return the cl.BertModel it built, got {type(model).__name__}")
        return report
    if getattr(model, "pieces", None) is not pieces:
        report.fail("it returned course_lib's BertModel without your pieces in it: build it "
                    "with capstone.build_bert(config, pieces), so that your pieces run")
        return report
    report.ok("it returned a cl.BertModel running your pieces")
    if model.training:
        report.fail("the model is in training mode: return model.eval()")
    else:
        report.ok("in eval mode")
    if model.config.num_layers != 6 or model.config.hidden_size != 384:
        report.fail(f"its config has {model.config.num_layers} layers of width "
                    f"{model.config.hidden_size}; MiniLM's has 6 of 384: use the config "
                    "read_pretrained returns")
        return report
    ids = torch.tensor([list(load_tokenizer("minilm").encode(SENTENCE).input_ids)])
    with torch.no_grad():
        expected = load_pretrained("minilm")(ids).last_hidden_state
        ran, out = call_learner(report, "model(ids)", model, ids)
    if not ran:
        return report
    gap = (out.last_hidden_state - expected).abs().max().item()
    if gap < TOLERANCE:
        report.ok(f"its output equals course_lib's MiniLM (largest difference {gap:.1e})")
    else:
        report.fail(f"its output differs from course_lib's MiniLM by up to {gap:.3g}: were the "
                    "weights loaded (pieces.load_weights(model, checkpoint))?")
    return report
