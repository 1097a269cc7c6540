"""Unit tests of each model part on small configs."""

from __future__ import annotations

import math

import pytest
import torch

import course_lib as cl


@pytest.fixture
def tiny():
    return cl.BertConfig.tiny(vocab_size=120)


def test_config_presets():
    base = cl.BertConfig.base()
    assert (base.num_layers, base.num_heads, base.hidden_size, base.intermediate_size) == (
        12,
        12,
        768,
        3072,
    )
    assert (base.vocab_size, base.max_position_embeddings, base.type_vocab_size) == (30522, 512, 2)
    assert base.hidden_act == "gelu" and base.layer_norm_eps == 1e-12 and base.head_size == 64
    assert cl.BertConfig.from_hf_dict(base.to_hf_dict()) == base


def test_bert_base_parameter_count():
    parts = cl.count_bert_parameters(cl.BertConfig.base())
    with_pooler = cl.count_bert_parameters(cl.BertConfig.base(), with_pooler=True)
    print(
        f"BERT-base parameters: {parts['total']:,} without the pooler, "
        f"{with_pooler['total']:,} with it"
    )
    assert parts["total"] == 108_891_648
    assert with_pooler["total"] == 109_482_240
    assert cl.BertModel(cl.BertConfig.base()).num_parameters() == parts["total"]
    assert cl.BertModel(cl.BertConfig.base(), add_pooler=True).num_parameters() == 109_482_240


def test_random_init_follows_bert(tiny):
    torch.manual_seed(0)
    model = cl.BertModel(cl.BertConfig.tiny(vocab_size=5000, hidden_size=128, num_heads=4))
    weights = model.embeddings.word_embeddings.weight[1:]
    assert abs(weights.std().item() - 0.02) < 0.001 and abs(weights.mean().item()) < 0.001
    assert torch.all(model.embeddings.word_embeddings.weight[0] == 0)  # the [PAD] row
    layer = model.encoder.layers[0]
    assert torch.all(layer.attention.query.bias == 0)
    assert torch.all(layer.attention_norm.weight == 1) and torch.all(layer.attention_norm.bias == 0)


def test_same_seed_same_model(tiny):
    torch.manual_seed(3)
    a = cl.BertModel(tiny)
    torch.manual_seed(3)
    b = cl.BertModel(tiny)
    pairs = zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    assert all(torch.equal(x, y) for x, y in pairs)


def test_embeddings_sum_three_parts(tiny):
    torch.manual_seed(0)
    embeddings = cl.BertEmbeddings(tiny).eval()
    ids = torch.tensor([[5, 6, 7]])
    segments = torch.tensor([[0, 1, 1]])
    summed = (
        embeddings.word_embeddings.weight[ids[0]]
        + embeddings.position_embeddings.weight[:3]
        + embeddings.token_type_embeddings.weight[segments[0]]
    )
    expected = torch.nn.functional.layer_norm(
        summed, (64,), embeddings.layer_norm.weight, embeddings.layer_norm.bias, 1e-12
    )
    assert torch.allclose(embeddings(ids, segments)[0], expected, atol=1e-6)


def test_one_head_by_hand():
    torch.manual_seed(0)
    q, k, v = torch.randn(3, 5, 8).unbind(0)  # each (seq=5, d=8)
    out, weights = cl.scaled_dot_product_attention(q, k, v)
    scores = q @ k.T / math.sqrt(8)
    expected_weights = scores.exp() / scores.exp().sum(-1, keepdim=True)
    assert torch.allclose(weights, expected_weights, atol=1e-6)
    assert torch.allclose(out, expected_weights @ v, atol=1e-6)
    assert torch.allclose(weights.sum(-1), torch.ones(5))


def test_mask_hides_keys():
    torch.manual_seed(0)
    q, k, v = torch.randn(3, 1, 4, 8).unbind(0)
    mask = torch.tensor([True, True, False, False])[None, None, :]
    out, weights = cl.scaled_dot_product_attention(q, k, v, mask)
    assert torch.all(weights[..., 2:] == 0)
    alone, _ = cl.scaled_dot_product_attention(q, k[:, :2], v[:, :2])
    assert torch.allclose(out, alone, atol=1e-6)


