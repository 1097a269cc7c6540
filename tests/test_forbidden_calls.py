"""An exercise's rules hold: an answer that calls what the exercise forbids (a torch built-in, an
nn module, course_lib's own version, the module it was given) fails by name, however it is
written; a right answer written any other way (einsum, permute, a softmax by hand,
var(unbiased=False), direct table indexing...) still passes."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.functional import gelu as imported_gelu

import course_kit.explorer as kit_explorer
import course_lib as cl
from course_kit.checks import (
    attention,
    classify,
    embeddings,
    encoder,
    explorer,
    layers,
    pretrained,
    pretraining,
    speed,
    tokens,
    where_next,
)
from course_kit.checks.calling import call_learner
from course_kit.checks.report import CheckReport
from course_kit.checks.rules import exercise, shown
from course_lib.tokenizer import strip_accents

# ---- answers that call a forbidden function ---------------------------------------------------


def int8_by_the_library(x, weight, bias):
    from course_lib.inference import QuantizedDense

    linear = nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        linear.weight.copy_(weight)
        linear.bias.copy_(bias)
    return QuantizedDense.of(linear, onednn=False)(x)


def int8_with_the_library_quantizers(x, weight, bias):
    from course_lib.inference import quantize_per_token, quantize_weight

    qw, w_scale = quantize_weight(weight)
    qx, scale, zero = quantize_per_token(x)
    return ((qx.double() - zero) @ qw.double().t()).float() * scale * w_scale + bias


def check_unpack(unpack):
    """check_pack_unpack with a right pack: only the unpack is the answer under test."""
    return speed.check_pack_unpack(lambda hidden, mask: hidden[mask.bool()], unpack)


check_unpack.forbids = speed.check_pack_unpack.forbids


def unpack_by_the_library(packed, mask):
    from course_lib.inference import TokenLayout

    keep = mask.bool()
    rows = keep.reshape(-1).nonzero().squeeze(1)
    return TokenLayout(*keep.shape, packed=True, rows=rows).unpack(packed)


def layer_norm_module(x, weight, bias, eps):
    norm = nn.LayerNorm(x.shape[-1], eps=eps)
    with torch.no_grad():
        norm.weight.copy_(weight)
        norm.bias.copy_(bias)
    return norm(x)


def loader_by_the_library(model, checkpoint):
    cl.load_checkpoint_into(model, checkpoint)


def mha_with_library_helpers(x, attn, keep):
    heads = attn.num_heads
    q, k, v = (cl.split_heads(layer(x), heads) for layer in (attn.query, attn.key, attn.value))
    context = F.scaled_dot_product_attention(q, k, v, attn_mask=keep[:, None, None, :])
    return attn.output(cl.merge_heads(context))


def features_by_the_library(hidden, mask, pooling):
    if pooling == "cls":
        return hidden[:, 0]
    pool = cl.global_average_pooling if pooling == "average" else cl.global_max_pooling
    return pool(hidden, mask)


def gelu_imported_by_name(x):
    return imported_gelu(x)


MINILM_TOKENIZER = cl.load_tokenizer("minilm")

FORBIDDEN = [
    (layers.check_gelu, gelu_imported_by_name, "F.gelu"),
    (layers.check_gelu, F.gelu, "F.gelu"),
    (layers.check_gelu, lambda x: F.gelu(x), "F.gelu"),
    (layers.check_gelu, lambda x: torch.nn.functional.gelu(x), "F.gelu"),
    (layers.check_gelu, nn.GELU(), "nn.GELU"),
    (layers.check_gelu, lambda x: nn.GELU()(x), "nn.GELU"),
    (layers.check_gelu, cl.gelu, "cl.gelu"),
    (layers.check_gelu, lambda x: cl.gelu(x), "cl.gelu"),
    (layers.check_feed_forward, lambda x, ff: ff.output(F.gelu(ff.intermediate(x))), "F.gelu"),
    (layers.check_feed_forward, lambda x, ff: ff.output(cl.gelu(ff.intermediate(x))), "cl.gelu"),
    (embeddings.check_layer_norm,
     lambda x, w, b, eps: F.layer_norm(x, (x.shape[-1],), w, b, eps), "F.layer_norm"),
    (embeddings.check_layer_norm,
     lambda x, w, b, eps: torch.layer_norm(x, (x.shape[-1],), w, b, eps), "torch.layer_norm"),
    (embeddings.check_layer_norm, layer_norm_module, "nn.LayerNorm"),
    (embeddings.check_embeddings, lambda ids, segments, emb: emb(ids, segments),
     "cl.BertEmbeddings"),
    (attention.check_attention_weights, cl.attention_weights, "cl.attention_weights"),
    (attention.check_attention_weights, lambda q, k, mask: cl.attention_weights(q, k, mask),
     "cl.attention_weights"),
    (attention.check_attention_weights,
     lambda q, k, mask: cl.scaled_dot_product_attention(q, k, torch.eye(len(k)), mask)[0],
     "cl.scaled_dot_product_attention"),
    (attention.check_one_head, lambda q, k, v, mask: cl.scaled_dot_product_attention(
        q, k, v, mask), "cl.scaled_dot_product_attention"),
    (attention.check_one_head, lambda q, k, v, mask: (
        F.scaled_dot_product_attention(q, k, v, attn_mask=mask), cl.attention_weights(q, k, mask)),
     "F.scaled_dot_product_attention"),
    (attention.check_split_heads, cl.split_heads, "cl.split_heads"),
    (attention.check_merge_heads, lambda x: cl.merge_heads(x), "cl.merge_heads"),
    (attention.check_multi_head_attention, mha_with_library_helpers, "cl.split_heads"),
    (attention.check_multi_head_attention, lambda x, attn, keep: attn(
        x, keep[:, None, None, :])[0], "cl.MultiHeadSelfAttention"),
    (layers.check_feed_forward, lambda x, ff: ff(x), "cl.FeedForward"),
    (encoder.check_masked_max_pooling, cl.global_max_pooling, "cl.global_max_pooling"),
    (encoder.check_parameter_count, lambda config: sum(cl.count_bert_parameters(config).values()),
     "cl.count_bert_parameters"),
    (pretrained.check_name_map, cl.checkpoint_name_to_ours, "cl.checkpoint_name_to_ours"),
    (pretrained.check_name_map, lambda name: cl.checkpoint_name_to_ours(name),
     "cl.checkpoint_name_to_ours"),
    (pretrained.check_load_weights, loader_by_the_library, "cl.load_checkpoint_into"),
    (pretrained.check_cosine_similarity_matrix,
     lambda v: F.cosine_similarity(v[:, None], v[None], dim=-1), "F.cosine_similarity"),
    (pretrained.check_cosine_similarity_matrix,
     lambda v: torch.cosine_similarity(v[:, None], v[None], dim=-1), "torch.cosine_similarity"),
    (pretraining.check_causal_mask, cl.causal_mask, "cl.causal_mask"),
    (pretraining.check_mask_tokens, cl.mask_tokens, "cl.mask_tokens"),
    (pretraining.check_masked_lm_loss, cl.masked_lm_loss, "cl.masked_lm_loss"),
    (classify.check_sentence_features, features_by_the_library, "cl.global_average_pooling"),
    (tokens.check_wordpiece, lambda word, vocab: MINILM_TOKENIZER.wordpiece(word),
     "cl.WordPieceTokenizer.wordpiece"),
    (explorer.check_rollout, lambda attentions: torch.as_tensor(
        kit_explorer.attention_rollout(attentions)[-1]), "kit.explorer.attention_rollout"),
    (where_next.check_uncased_normalize, lambda text: strip_accents(text.lower()),
     "cl.tokenizer.strip_accents"),
    (speed.check_int8_linear, int8_by_the_library, "cl.inference.QuantizedDense.of"),
    (speed.check_int8_linear, int8_with_the_library_quantizers, "cl.inference.quantize_weight"),
    (speed.check_int8_linear, int8_with_the_library_quantizers,
     "cl.inference.quantize_per_token"),
    (check_unpack, unpack_by_the_library, "cl.inference.TokenLayout.unpack"),
]


@pytest.mark.parametrize(("check", "answer", "name"), FORBIDDEN,
                         ids=[f"{check.__name__}-{name}" for check, _, name in FORBIDDEN])
def test_a_forbidden_call_never_passes_and_is_named(check, answer, name):
    report = check(answer)
    assert not report.passed, f"{name} passed {check.__name__}:\n{report}"
    said = [point for point in report.failed_points if point.startswith(f"you called `{name}`")]
    assert said, f"{check.__name__} does not name {name}:\n{report}"
    assert name in check.forbids


def given_attention(x, attn, keep):
    return attn(x, keep[:, None, None, :])[0]


@pytest.mark.parametrize(("check", "answer"), [
    (layers.check_feed_forward, lambda x, ff: ff(x)),
    (attention.check_multi_head_attention, given_attention),
    (layers.check_gelu, nn.GELU()),
], ids=["ff(x)", "attention(x)", "nn.GELU"])
def test_only_the_call_written_is_named_not_what_it_calls_in_turn(check, answer):
    named = [p for p in check(answer).failed_points if p.startswith("you called")]
    assert len(named) == 1, named  # the module, not the cl.gelu or cl.split_heads inside it


# ---- right answers written another way --------------------------------------------------------


def gelu_by_erfc(x):
    return 0.5 * x * torch.special.erfc(-x / math.sqrt(2.0))


def layer_norm_by_hand(x, weight, bias, eps):
    centred = x - x.mean(dim=-1, keepdim=True)
    return centred / torch.sqrt(x.var(dim=-1, keepdim=True, unbiased=False) + eps) * weight + bias


def layer_norm_squares(x, weight, bias, eps):
    centred = x - x.mean(-1, keepdim=True)
    return weight * centred * torch.rsqrt((centred ** 2).mean(-1, keepdim=True) + eps) + bias


def embeddings_by_indexing(ids, segments, emb):
    positions = torch.arange(ids.shape[1])  # (seq,)
    summed = (emb.word_embeddings.weight[ids] + emb.position_embeddings.weight[positions]
              + emb.token_type_embeddings.weight[segments])  # (batch, seq, hidden)
    return emb.layer_norm(summed)


def softmax_by_hand(scores, dim=-1):
    shifted = (scores - scores.max(dim=dim, keepdim=True).values).exp()
    return shifted / shifted.sum(dim=dim, keepdim=True)


def weights_by_einsum(q, k, mask):
    scores = torch.einsum("qd,kd->qk", q, k) / q.shape[-1] ** 0.5  # (seq, seq)
    if mask is not None:
        scores = torch.where(mask[None, :], scores, torch.tensor(-1e30))
    return softmax_by_hand(scores)


def one_head_by_einsum(q, k, v, mask):
    weights = weights_by_einsum(q, k, mask)
    return torch.einsum("qk,kd->qd", weights, v), weights


def split_by_permute(x, num_heads):
    batch, seq, hidden = x.shape
    return x.reshape(batch, seq, num_heads, hidden // num_heads).permute(0, 2, 1, 3)


def merge_by_permute(x):
    return x.permute(0, 2, 1, 3).flatten(2)


def mha_by_hand(x, attn, keep):
    heads = attn.num_heads
    q, k, v = (split_by_permute(layer(x), heads) for layer in (attn.query, attn.key, attn.value))
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])  # (batch, heads, seq, seq)
    scores = scores.masked_fill(~keep[:, None, None, :], float("-inf"))
    return attn.output(merge_by_permute(softmax_by_hand(scores) @ v))


def max_pool_by_hand(sequence, mask):
    return sequence.masked_fill(mask[..., None] == 0, float("-inf")).amax(dim=1)


def features_by_hand(hidden, mask, pooling):
    if pooling == "cls":
        return hidden[:, 0]
    if pooling == "max":
        return max_pool_by_hand(hidden, mask)
    keep = mask[..., None].to(hidden.dtype)  # (batch, seq, 1)
    return (hidden * keep).sum(dim=1) / keep.sum(dim=1)


def parameters_by_hand(config):
    h, i = config.hidden_size, config.intermediate_size
    embedding = (config.vocab_size + config.max_position_embeddings + config.type_vocab_size) * h
    layer = 4 * (h * h + h) + (h * i + i) + (i * h + h) + 2 * 2 * h
    return embedding + 2 * h + config.num_layers * layer


def loader_by_hand(model, checkpoint):
    """Uses cl.checkpoint_name_to_ours, which the exercise allows; checks everything first."""
    parameters = dict(model.named_parameters())
    plan = {}
    for name, tensor in checkpoint.items():
        ours = cl.checkpoint_name_to_ours(name)
        if ours is None or ours not in parameters:  # no place for it: set aside
            continue
        if parameters[ours].shape != tensor.shape:
            raise ValueError(f"{name} does not fit the model")
        plan[ours] = tensor
    for ours in parameters:
        if ours not in plan:
            raise ValueError(f"{ours} is missing from the checkpoint")
    with torch.no_grad():
        for ours, tensor in plan.items():
            parameters[ours].copy_(tensor)


def cosine_by_normalize(vectors):
    unit = F.normalize(vectors, dim=1)
    return unit @ unit.T


def cosine_by_hand(vectors):
    lengths = vectors.pow(2).sum(dim=1).sqrt()  # (n,)
    return (vectors @ vectors.T) / (lengths[:, None] * lengths[None, :])


def loss_by_hand(logits, labels):
    chosen = labels != -100  # (batch, seq)
    log_probs = logits.log_softmax(dim=-1)[chosen]  # (chosen, vocab)
    return -log_probs.gather(1, labels[chosen][:, None]).mean()


RIGHT = [
    (layers.check_gelu, lambda x: 0.5 * x * (1 + torch.erf(x / math.sqrt(2.0)))),
    (layers.check_gelu, gelu_by_erfc),
    (layers.check_feed_forward, lambda x, ff: ff.output(gelu_by_erfc(ff.intermediate(x)))),
    (embeddings.check_layer_norm, layer_norm_by_hand),
    (embeddings.check_layer_norm, layer_norm_squares),
    (embeddings.check_embeddings, embeddings_by_indexing),
    (attention.check_attention_weights, weights_by_einsum),
    (attention.check_one_head, one_head_by_einsum),
    (attention.check_split_heads, split_by_permute),
    (attention.check_merge_heads, merge_by_permute),
    (attention.check_multi_head_attention, mha_by_hand),
    (encoder.check_masked_max_pooling, max_pool_by_hand),
    (encoder.check_parameter_count, parameters_by_hand),
    (pretrained.check_load_weights, loader_by_hand),
    (pretrained.check_cosine_similarity_matrix, cosine_by_normalize),
    (pretrained.check_cosine_similarity_matrix, cosine_by_hand),
    (pretraining.check_causal_mask,
     lambda n: torch.arange(n)[:, None] >= torch.arange(n)[None, :]),
    (pretraining.check_causal_mask, lambda n: torch.ones(n, n).tril().bool()),
    (pretraining.check_masked_lm_loss, loss_by_hand),
    (pretraining.check_masked_lm_loss, lambda logits, labels: F.cross_entropy(
        logits.transpose(1, 2), labels, ignore_index=-100)),
    (classify.check_sentence_features, features_by_hand),
]


@pytest.mark.parametrize(("check", "answer"), RIGHT,
                         ids=[f"{check.__name__}-{answer.__name__}" for check, answer in RIGHT])
def test_a_right_answer_written_another_way_passes(check, answer):
    report = check(answer)
    assert report.passed, str(report)


def test_the_checkers_own_references_are_not_the_learners_calls():
    """Outside the learner's code the watched functions work and nothing is noted."""
    report = layers.check_gelu(gelu_by_erfc)
    assert report.passed and torch.equal(F.gelu(torch.ones(2)), F.gelu(torch.ones(2)))
    assert F.gelu.__module__ != "course_kit.checks.rules", "a recorder was left in place"
    assert nn.GELU.forward.__module__ == "torch.nn.modules.activation"


