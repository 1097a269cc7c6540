"""course_kit/attribution.py (head ablation, Kobayashi et al.'s norms) and the checkers of notebook
08's inquiry tasks."""

import pytest
import torch

import course_lib as cl
from course_kit.attribution import column_share, head_ablated, norm_weighted_attention
from course_kit.checks.attribution import check_cls_norm_head, check_ignored_clue_head


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return cl.BertModel(cl.BertConfig.tiny(vocab_size=50)).eval()


def test_ablation_removes_exactly_one_head_and_undoes_itself(tiny):
    ids = torch.tensor([[2, 7, 9, 11, 3]])  # (1, seq)
    layer0 = tiny.encoder.layers[0].attention
    x = tiny.embeddings(ids)  # (1, seq, hidden)
    size = tiny.config.head_size
    with torch.no_grad():
        before = tiny(ids).last_hidden_state
        with head_ablated(tiny, 0, 1):
            inside = layer0(x)[0]
            ablated = tiny(ids).last_hidden_state
        after = tiny(ids).last_hidden_state
        # by hand: the merged heads with head 1's columns zeroed, then the output projection
        q, k, v = (cl.split_heads(linear(x), tiny.config.num_heads)
                   for linear in (layer0.query, layer0.key, layer0.value))
        context = cl.merge_heads(cl.scaled_dot_product_attention(q, k, v)[0])  # (1, seq, hidden)
        context[..., size:2 * size] = 0
        expected = layer0.output(context)
    torch.testing.assert_close(inside, expected, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(ablated, before, atol=1e-4)
    torch.testing.assert_close(after, before)  # the hook is gone


def test_ablation_refuses_a_head_that_does_not_exist(tiny):
    with pytest.raises(ValueError, match="outside this model"):
        with head_ablated(tiny, 0, tiny.config.num_heads):
            pass


def test_norm_weighted_vectors_add_up_to_the_attention_output(tiny):
    ids = torch.tensor([2, 5, 8, 3])
    weights, norms = norm_weighted_attention(tiny, ids)
    layers, heads = tiny.config.num_layers, tiny.config.num_heads
    assert weights.shape == norms.shape == (layers, heads, 4, 4)
    torch.testing.assert_close(weights.sum(dim=-1), torch.ones(layers, heads, 4))
    assert (norms >= 0).all()
    # ||a_ij f(x_j)|| = a_ij ||f(x_j)||: a zero weight gives a zero norm, shares stay in 0..1
    share = column_share(norms, [0])
    assert ((share >= 0) & (share <= 1)).all()


def test_column_share_is_the_mean_row_share():
    maps = torch.tensor([[[[0.5, 0.5], [0.1, 0.9]]]])  # (1, 1, 2, 2)
    assert column_share(maps, [0]).item() == pytest.approx(0.3)
    assert column_share(2 * maps, [0]).item() == pytest.approx(0.3)  # rows renormalised


@pytest.fixture(scope="module")
def course_mlm():
    return cl.BertForMaskedLM.from_pretrained("course-mlm").eval(), cl.load_tokenizer("course-mlm")


def test_task1_checker_measures_the_named_head(course_mlm):
    model, tok = course_mlm
    verdicts = {(layer, head): check_ignored_clue_head(model, tok, layer, head).passed
                for layer in range(1, model.config.num_layers + 1)
                for head in range(1, model.config.num_heads + 1)}
    assert 1 <= sum(verdicts.values()) < len(verdicts)  # some heads fit, not all
    assert not check_ignored_clue_head(model, tok, 0, 1).passed  # counted from 1
    assert "does not exist" in str(check_ignored_clue_head(model, tok, 9, 1))
    assert not check_ignored_clue_head(model, tok, 1.0, 1).passed


def test_task2_checker_measures_the_named_head():
    model, tok = cl.load_pretrained("minilm"), cl.load_tokenizer("minilm")
    assert check_cls_norm_head(model, tok, 2, 6).passed  # [CLS] 0.52 by weight, 0.06 by norm
    assert "norm share" in str(check_cls_norm_head(model, tok, 2, 12))  # 0.84 / 0.41
    assert "weight share" in str(check_cls_norm_head(model, tok, 1, 1))  # 0.16 by weight
    assert "counted from 1" in str(check_cls_norm_head(model, tok, 7, 1))