def test_split_and_merge_heads_are_inverse():
    x = torch.randn(2, 7, 48)
    heads = cl.split_heads(x, 12)
    assert heads.shape == (2, 12, 7, 4)
    assert torch.equal(heads[:, 3], x[:, :, 12:16])  # head 3 owns dimensions 12..15
    assert torch.equal(cl.merge_heads(heads), x)


def test_multi_head_loop_equals_batched(tiny):
    torch.manual_seed(0)
    attention = cl.MultiHeadSelfAttention(tiny).eval()
    x = torch.randn(2, 6, 64)
    batched, weights = attention(x, output_attentions=True)
    heads = []
    for h in range(4):
        cols = slice(16 * h, 16 * (h + 1))
        q = x @ attention.query.weight[cols].T + attention.query.bias[cols]
        k = x @ attention.key.weight[cols].T + attention.key.bias[cols]
        v = x @ attention.value.weight[cols].T + attention.value.bias[cols]
        heads.append(cl.scaled_dot_product_attention(q, k, v)[0])
    looped = attention.output(torch.cat(heads, dim=-1))
    assert weights.shape == (2, 4, 6, 6)
    assert torch.allclose(batched, looped, atol=1e-5)


def test_fused_and_hand_written_attention_agree(tiny):
    torch.manual_seed(0)
    model = cl.BertModel(tiny).eval()
    ids = torch.randint(1, 120, (3, 9))
    mask = torch.ones_like(ids)
    mask[1, 6:] = 0
    with torch.no_grad():
        fused = model(ids, mask).last_hidden_state
        model.set_fused_attention(False)
        by_hand = model(ids, mask).last_hidden_state
    assert torch.allclose(fused, by_hand, atol=1e-5)


def test_gelu_by_hand_matches_torch():
    x = torch.linspace(-6, 6, 101)
    assert torch.allclose(cl.gelu(x), torch.nn.functional.gelu(x), atol=1e-6)


def test_encoder_layer_is_post_layer_norm(tiny):
    torch.manual_seed(0)
    layer = cl.EncoderLayer(tiny).eval()
    x = torch.randn(1, 5, 64)
    attended, _ = layer.attention(x)
    h = layer.attention_norm(x + attended)
    expected = layer.output_norm(h + layer.feed_forward(h))
    assert torch.allclose(layer(x)[0], expected, atol=1e-6)


def test_outputs_have_documented_shapes(tiny):
    torch.manual_seed(0)
    model = cl.BertModel(tiny, add_pooler=True).eval()
    out = model(torch.randint(0, 120, (2, 7)), output_attentions=True, output_hidden_states=True)
    assert out.last_hidden_state.shape == (2, 7, 64)
    assert len(out.attentions) == 2 and out.attentions[0].shape == (2, 4, 7, 7)
    assert len(out.hidden_states) == 3 and out.pooler_output.shape == (2, 64)
    plain = model(torch.randint(0, 120, (2, 7)))
    assert plain.attentions is None and plain.hidden_states is None


def test_training_mode_uses_dropout(tiny):
    torch.manual_seed(0)
    model = cl.BertModel(tiny)
    ids = torch.randint(0, 120, (1, 8))
    assert not torch.allclose(model(ids).last_hidden_state, model(ids).last_hidden_state)
    model.eval()
    assert torch.equal(model(ids).last_hidden_state, model(ids).last_hidden_state)


def test_name_map_covers_every_parameter():
    model = cl.BertModel(cl.BertConfig.tiny(), add_pooler=True)
    from course_lib.weights import ours_to_checkpoint_state

    for theirs in ours_to_checkpoint_state(model):
        assert cl.checkpoint_name_to_ours(theirs) in model.state_dict()
        assert cl.checkpoint_name_to_ours("bert." + theirs) == cl.checkpoint_name_to_ours(theirs)
    assert (
        cl.checkpoint_name_to_ours("bert.embeddings.LayerNorm.gamma")
        == "embeddings.layer_norm.weight"
    )
    assert cl.checkpoint_name_to_ours("cls.predictions.bias") is None