def test_a_checker_run_from_inside_the_learners_code_still_tells_theirs_from_its_own():
    """07b runs each checker within its run of the learner's package: the checker's references
    (F.gelu, cl.FeedForward...) are still not the learner's calls, and the learner's still are."""
    from course_kit.checks.calling import run_learner

    right = run_learner(layers.check_gelu, gelu_by_erfc).result
    assert right.passed, str(right)
    wrong = run_learner(layers.check_gelu, lambda x: F.gelu(x)).result
    assert "you called `F.gelu`" in " ".join(wrong.failed_points), str(wrong)


def test_a_declared_rule_names_what_to_write_it_from():
    @exercise(forbids=("torch.nn.functional.relu",), write_from="`torch.clamp`")
    def check_relu(relu):
        report = CheckReport("relu")
        call_learner(report, "relu(x)", relu, torch.tensor([-1.0, 2.0]))
        report.ok("ran")
        return report

    failed = check_relu(lambda x: F.relu(x)).failed_points
    assert failed == ["you called `F.relu`: this exercise asks you to write it from "
                      "`torch.clamp`"]
    assert check_relu(lambda x: x.clamp(min=0)).passed
    assert shown("torch.nn.functional.gelu") == "F.gelu" and shown("course_lib.gelu") == "cl.gelu"


def test_the_capstone_counts_a_piece_with_a_forbidden_call_as_course_libs(tmp_path):
    """07b uses a learner's piece only when its checker passes: a GELU that calls F.gelu is
    not "yours"."""
    from course_kit import capstone

    package = tmp_path / "my_bert"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "layers.py").write_text(
        "import torch.nn.functional as F\n\n\ndef gelu(x):\n    return F.gelu(x)\n")
    pieces, lines = capstone.pick_pieces(capstone.import_my_bert(tmp_path),
                                         cl.load_tokenizer("minilm"))
    gelu_line = next(line for line in lines if "GELU" in line)
    assert gelu_line.startswith("course_lib") and not pieces.mine["gelu"], gelu_line
