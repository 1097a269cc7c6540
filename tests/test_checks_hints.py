"""The hints say what the mistake is (issue 19): no "are sizes written into your code?" when
nothing is, no "not a percent" for a count, no "before it found the missing tensor" when the
loader never looked; and mistakes that used to get only "wrong values" are named."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

import course_lib as cl
from course_kit.checks import attention, classify, layers, pretrained, pretraining


def failed(report) -> str:
    assert not report.passed, str(report)
    return "\n".join(report.failed_points)


def weights(q, k, mask, *, after=False, rows=False, invert=False, dim=-1):
    scores = q @ k.T / math.sqrt(q.shape[-1])  # (seq, seq)
    if mask is not None and not after:
        keep = ~mask if invert else mask
        keep = keep[:, None] if rows else keep[None, :]
        scores = scores.masked_fill(~keep, -1e9)
    result = torch.softmax(scores, dim=dim)
    return result.masked_fill(~mask[None, :], 0.0) if mask is not None and after else result


@pytest.mark.parametrize(("variant", "words"), [
    ({"after": True}, "after the softmax"),
    ({"rows": True}, "applied to the queries"),
    ({"invert": True}, "the mask is inverted"),
])
def test_attention_mask_mistakes_are_named_and_not_blamed_on_sizes(variant, words):
    text = failed(attention.check_attention_weights(
        lambda q, k, mask: weights(q, k, mask, **variant)))
    assert words in text
    assert "sizes written" not in text


def test_transposed_weights_in_one_head_are_named():
    def one_head(q, k, v, mask):
        w = weights(q, k, mask)
        return w.T @ v, w

    assert "weights.T @ v" in failed(attention.check_one_head(one_head))


def test_softmax_over_the_wrong_axis_in_multi_head_attention_is_named():
    def multi_head(x, attn, keep):
        heads = attn.num_heads
        q, k, v = (layer(x).unflatten(-1, (heads, -1)).transpose(1, 2)
                   for layer in (attn.query, attn.key, attn.value))
        scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
        scores = scores.masked_fill(~keep[:, None, None, :], torch.finfo(scores.dtype).min)
        context = torch.softmax(scores, dim=-2) @ v  # the wrong axis
        return attn.output(context.transpose(1, 2).flatten(2))

    assert "wrong axis" in failed(attention.check_multi_head_attention(multi_head))


def test_erf_of_half_x_is_named():
    assert "erf(x / 2)" in failed(layers.check_gelu(
        lambda x: 0.5 * x * (1 + torch.erf(x / 2))))


def test_attention_norm_used_twice_is_named():
    def encoder_layer(x, layer, mask):
        h = layer.attention_norm(x + layer.attention(x, mask)[0])
        return layer.attention_norm(h + layer.feed_forward(h))

    assert "attention_norm was used after" in failed(layers.check_encoder_layer(encoder_layer))


def test_a_count_is_not_called_a_percent():
    def held_out_count(train_x, train_y, test_x, test_y):
        centers = torch.stack([train_x[train_y == c].mean(0) for c in range(4)])
        return int((torch.cdist(test_x, centers).argmin(1) == test_y).sum())

    text = failed(classify.check_held_out_accuracy(held_out_count))
    assert "number of right answers" in text and "percent" not in text


def test_a_loader_that_never_checks_for_missing_tensors_is_not_said_to_have_found_one():
    def loader(model, checkpoint):
        parameters = dict(model.named_parameters())
        for name, tensor in checkpoint.items():
            ours = cl.checkpoint_name_to_ours(name)
            if ours in parameters:
                if parameters[ours].shape != tensor.shape:
                    raise ValueError(f"{name} is mis-shaped")
        with torch.no_grad():
            for name, tensor in checkpoint.items():
                ours = cl.checkpoint_name_to_ours(name)
                if ours in parameters:
                    parameters[ours].copy_(tensor)

    text = failed(pretrained.check_load_weights(loader))
    assert "never noticed the missing tensor" in text
    assert "before it found the missing" not in text


def test_masked_lm_loss_mistakes_are_named():
    def without_log(logits, labels):
        chosen = labels != -100
        probs = logits.softmax(-1)[chosen]
        return -probs.gather(1, labels[chosen][:, None]).mean()

    def wrong_axis(logits, labels):
        chosen = labels != -100
        log_probs = logits.log_softmax(dim=1)[chosen]
        return F.nll_loss(log_probs, labels[chosen])

    assert "log is missing" in failed(pretraining.check_masked_lm_loss(without_log))
    assert "wrong axis" in failed(pretraining.check_masked_lm_loss(wrong_axis))