def test_one_name_table_maps_head_models_both_ways():
    from course_lib.names import head_model_name_to_ours

    model = cl.BertForPreTraining(cl.BertConfig.tiny(vocab_size=60))
    state = model.checkpoint_state()
    assert "cls.predictions.bias" in state and "cls.seq_relationship.weight" in state
    ours = model.state_dict()
    for theirs, tensor in state.items():
        assert torch.equal(ours[head_model_name_to_ours(theirs)], tensor), theirs
    assert len(state) == len(ours) - 1  # the tied decoder weight is the word-embedding matrix


# ---- a (batch, seq, seq) mask: one forward pass for padding and causal attention -------------


def _old_causal_loop(model, ids, keep):
    """The masked-LM heads' causal comparison as it was: embeddings and layers driven by hand."""
    mask = cl.causal_mask(ids.shape[1])[None, None] & keep.bool()[:, None, None, :]
    x = model.embeddings(ids)  # (batch, seq, hidden)
    for layer in model.encoder.layers:
        x = layer(x, mask)[0]
    return x


@pytest.mark.parametrize("fused", [True, False])
def test_pairwise_mask_is_honoured_by_both_attention_paths(tiny, fused):
    torch.manual_seed(1)
    model = cl.BertModel(tiny).eval()
    model.set_fused_attention(fused)
    ids = torch.randint(5, tiny.vocab_size, (2, 6))
    keep = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]])
    with torch.no_grad():
        flat = model(ids, keep).last_hidden_state
        square = model(ids, keep[:, None, :].expand(2, 6, 6)).last_hidden_state
        causal = cl.causal_mask(6)[None] & keep.bool()[:, None, :]  # (batch, seq, seq)
        causal[1, 4:, 4:] |= torch.eye(2, dtype=torch.bool)  # padding queries see themselves
        mine = model(ids, causal).last_hidden_state
        old = _old_causal_loop(model, ids, keep)
    real = keep.bool()
    assert torch.allclose(flat[real], square[real], atol=1e-6)
    assert torch.allclose(mine[real], old[real], atol=1e-6)
    assert not torch.allclose(mine[real], flat[real], atol=1e-4)  # causal really is different


def test_causal_heads_run_the_models_forward_pass(tiny):
    torch.manual_seed(2)
    model = cl.BertForMaskedLM(tiny, causal=True).eval()
    ids = torch.randint(5, tiny.vocab_size, (2, 5))
    keep = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
    with torch.no_grad():
        hidden = model(ids, keep).hidden_states
        old = _old_causal_loop(model.bert, ids, keep)
    assert torch.allclose(hidden[keep.bool()], old[keep.bool()], atol=1e-6)


@pytest.mark.parametrize("mask, rule", [
    (torch.ones(1, 3, 4), r"shape \(batch, seq, seq\) \(1, 4, 4\)"),
    (torch.zeros(1, 4, 4), "at least one real token .* every position"),
    (torch.full((1, 4, 4), 2), "only 0"),
])
def test_pairwise_mask_rules(tiny, mask, rule):
    with pytest.raises(ValueError, match=rule):
        cl.BertModel(tiny)(torch.tensor([[2, 5, 6, 3]]), mask)


def test_pairwise_mask_refused_where_only_padding_is_meant(tiny):
    mask = torch.ones(1, 4, 4)
    for runs in (cl.InferenceBert.from_model(cl.BertModel(tiny)),
                 cl.BertEncoderBlock(tiny.vocab_size, config=tiny)):
        with pytest.raises(ValueError, match="taken by cl.BertModel only"):
            runs(torch.tensor([[2, 5, 6, 3]]), mask)
