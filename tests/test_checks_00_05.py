"""The exercise checkers of notebooks 00-05, fed right answers and typical wrong ones.

Each test asserts the verdict and that the message names the mistake in plain words.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from course_kit.checks import attention, embeddings, layers, tokens, welcome
from course_kit.checks.core import CheckReport
from course_lib.attention import merge_heads, split_heads

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def failed_text(report: CheckReport) -> str:
    return "\n".join(report.failed_points)


def assert_passes(report: CheckReport) -> None:
    assert report.passed, str(report)
    assert "all checks passed" in str(report)
    assert not report.failed_points


def assert_fails_naming(report: CheckReport, *words: str) -> None:
    assert not report.passed, str(report)
    assert "not yet right" in str(report)
    text = failed_text(report)
    for word in words:
        assert word in text, f"{word!r} not in:\n{report}"


def not_written(*args):
    raise NotImplementedError("write your code here")


def returns_none(*args):
    return None


def crashes_with_index_error(*args):
    return [][1]


# ---- checks every checker shares ----------------------------------------------------------------

ALL_CHECKERS = [
    welcome.check_block_input_rule,
    tokens.check_wordpiece,
    tokens.check_build_model_input,
    tokens.check_pair_input,
    embeddings.check_embeddings,
    embeddings.check_layer_norm,
    embeddings.check_nearest_neighbours,
    attention.check_attention_weights,
    attention.check_one_head,
    attention.check_split_heads,
    attention.check_merge_heads,
    attention.check_multi_head_attention,
    layers.check_gelu,
    layers.check_feed_forward,
    layers.check_encoder_layer,
]


@pytest.mark.parametrize("checker", ALL_CHECKERS, ids=lambda c: c.__name__)
def test_a_stub_is_reported_not_raised(checker):
    report = checker(not_written)
    assert_fails_naming(report, "raised NotImplementedError")


@pytest.mark.parametrize("checker", ALL_CHECKERS, ids=lambda c: c.__name__)
def test_a_crash_is_reported_with_its_type(checker):
    report = checker(crashes_with_index_error)
    assert_fails_naming(report, "IndexError", "crashes_with_index_error")


@pytest.mark.parametrize("checker", ALL_CHECKERS, ids=lambda c: c.__name__)
def test_returning_none_says_the_code_is_missing(checker):
    assert_fails_naming(checker(returns_none), "returned None", "YOUR CODE HERE")


@pytest.mark.parametrize("checker", ALL_CHECKERS, ids=lambda c: c.__name__)
def test_something_that_is_not_a_function(checker):
    assert_fails_naming(checker(42), "expected a function", "int")


ODD_RESULTS = [42, "text", [1, 2], ["a", 3], (torch.zeros(2), "x"), torch.zeros(1),
               torch.zeros(2, 3, 4, 5, 6), torch.full((6, 6), float("nan")), {"a": 1}]


@pytest.mark.parametrize("checker", ALL_CHECKERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("odd", ODD_RESULTS, ids=lambda value: type(value).__name__)
def test_odd_results_give_a_verdict_never_an_exception(checker, odd):
    report = checker(lambda *args: odd)
    assert isinstance(report, CheckReport)
    assert not report.passed, str(report)
    assert report.failed_points


def test_the_learners_random_state_is_left_alone():
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    embeddings.check_embeddings(not_written)
    layers.check_encoder_layer(not_written)
    attention.check_multi_head_attention(not_written)
    assert torch.equal(torch.random.get_rng_state(), before)


# ---- 00 welcome --------------------------------------------------------------------------------

RIGHT_SHAPES = {"cls": (384,), "sequence": (12, 384), "average": (384,), "batch_cls": (4, 384),
                "bert_base_cls": (768,)}


def test_predicted_shapes_right():
    assert_passes(welcome.check_predicted_shapes(dict(RIGHT_SHAPES)))
    as_sizes = {key: torch.Size(value) for key, value in RIGHT_SHAPES.items()}
    assert_passes(welcome.check_predicted_shapes(as_sizes))


@pytest.mark.parametrize("key, answer, words", [
    ("cls", (12, 384), ["only the first vector"]),
    ("sequence", (384,), ["one vector per token"]),
    ("average", (12, 384), ["sequence axis disappears"]),
    ("batch_cls", (384,), ["batch axis"]),
    ("cls", (768,), ["MiniLM is 384 wide", "BERT-base"]),
    ("bert_base_cls", (384,), ["BERT-base is 768 wide"]),
    ("cls", "384", ["tuple of ints"]),
    ("cls", None, ["no answer yet"]),
])
def test_predicted_shapes_wrong(key, answer, words):
    answers = dict(RIGHT_SHAPES, **{key: answer})
    report = welcome.check_predicted_shapes(answers)
    assert_fails_naming(report, f"'{key}'", *words)
    assert len(report.failed_points) == 1


def test_predicted_shapes_not_a_dict():
    assert_fails_naming(welcome.check_predicted_shapes([(384,)]), "should be a dict")


def is_valid_block_input(ids, vocab_size):
    return (ids.dim() == 1 and not ids.is_floating_point() and 3 <= len(ids) <= 512
            and int(ids.min()) >= 0 and int(ids.max()) < vocab_size)


def test_block_input_rule_right():
    assert_passes(welcome.check_block_input_rule(is_valid_block_input))


@pytest.mark.parametrize("wrong, words", [
    (lambda ids, v: ids.dim() == 1 and 1 <= len(ids) <= 512 and int(ids.max()) < v,
     ["only 2 IDs", "at least 3"]),
    (lambda ids, v: ids.dim() == 1 and 3 <= len(ids) <= 513 and 0 <= int(ids.min())
     and int(ids.max()) < v, ["513 IDs", "at most 512"]),
    (lambda ids, v: ids.dim() == 1 and 3 <= len(ids) <= 512 and 0 <= int(ids.min())
     and int(ids.max()) <= v, ["equal to vocab_size", "below the vocabulary size"]),
    (lambda ids, v: ids.dim() == 1 and 3 <= len(ids) <= 512 and int(ids.max()) < v,
     ["negative", "must not be negative"]),
    (lambda ids, v: 3 <= ids.shape[-1] <= 512 and 0 <= int(ids.min()) and int(ids.max()) < v
     and not ids.is_floating_point(), ["2-D", "1-D vector"]),
    (lambda ids, v: 3 < len(ids) <= 512,
     ["the shortest input, 3 IDs: expected True, got False: it is a valid input"]),
    (lambda ids, v: 1, ["return True or False"]),
])
def test_block_input_rule_wrong(wrong, words):
    assert_fails_naming(welcome.check_block_input_rule(wrong), *words)


# ---- 01 tokens ---------------------------------------------------------------------------------

def wordpiece(word, vocab):
    if len(word) > 100:
        return ["[UNK]"]
    pieces, start = [], 0
    while start < len(word):
        end = len(word)
        prefix = "##" if start else ""
        while end > start and prefix + word[start:end] not in vocab:
            end -= 1
        if end == start:
            return ["[UNK]"]
        pieces.append(prefix + word[start:end])
        start = end
    return pieces


def test_wordpiece_right():
    assert_passes(tokens.check_wordpiece(wordpiece))


def wordpiece_without_hashes(word, vocab):
    return [piece.removeprefix("##") for piece in wordpiece(word, vocab)]


def wordpiece_partial_unk(word, vocab):
    pieces, start = [], 0
    while start < len(word):
        end = len(word)
        prefix = "##" if start else ""
        while end > start and prefix + word[start:end] not in vocab:
            end -= 1
        if end == start:
            pieces.append("[UNK]")
            break
        pieces.append(prefix + word[start:end])
        start = end
    return pieces


def wordpiece_no_length_limit(word, vocab):
    return wordpiece(word[:100], vocab) if len(word) > 100 else wordpiece(word, vocab)


@pytest.mark.parametrize("wrong, words", [
    (lambda word, vocab: tokens.shortest_match_first(word, vocab), ["shortest match first"]),
    (wordpiece_without_hashes, ["'##'"]),
    (wordpiece_partial_unk, ["the whole word becomes ['[UNK]']", "snow"]),
    (wordpiece_no_length_limit, ["over 100 characters"]),
    (lambda word, vocab: list(word), ["'wordpiece': expected ['word', '##piece']"]),
    (lambda word, vocab: word, ["should return a list of str"]),
])
def test_wordpiece_wrong(wrong, words):
    assert_fails_naming(tokens.check_wordpiece(wrong), *words)


def build_model_input(piece_ids, max_length, cls_id, sep_id, pad_id):
    ids = [cls_id] + piece_ids[: max_length - 2] + [sep_id]
    mask = [1] * len(ids)
    padding = max_length - len(ids)
    return ids + [pad_id] * padding, mask + [0] * padding


def test_build_model_input_right():
    assert_passes(tokens.check_build_model_input(build_model_input))
    as_tensors = lambda *args: tuple(map(torch.tensor, build_model_input(*args)))  # noqa: E731
    assert_passes(tokens.check_build_model_input(as_tensors))


def truncate_after_sep(piece_ids, max_length, cls_id, sep_id, pad_id):
    ids = ([cls_id] + piece_ids + [sep_id])[:max_length]
    padding = max_length - len(ids)
    return ids + [pad_id] * padding, [1] * len(ids) + [0] * padding


def mask_all_ones(piece_ids, max_length, cls_id, sep_id, pad_id):
    ids, _ = build_model_input(piece_ids, max_length, cls_id, sep_id, pad_id)
    return ids, [1] * max_length


def no_padding(piece_ids, max_length, cls_id, sep_id, pad_id):
    ids = [cls_id] + piece_ids[: max_length - 2] + [sep_id]
    return ids, [1] * len(ids)


def no_cls(piece_ids, max_length, cls_id, sep_id, pad_id):
    ids = piece_ids[: max_length - 1] + [sep_id]
    padding = max_length - len(ids)
    return ids + [pad_id] * padding, [1] * len(ids) + [0] * padding


def mask_skips_specials(piece_ids, max_length, cls_id, sep_id, pad_id):
    ids, mask = build_model_input(piece_ids, max_length, cls_id, sep_id, pad_id)
    return ids, [0] + mask[1:]


@pytest.mark.parametrize("wrong, words", [
    (truncate_after_sep, ["[SEP] (ID 102) is missing", "max_length - 2"]),
    (mask_all_ones, ["must be 0 on padding"]),
    (no_padding, ["exactly max_length = 12", "pad shorter"]),
    (no_cls, ["start with [CLS] (ID 101)"]),
    (mask_skips_specials, ["[CLS] and [SEP] included"]),
    (lambda *args: [101, 102], ["two lists"]),
])
def test_build_model_input_wrong(wrong, words):
    assert_fails_naming(tokens.check_build_model_input(wrong), *words)


def pair_input(ids_a, ids_b, cls_id, sep_id):
    ids = [cls_id] + ids_a + [sep_id] + ids_b + [sep_id]
    return ids, [0] * (len(ids_a) + 2) + [1] * (len(ids_b) + 1)


def test_pair_input_right():
    assert_passes(tokens.check_pair_input(pair_input))


def last_sep_in_segment_0(ids_a, ids_b, cls_id, sep_id):
    ids, segments = pair_input(ids_a, ids_b, cls_id, sep_id)
    return ids, segments[:-1] + [0]


def first_sep_in_segment_1(ids_a, ids_b, cls_id, sep_id):
    ids, segments = pair_input(ids_a, ids_b, cls_id, sep_id)
    return ids, [0] * (len(ids_a) + 1) + [1] * (len(ids_b) + 2)


@pytest.mark.parametrize("wrong, words", [
    (last_sep_in_segment_0, ["last [SEP] belongs to segment 1"]),
    (first_sep_in_segment_1, ["first [SEP] belong to segment 0"]),
    (lambda a, b, c, s: ([c] + a + b + [s], [0] * (len(a) + 1) + [1] * (len(b) + 1)),
     ["[CLS] a [SEP] b [SEP]"]),
    (lambda a, b, c, s: (pair_input(a, b, c, s)[0], [0, 1]), ["one segment ID per input ID"]),
])
def test_pair_input_wrong(wrong, words):
    assert_fails_naming(tokens.check_pair_input(wrong), *words)


# ---- 02 embeddings -----------------------------------------------------------------------------

def bert_embeddings(input_ids, token_type_ids, emb):
    positions = torch.arange(input_ids.shape[1])
    summed = (emb.word_embeddings(input_ids) + emb.position_embeddings(positions)
              + emb.token_type_embeddings(token_type_ids))
    return emb.layer_norm(summed)


def test_embeddings_right():
    assert_passes(embeddings.check_embeddings(bert_embeddings))


@pytest.mark.parametrize("wrong, words", [
    (lambda ids, seg, emb: emb.layer_norm(emb.word_embeddings(ids)
                                          + emb.token_type_embeddings(seg)),
     ["position embeddings were left out"]),
    (lambda ids, seg, emb: emb.layer_norm(emb.word_embeddings(ids)
                                          + emb.position_embeddings(torch.arange(ids.shape[1]))),
     ["segment embeddings were left out"]),
    (lambda ids, seg, emb: emb.word_embeddings(ids) + emb.token_type_embeddings(seg)
     + emb.position_embeddings(torch.arange(ids.shape[1])), ["LayerNorm was skipped"]),
    (lambda ids, seg, emb: emb.layer_norm(emb.word_embeddings(ids) + emb.token_type_embeddings(seg)
                                          + emb.position_embeddings(torch.arange(1, 8))),
     ["counted from 1"]),
    (lambda ids, seg, emb: emb.word_embeddings(ids), ["wrong values"]),
    (lambda ids, seg, emb: emb.word_embeddings(ids)[0], ["has shape (7, 16), expected (2, 7, 16)"]),
])
def test_embeddings_wrong(wrong, words):
    assert_fails_naming(embeddings.check_embeddings(wrong), *words)


def layer_norm(x, weight, bias, eps):
    mean = x.mean(dim=-1, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * weight + bias


def test_layer_norm_right():
    assert_passes(embeddings.check_layer_norm(layer_norm))


@pytest.mark.parametrize("wrong, words", [
    (lambda x, w, b, eps: (x - x.mean(-1, keepdim=True)) / x.std(-1, keepdim=True) * w + b,
     ["unbiased variance", "n - 1"]),
    (lambda x, w, b, eps: (x - x.mean(-2, keepdim=True))
     / x.var(-2, keepdim=True, unbiased=False).sqrt() * w + b, ["wrong axis"]),
    (lambda x, w, b, eps: F.layer_norm(x, (x.shape[-1],), eps=eps), ["scale and shift"]),
    (lambda x, w, b, eps: (x - x.mean(-1, keepdim=True)) * w + b, ["only subtracted the mean"]),
    (lambda x, w, b, eps: (x - x.mean(-1, keepdim=True))
     / x.var(-1, keepdim=True, unbiased=False) * w + b, ["variance instead of the standard"]),
    (lambda x, w, b, eps: x.mean(-1), ["has shape (2, 5), expected (2, 5, 8)"]),
])
def test_layer_norm_wrong(wrong, words):
    assert_fails_naming(embeddings.check_layer_norm(wrong), *words)


def nearest_neighbours(query, table, k):
    similarity = (table @ query) / (table.norm(dim=-1) * query.norm())
    return similarity.topk(k).indices


def test_nearest_neighbours_right():
    assert_passes(embeddings.check_nearest_neighbours(nearest_neighbours))
    as_list = lambda q, t, k: nearest_neighbours(q, t, k).tolist()  # noqa: E731
    assert_passes(embeddings.check_nearest_neighbours(as_list))


def test_the_neighbour_data_tells_the_mistakes_apart():
    table, queries = embeddings.neighbour_inputs()
    for query in queries:
        right = embeddings.reference_neighbours(query, table, 5)
        assert (table @ query).topk(5).indices.tolist() != right
        assert (-(table - query).norm(dim=-1)).topk(5).indices.tolist() != right


@pytest.mark.parametrize("wrong, words", [
    (lambda q, t, k: (t @ q).topk(k).indices, ["plain dot product", "cosine"]),
    (lambda q, t, k: (-F.cosine_similarity(t, q[None], dim=-1)).topk(k).indices,
     ["least similar"]),
    (lambda q, t, k: (-(t - q).norm(dim=-1)).topk(k).indices, ["Euclidean"]),
    (lambda q, t, k: nearest_neighbours(q, t, k).flip(0), ["wrong order"]),
    (lambda q, t, k: F.cosine_similarity(t, q[None], dim=-1).topk(k).values, ["not the similar"]),
    (lambda q, t, k: nearest_neighbours(q, t, k)[:3], ["expected 5 indices, got 3"]),
])
def test_nearest_neighbours_wrong(wrong, words):
    assert_fails_naming(embeddings.check_nearest_neighbours(wrong), *words)


# ---- 03 one head -------------------------------------------------------------------------------

def attention_weights(q, k, mask):
    scores = q @ k.T / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-1)


def test_attention_weights_right():
    assert_passes(attention.check_attention_weights(attention_weights))


def weights_without_scaling(q, k, mask):
    return attention_weights(q * math.sqrt(q.shape[-1]), k, mask)


def weights_scaled_by_d(q, k, mask):
    return attention_weights(q / math.sqrt(q.shape[-1]), k, mask)


def weights_ignoring_mask(q, k, mask):
    return attention_weights(q, k, None)


def weights_softmax_over_queries(q, k, mask):
    scores = q @ k.T / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, -1e9)
    return torch.softmax(scores, dim=0)


@pytest.mark.parametrize("wrong, words", [
    (weights_without_scaling, ["not divided by sqrt(d)"]),
    (weights_scaled_by_d, ["divided by d instead of sqrt(d)"]),
    (weights_ignoring_mask, ["mask was ignored", "padded keys get weight up to"]),
    (weights_softmax_over_queries, ["softmax ran over the wrong axis", "do not sum to 1"]),
    (lambda q, k, mask: q @ k.T, ["do not sum to 1"]),
    (lambda q, k, mask: attention_weights(q, k, mask)[:, :4],
     ["has shape (6, 4), expected (6, 6)"]),
])
def test_attention_weights_wrong(wrong, words):
    assert_fails_naming(attention.check_attention_weights(wrong), *words)


NOTEBOOK_D = 64  # notebook 03's d, the head size of BERT-base: a global, not the input's size


def _weights_scaled_by(scale):
    def weights(q, k, mask):
        scores = q @ k.T / scale
        if mask is not None:
            scores = scores.masked_fill(~mask, -1e9)
        return torch.softmax(scores, dim=-1)
    return weights


@pytest.mark.parametrize("wrong, words", [
    (_weights_scaled_by(math.sqrt(NOTEBOOK_D)), ["a size is fixed in your code", "q.shape[-1]",
                                                 "not a size from the notebook"]),
    (_weights_scaled_by(math.sqrt(768)), ["sqrt(768)", "square root of the hidden size",
                                          "instead of the square root of the head size"]),
])
def test_attention_weights_with_a_fixed_scale_is_named(wrong, words):
    report = attention.check_attention_weights(wrong)
    assert_fails_naming(report, *words)
    assert "divided by d instead of sqrt(d)" not in str(report)


def test_attention_weights_written_differently_passes():
    def by_scaled_queries(q, k, mask):
        scores = (q / q.shape[-1] ** 0.5) @ k.transpose(0, 1)  # (seq, seq)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        return scores.softmax(dim=1)

    assert_passes(attention.check_attention_weights(by_scaled_queries))


def test_attention_weights_nan_is_explained():
    def with_minus_inf_on_wrong_axis(q, k, mask):
        scores = q @ k.T / math.sqrt(q.shape[-1])
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        return torch.softmax(scores, dim=0)

    assert_fails_naming(attention.check_attention_weights(with_minus_inf_on_wrong_axis),
                        "contains NaN", "wrong axis")


def one_head(q, k, v, mask):
    weights = attention_weights(q, k, mask)
    return weights @ v, weights


def test_one_head_right():
    assert_passes(attention.check_one_head(one_head))


@pytest.mark.parametrize("wrong, words", [
    (lambda q, k, v, mask: (attention_weights(q, k, mask) @ k, attention_weights(q, k, mask)),
     ["keys were averaged instead of the values"]),
    (lambda q, k, v, mask: one_head(q, k, v, None), ["mask was ignored"]),
    (lambda q, k, v, mask: one_head(q * math.sqrt(q.shape[-1]), k, v, mask),
     ["not divided by sqrt(d)"]),
    (lambda q, k, v, mask: (v, attention_weights(q, k, mask)), ["values were not weighted"]),
    (lambda q, k, v, mask: one_head(q, k, v, mask)[0],
     ["2 results: (the output, the attention map)"]),
])
def test_one_head_wrong(wrong, words):
    assert_fails_naming(attention.check_one_head(wrong), *words)


# ---- 04 many heads -----------------------------------------------------------------------------

def my_split_heads(x, num_heads):
    batch, seq, hidden = x.shape
    return x.view(batch, seq, num_heads, hidden // num_heads).transpose(1, 2)


def my_merge_heads(x):
    batch, heads, seq, size = x.shape
    return x.transpose(1, 2).reshape(batch, seq, heads * size)


def test_split_and_merge_right():
    assert_passes(attention.check_split_heads(my_split_heads))
    assert_passes(attention.check_merge_heads(my_merge_heads))


@pytest.mark.parametrize("wrong, words", [
    (lambda x, n: x.view(x.shape[0], n, x.shape[1], x.shape[2] // n),
     ["cut straight out of the memory", "transpose(1, 2)"]),
    (lambda x, n: x.view(x.shape[0], x.shape[1], n, x.shape[2] // n),
     ["(batch, seq, heads, head_size)", ".transpose(1, 2)"]),
    (lambda x, n: x.view(x.shape[0], x.shape[1], x.shape[2] // n, n).permute(0, 3, 1, 2),
     ["contiguous block"]),
])
def test_split_heads_wrong(wrong, words):
    assert_fails_naming(attention.check_split_heads(wrong), *words)


@pytest.mark.parametrize("wrong, words", [
    (lambda x: x.reshape(x.shape[0], x.shape[2], -1), ["merged in the wrong order"]),
    (lambda x: x.permute(0, 2, 3, 1).reshape(x.shape[0], x.shape[2], -1), ["interleaved"]),
    (lambda x: x.transpose(1, 2), ["has shape (2, 5, 4, 4), expected (2, 5, 16)"]),
])
def test_merge_heads_wrong(wrong, words):
    assert_fails_naming(attention.check_merge_heads(wrong), *words)


def multi_head_attention(x, attn, mask, scale=True, project=True, use_mask=True, transpose=True):
    q = my_split_heads(attn.query(x), attn.num_heads)
    k = my_split_heads(attn.key(x), attn.num_heads)
    v = my_split_heads(attn.value(x), attn.num_heads)
    scores = q @ k.transpose(-1, -2)
    if scale:
        scores = scores / math.sqrt(q.shape[-1])
    if use_mask:
        scores = scores.masked_fill(~mask[:, None, None, :], float("-inf"))
    context = torch.softmax(scores, dim=-1) @ v
    if transpose:
        merged = my_merge_heads(context)
    else:
        merged = context.reshape(x.shape)
    return attn.output(merged) if project else merged


def test_multi_head_attention_right():
    assert_passes(attention.check_multi_head_attention(multi_head_attention))


def loop_over_heads(x, attn, mask):
    size = x.shape[-1] // attn.num_heads
    q, k, v = attn.query(x), attn.key(x), attn.value(x)
    outputs = []
    for head in range(attn.num_heads):
        part = slice(head * size, (head + 1) * size)
        scores = q[..., part] @ k[..., part].transpose(-1, -2) / math.sqrt(size)
        scores = scores.masked_fill(~mask[:, None, :], float("-inf"))
        outputs.append(torch.softmax(scores, dim=-1) @ v[..., part])
    return attn.output(torch.cat(outputs, dim=-1))


def test_multi_head_attention_as_a_loop_is_right_too():
    assert_passes(attention.check_multi_head_attention(loop_over_heads))


@pytest.mark.parametrize("mistake, words", [
    (dict(project=False), ["output projection"]),
    (dict(scale=False), ["not divided by sqrt(head_size)"]),
    (dict(use_mask=False), ["mask was ignored"]),
    (dict(transpose=False), ["heads were merged in the wrong order"]),
])
def test_multi_head_attention_wrong(mistake, words):
    def wrong(x, attn, mask):
        return multi_head_attention(x, attn, mask, **mistake)

    assert_fails_naming(attention.check_multi_head_attention(wrong), *words)


# ---- 05 the encoder layer ----------------------------------------------------------------------

def gelu(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def test_gelu_right():
    assert_passes(layers.check_gelu(gelu))
    assert_passes(layers.check_gelu(lambda x: gelu(x.float())))  # float32 is close enough


@pytest.mark.parametrize("wrong, words", [
    (lambda x: F.gelu(x, approximate="tanh"), ["tanh approximation"]),
    (F.relu, ["ReLU"]),
    (lambda x: x * torch.sigmoid(1.702 * x), ["sigmoid"]),
    (lambda x: x * (1.0 + torch.erf(x / math.sqrt(2.0))), ["factor 0.5"]),
    (lambda x: 0.5 * x * (1.0 + torch.erf(x)), ["sqrt(2)"]),
    (lambda x: 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0))), ["multiply by x"]),
])
def test_gelu_wrong(wrong, words):
    assert_fails_naming(layers.check_gelu(wrong), *words)


def feed_forward(x, ff):
    return ff.output(gelu(ff.intermediate(x)))


def test_feed_forward_right():
    assert_passes(layers.check_feed_forward(feed_forward))


@pytest.mark.parametrize("wrong, words", [
    (lambda x, ff: ff.output(F.relu(ff.intermediate(x))), ["ReLU"]),
    (lambda x, ff: ff.output(ff.intermediate(x)), ["no activation"]),
    (lambda x, ff: ff.output(F.gelu(ff.intermediate(x), approximate="tanh")), ["tanh"]),
    (lambda x, ff: x + feed_forward(x, ff), ["residual was added here"]),
    (lambda x, ff: ff.intermediate(x), ["has shape (2, 5, 32), expected (2, 5, 16)"]),
])
def test_feed_forward_wrong(wrong, words):
    assert_fails_naming(layers.check_feed_forward(wrong), *words)


def encoder_layer(x, layer, mask):
    attended, _ = layer.attention(x, mask)
    h = layer.attention_norm(x + attended)
    return layer.output_norm(h + layer.feed_forward(h))


def test_encoder_layer_right():
    assert_passes(layers.check_encoder_layer(encoder_layer))


def test_the_layer_mistakes_are_told_apart():
    layer = layers.small_encoder_layer()
    x, mask = layers.small_layer_inputs()
    with torch.no_grad():
        right = layer(x, mask)[0]
        variants = [layers._layer_variant(x, layer, mask, key) for key in layers.LAYER_MISTAKES]
    for variant in variants:
        assert (variant - right).abs().max() > 1e-3


@pytest.mark.parametrize("mistake", list(layers.LAYER_MISTAKES))
def test_encoder_layer_wrong(mistake):
    def wrong(x, layer, mask):
        return layers._layer_variant(x, layer, mask, mistake)

    assert_fails_naming(layers.check_encoder_layer(wrong), layers.LAYER_MISTAKES[mistake])


def test_encoder_layer_pre_ln_is_named():
    def pre_ln(x, layer, mask):
        h = x + layer.attention(layer.attention_norm(x), mask)[0]
        return h + layer.feed_forward(layer.output_norm(h))

    assert_fails_naming(layers.check_encoder_layer(pre_ln), "pre-LN", "post-LN")


def test_encoder_layer_mask_ignored():
    def no_mask(x, layer, mask):
        return encoder_layer(x, layer, None)

    assert_fails_naming(layers.check_encoder_layer(no_mask), "mask was ignored")


# ---- the pieces the checkers compare against ---------------------------------------------------

def test_split_merge_round_trip_is_identity():
    x = attention.hidden_inputs()
    assert torch.equal(merge_heads(split_heads(x, 4)), x)


@pytest.mark.parametrize("checker, answer, words", [
    (layers.check_feed_forward, lambda x, ff: ff(x), "called ff(x)"),
    (layers.check_feed_forward, lambda x, ff: ff.forward(x), "called ff(x)"),
    (layers.check_encoder_layer, lambda x, layer, mask: layer(x, mask)[0],
     "called layer(x, mask)"),
    (attention.check_multi_head_attention,
     lambda x, a, mask: a(x, mask[:, None, None, :])[0], "called attention(x, ...)"),
])
def test_calling_the_given_module_is_named(checker, answer, words):
    assert_fails_naming(checker(answer), words, "instead of computing it")


def test_using_the_given_modules_parts_is_right():
    """Right answers written differently: the parts called one by one, none of them the
    module itself."""
    def feed_forward_by_hand(x, ff):
        wide = x @ ff.intermediate.weight.T + ff.intermediate.bias
        return ff.output(gelu(wide))

    assert_passes(layers.check_feed_forward(feed_forward_by_hand))


def test_feed_forward_with_gelu_after_the_second_linear_is_named():
    def gelu_last(x, ff):
        return F.gelu(ff.output(ff.intermediate(x)))

    assert_fails_naming(layers.check_feed_forward(gelu_last), "GELU was applied after the "
                        "second linear layer", "between the two")


def test_feed_forward_sizes_name_no_heads():
    report = layers.check_feed_forward(feed_forward)
    assert "intermediate size 20" in str(report) and "heads" not in str(report)


@pytest.mark.parametrize("written", [
    lambda x, heads: x.view(x.shape[0], x.shape[1], heads, 64).transpose(1, 2),
    lambda x, heads: x.view(x.shape[0], x.shape[1], -1, 64).transpose(1, 2),
])
def test_split_heads_with_64_written_in_is_named(written):
    assert_fails_naming(attention.check_split_heads(written), "a size is fixed in your code",
                        "read every size from the inputs")


def test_multi_head_attention_with_the_notebooks_split_helper_is_named():
    def split(t):  # notebook 04's helper: BERT-base's 12 heads of 64 written in
        return t.view(t.shape[0], t.shape[1], 12, 64).transpose(1, 2)

    def with_the_helper(x, attention_module, keep):
        q, k, v = (split(part(x)) for part in (attention_module.query, attention_module.key,
                                               attention_module.value))
        scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
        weights = scores.masked_fill(~keep[:, None, None, :], -1e9).softmax(dim=-1)
        return attention_module.output(merge_heads(weights @ v))

    assert_fails_naming(attention.check_multi_head_attention(with_the_helper),
                        "RuntimeError", "a size is fixed in your code")
