"""No false verdicts: the checkers' shared machinery, and every checker fed right answers written
differently, the classic mistakes it must name, and a learner's endless loop (bounded time)."""

from __future__ import annotations

import math
import signal
import threading
import time
import unicodedata

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import course_lib as cl
from course_kit.checks import (
    attention,
    calling,
    classify,
    embeddings,
    encoder,
    explorer,
    layers,
    pretrained,
    tokens,
    welcome,
    where_next,
)
from course_kit.checks._learner import call_learner as old_path_call_learner
from course_kit.checks._learner import seeded as old_path_seeded
from course_kit.checks.cases import Case, check_cases
from course_kit.checks.compare import as_int, as_number, compare_tensors, tensors_match
from course_kit.checks.core import CheckReport, call_safely
from course_kit.checks.core import compare_tensors as old_path_compare
from course_kit.checks.mistakes import name_mistake

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

SHORT_LIMIT = 0.3  # seconds a learner's call may run in these tests


@pytest.fixture
def short_limit(monkeypatch):
    monkeypatch.setattr(calling, "TIME_LIMIT_SECONDS", SHORT_LIMIT)


def failed_text(report: CheckReport) -> str:
    return "\n".join(report.failed_points)


def assert_passes(report: CheckReport) -> None:
    assert report.passed, str(report)


def assert_fails_naming(report: CheckReport, *words: str) -> None:
    assert not report.passed, str(report)
    for word in words:
        assert word in failed_text(report), f"{word!r} not in:\n{report}"


def endless(*_args):
    while True:
        pass


def endless_swallowing_errors(*_args):
    while True:
        try:
            sum(range(100))
        except Exception:  # a learner's catch-all must not swallow the time limit
            pass


# ---- the shared machinery ---------------------------------------------------------------------

def test_the_old_import_paths_still_work():
    assert old_path_compare is compare_tensors
    assert old_path_call_learner is calling.call_learner
    with old_path_seeded(1):
        first = torch.rand(1)
    with old_path_seeded(1):
        assert torch.equal(torch.rand(1), first)


@pytest.mark.parametrize("fn", [endless, endless_swallowing_errors, lambda: time.sleep(60)],
                         ids=["loop", "loop-catching-Exception", "sleep"])
def test_an_endless_call_is_stopped_with_a_plain_message(fn, short_limit):
    report = CheckReport("x")
    start = time.monotonic()
    finished, result = calling.call_learner(report, "my_function", fn)
    assert time.monotonic() - start < 5
    assert (finished, result) == (False, None)
    assert_fails_naming(report, "my_function did not finish within 0.3 seconds",
                        "a loop that never ends")


def test_the_time_limit_works_outside_the_main_thread_too(short_limit):
    report = CheckReport("x")
    worker = threading.Thread(target=calling.call_learner, args=(report, "my_function", endless))
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive()
    assert_fails_naming(report, "did not finish")


def test_an_outer_alarm_is_put_back(short_limit):
    previous = signal.signal(signal.SIGALRM, lambda *_: None)
    signal.setitimer(signal.ITIMER_REAL, 100.0)
    try:
        calling.call_learner(CheckReport("x"), "f", endless)
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 90 < left <= 100
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_a_fast_call_leaves_the_timers_as_they_were():
    before, _ = signal.getitimer(signal.ITIMER_REAL)  # pytest-timeout may have one running
    assert calling.call_learner(CheckReport("x"), "f", lambda: 3) == (True, 3)
    after, _ = signal.getitimer(signal.ITIMER_REAL)
    assert (before == 0) == (after == 0) and after <= before + 1e-6
    time.sleep(0.05)  # and no stray LearnerTimeout arrives later


def test_none_not_a_function_and_crashes_in_plain_words():
    report = CheckReport("x")
    assert calling.call_learner(report, "f", lambda: None) == (False, None)
    assert calling.call_learner(report, "g", "text") == (False, None)
    assert calling.call_learner(report, "h", lambda: [][1]) == (False, None)
    assert calling.call_learner(report, "k", lambda: None, none_ok=True) == (True, None)
    assert call_safely(report, "s", lambda: 4) == 4
    text = failed_text(report)
    assert "f returned None" in text and "YOUR CODE HERE" in text
    assert "g: expected a function, got str" in text
    assert "h raised IndexError" in text


def test_a_view_error_says_what_to_do_instead():
    report = CheckReport("x")
    x = torch.zeros(2, 3, 4).transpose(1, 2)
    calling.call_learner(report, "merge", lambda: x.view(2, 12))
    assert_fails_naming(report, "RuntimeError", ".reshape(...)")


def test_tensors_match_ignores_dtype_and_layout_but_not_shape_or_nan():
    x = torch.randn(3, 4)
    assert tensors_match(x.double(), x)
    assert tensors_match(x.T.contiguous().T, x)  # a non-contiguous view
    assert tensors_match(x.numpy(), x)
    assert tensors_match(torch.arange(3), torch.tensor([0.0, 1.0, 2.0]))
    assert not tensors_match(x.reshape(4, 3), x)
    assert not tensors_match(torch.full((2,), float("nan")), torch.full((2,), float("nan")))
    assert not tensors_match("x", x)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_an_answer_on_the_gpu_is_compared_fairly():
    x = torch.randn(3, 4)
    assert tensors_match(x.cuda(), x)
    assert compare_tensors(CheckReport("x"), "y", x.cuda().half().float(), x, atol=1e-2)


def test_compare_tensors_names_a_mistake_of_another_shape():
    report = CheckReport("x")
    x = torch.randn(2, 3)
    assert not compare_tensors(report, "y", x.T, x, hints={"it is transposed": x.T})
    assert_fails_naming(report, "has shape (3, 2), expected (2, 3): it looks like it is transposed")


def test_name_mistake():
    mistakes = {"one": 1, "two": 2, "odd": object()}
    assert name_mistake(2, mistakes) == "two"
    assert name_mistake(3, mistakes) is None
    assert name_mistake("x", {"boom": 1}, same=lambda a, b: a + b) is None  # a raising same


def test_readers_of_numbers():
    assert as_int(np.int64(7)) == 7 and as_int(torch.tensor(7)) == 7 and as_int(7.0) == 7
    assert as_int(7.5) is None and as_int(True) is None and as_int("7") is None
    assert as_number(torch.tensor([0.5])) == 0.5 and as_number(np.float32(0.5)) == 0.5
    assert as_number(torch.zeros(2)) is None


def test_a_case_at_a_second_size_names_sizes_written_into_the_code():
    report = CheckReport("x")
    cases = [Case("a", (torch.zeros(3),), torch.ones(3), sizes="3 wide"),
             Case("b", (torch.zeros(4),), torch.ones(4), sizes="4 wide")]
    assert not check_cases(report, "f", lambda x: torch.ones(3), cases)
    assert_fails_naming(report, "it works at 3 wide but not at 4 wide", "sizes written")


# ---- every checker: an endless loop, odd answers ------------------------------------------------

ALL_CHECKERS = [
    welcome.check_block_input_rule, tokens.check_wordpiece, tokens.check_build_model_input,
    tokens.check_pair_input, embeddings.check_embeddings, embeddings.check_layer_norm,
    embeddings.check_nearest_neighbours, attention.check_attention_weights,
    attention.check_one_head, attention.check_split_heads, attention.check_merge_heads,
    attention.check_multi_head_attention, layers.check_gelu, layers.check_feed_forward,
    layers.check_encoder_layer, encoder.check_parameter_count, encoder.check_masked_max_pooling,
    encoder.check_attention_flop_share, encoder.check_growth_exponent, pretrained.check_name_map,
    pretrained.check_load_weights, pretrained.check_cosine_similarity_matrix,
    explorer.check_rollout, explorer.check_sep_share, classify.check_sentence_features,
    classify.check_standardize, classify.check_held_out_accuracy,
    where_next.check_space_around_cjk, where_next.check_uncased_normalize,
]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("checker", ALL_CHECKERS, ids=lambda c: c.__name__)
def test_no_checker_hangs_on_an_endless_loop(checker, short_limit):
    start = time.monotonic()
    report = checker(endless)
    assert time.monotonic() - start < 20
    assert_fails_naming(report, "did not finish within")


@pytest.mark.parametrize("checker", ALL_CHECKERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("odd", [42, "text", (torch.zeros(2), "x"), torch.zeros(2, 3, 4, 5, 6),
                                 {"a": 1}, np.zeros(3)], ids=lambda value: type(value).__name__)
def test_odd_answers_give_a_verdict_never_an_exception(checker, odd):
    report = checker(lambda *args: odd)
    assert not report.passed, str(report)
    assert report.failed_points


@pytest.mark.parametrize("checker", ALL_CHECKERS, ids=lambda c: c.__name__)
def test_not_a_function(checker):
    assert_fails_naming(checker(3), "expected a function, got int")


# ---- right answers written differently ----------------------------------------------------------

def test_block_rule_with_a_tensor_bool():
    def as_tensors(ids, vocab_size):
        ok = torch.tensor(ids.dim() == 1 and not ids.is_floating_point()
                          and 3 <= ids.numel() <= 512)
        return ok & (ids >= 0).all() & (ids < vocab_size).all() if ok else ok

    assert_passes(welcome.check_block_input_rule(as_tensors))


def wordpiece_by_index(word, vocab):
    """A right answer written another way: a for loop over end positions, a tuple result."""
    if len(word) > 100:
        return ("[UNK]",)
    pieces, start = [], 0
    while start < len(word):
        for end in range(len(word), start, -1):
            piece = ("##" if start else "") + word[start:end]
            if piece in vocab:
                pieces.append(piece)
                start = end
                break
        else:
            return ("[UNK]",)
    return tuple(pieces)


def test_wordpiece_right_written_differently():
    assert_passes(tokens.check_wordpiece(wordpiece_by_index))


def test_wordpiece_limit_off_by_one_is_named():
    def limit_at_100(word, vocab):
        return ["[UNK]"] if len(word) >= 100 else list(wordpiece_by_index(word, vocab))

    assert_fails_naming(tokens.check_wordpiece(limit_at_100), "(100 characters)",
                        "off by one", "exactly 100")


def right_model_input(piece_ids, max_length, cls_id, sep_id, pad_id):
    ids = [cls_id, *piece_ids[: max_length - 2], sep_id]
    padding = max_length - len(ids)
    return ids + [pad_id] * padding, [1] * len(ids) + [0] * padding


def test_build_model_input_as_numpy_and_swapped():
    assert_passes(tokens.check_build_model_input(
        lambda *args: tuple(np.array(part) for part in right_model_input(*args))))
    assert_fails_naming(tokens.check_build_model_input(
        lambda *args: right_model_input(*args)[::-1]), "swapped")


def test_pair_input_swapped_is_named():
    def swapped(a, b, cls_id, sep_id):
        return [0] * (len(a) + 2) + [1] * (len(b) + 1), [cls_id, *a, sep_id, *b, sep_id]

    assert_fails_naming(tokens.check_pair_input(swapped), "swapped")


def test_embeddings_right_in_float64_and_a_hard_coded_length():
    def in_float64(ids, segments, emb):
        positions = torch.arange(ids.shape[1]).expand_as(ids)
        summed = (emb.word_embeddings(ids) + emb.position_embeddings(positions)
                  + emb.token_type_embeddings(segments))
        return emb.layer_norm(summed).double()

    def seven_tokens(ids, segments, emb):
        summed = (emb.word_embeddings(ids) + emb.position_embeddings(torch.arange(7))
                  + emb.token_type_embeddings(segments))
        return emb.layer_norm(summed)

    assert_passes(embeddings.check_embeddings(in_float64))
    assert_fails_naming(embeddings.check_embeddings(seven_tokens), "7 tokens", "sizes written")


def test_layer_norm_written_differently_and_the_wrong_axis():
    def with_var(x, weight, bias, eps):
        var, mean = torch.var_mean(x, dim=-1, keepdim=True, unbiased=False)
        return ((x - mean) * torch.rsqrt(var + eps)).mul(weight).add(bias).double()

    def batch_axis(x, weight, bias, eps):
        mean, var = x.mean(0, keepdim=True), x.var(0, keepdim=True, unbiased=False)
        return (x - mean) / torch.sqrt(var + eps) * weight + bias

    assert_passes(embeddings.check_layer_norm(with_var))
    assert "you called `F.layer_norm`" in str(embeddings.check_layer_norm(
        lambda x, w, b, eps: F.layer_norm(x, x.shape[-1:], w, b, eps)))
    assert_fails_naming(embeddings.check_layer_norm(batch_axis), "wrong axis (dim=0)")


def test_nearest_neighbours_with_normalize():
    def normalized(query, table, k):
        scores = F.normalize(table, dim=-1) @ F.normalize(query, dim=0)
        return torch.argsort(scores, descending=True)[:k].numpy()

    assert_passes(embeddings.check_nearest_neighbours(normalized))


def masked_scores(q, k, mask, fill=float("-inf")):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    return scores if mask is None else scores.masked_fill(~mask, fill)


@pytest.mark.parametrize("fill", [float("-inf"), -1e9, -1e4])
def test_attention_weights_with_any_very_negative_fill(fill):
    assert_passes(attention.check_attention_weights(
        lambda q, k, mask: torch.softmax(masked_scores(q, k, mask, fill), dim=-1)))


def test_attention_weights_renormalized_after_the_softmax_is_right_too():
    def renormalized(q, k, mask):
        weights = torch.softmax(masked_scores(q, k, None), dim=-1)
        if mask is not None:
            weights = weights * mask
            weights = weights / weights.sum(dim=-1, keepdim=True)
        return weights

    assert_passes(attention.check_attention_weights(renormalized))


def test_attention_weights_mask_after_the_softmax_is_named():
    def mask_after(q, k, mask):
        weights = torch.softmax(masked_scores(q, k, None), dim=-1)
        return weights if mask is None else weights.masked_fill(~mask, 0.0)

    assert_fails_naming(attention.check_attention_weights(mask_after), "after the softmax")


def test_one_head_swapped_results_are_named():
    def swapped(q, k, v, mask):
        weights = torch.softmax(masked_scores(q, k, mask), dim=-1)
        return weights, weights @ v

    assert_fails_naming(attention.check_one_head(swapped), "swapped order",
                        "(the output, the attention map)")


def test_one_head_as_a_list_in_float64():
    def as_list(q, k, v, mask):
        weights = torch.softmax(masked_scores(q.double(), k.double(), mask), dim=-1)
        return [weights @ v.double(), weights]

    assert_passes(attention.check_one_head(as_list))


@pytest.mark.parametrize("split", [
    lambda x, n: x.reshape(*x.shape[:2], n, -1).permute(0, 2, 1, 3),
    lambda x, n: x.unflatten(-1, (n, -1)).transpose(1, 2).contiguous(),
    lambda x, n: torch.stack(x.chunk(n, dim=-1), dim=1),
], ids=["reshape-permute", "unflatten", "chunk-stack"])
def test_split_heads_written_differently(split):
    assert_passes(attention.check_split_heads(split))


@pytest.mark.parametrize("merge", [
    lambda x: x.transpose(1, 2).reshape(x.shape[0], x.shape[2], -1),
    lambda x: x.transpose(1, 2).contiguous().view(x.shape[0], x.shape[2], -1),
    lambda x: x.permute(0, 2, 1, 3).flatten(2),
    lambda x: torch.cat(x.unbind(dim=1), dim=-1),
], ids=["reshape", "contiguous-view", "flatten", "cat"])
def test_merge_heads_written_differently(merge):
    assert_passes(attention.check_merge_heads(merge))


def view_merge(x):
    return x.transpose(1, 2).view(x.shape[0], x.shape[2], -1)


def test_merge_heads_with_view_fails_at_its_own_exercise_and_says_why():
    assert_fails_naming(attention.check_merge_heads(view_merge), "weights @ v", ".reshape")


def test_hard_coded_heads_are_named():
    assert_fails_naming(attention.check_split_heads(
        lambda x, n: x.view(x.shape[0], x.shape[1], 4, 4).transpose(1, 2)), "sizes written")
    assert_fails_naming(attention.check_merge_heads(
        lambda x: x.transpose(1, 2).reshape(x.shape[0], x.shape[2], 16)), "sizes written")


def multi_head(x, attn, keep, scale=None, use_view=False, mask_after=False):
    heads = attn.num_heads

    def split(t):
        return t.view(*t.shape[:2], heads, -1).transpose(1, 2)

    q, k, v = split(attn.query(x)), split(attn.key(x)), split(attn.value(x))
    scores = q @ k.transpose(-1, -2) / (scale or math.sqrt(q.shape[-1]))
    hidden_mask = keep[:, None, None, :]
    if mask_after:
        weights = torch.softmax(scores, dim=-1).masked_fill(~hidden_mask, 0.0)
    else:
        weights = torch.softmax(scores.masked_fill(~hidden_mask, float("-inf")), dim=-1)
    context = weights @ v
    merged = (view_merge(context) if use_view
              else context.transpose(1, 2).reshape(x.shape))
    return attn.output(merged)


def test_multi_head_attention_with_sdpa_is_named():
    def fused(x, attn, keep):
        heads = attn.num_heads

        def split(t):
            return t.view(*t.shape[:2], heads, -1).transpose(1, 2)

        context = F.scaled_dot_product_attention(split(attn.query(x)), split(attn.key(x)),
                                                 split(attn.value(x)),
                                                 attn_mask=keep[:, None, None, :])
        return attn.output(context.transpose(1, 2).flatten(2))

    report = attention.check_multi_head_attention(fused)  # right values, a forbidden helper
    assert report.failed_points == ["you called `F.scaled_dot_product_attention`: this exercise "
                                    "asks you to write it from your own `split_heads`, attention "
                                    "and `merge_heads`"], str(report)
    assert_passes(attention.check_multi_head_attention(multi_head))


def test_multi_head_attention_classic_mistakes_are_named():
    check = attention.check_multi_head_attention
    assert_fails_naming(check(lambda x, a, k: multi_head(x, a, k, scale=math.sqrt(x.shape[-1]))),
                        "sqrt(hidden_size)")
    assert_fails_naming(check(lambda x, a, k: multi_head(x, a, k, mask_after=True)),
                        "after the softmax")
    assert_fails_naming(check(lambda x, a, k: multi_head(x, a, k, scale=2.0)), "sizes written")
    assert_fails_naming(check(lambda x, a, k: multi_head(x, a, k, use_view=True)), ".reshape")


def test_gelu_in_float32_passes_and_the_library_is_named():
    assert_passes(layers.check_gelu(lambda x: x.float() * 0.5 * (1 + torch.erf(x / 2**0.5))))
    assert "you called `cl.gelu`" in str(layers.check_gelu(cl.gelu))


def test_feed_forward_with_functional_linear():
    def functional(x, ff):
        wide = F.linear(x, ff.intermediate.weight, ff.intermediate.bias)
        return F.linear(wide * 0.5 * (1 + torch.erf(wide / 2**0.5)), ff.output.weight,
                        ff.output.bias)

    assert_passes(layers.check_feed_forward(functional))


def test_encoder_layer_missing_first_residual_is_named():
    def no_first_residual(x, layer, mask):
        h = layer.attention_norm(layer.attention(x, mask)[0])
        return layer.output_norm(h + layer.feed_forward(h))

    assert_fails_naming(layers.check_encoder_layer(no_first_residual),
                        "the first residual is missing")


def test_parameter_count_hard_coded_sizes_are_named():
    assert_fails_naming(encoder.check_parameter_count(lambda config: 108_891_648),
                        "sizes written")


def test_parameter_count_from_a_model_on_the_meta_device():
    def counted(config):
        with torch.device("meta"):
            return sum(p.numel() for p in cl.BertModel(config).parameters())

    assert_passes(encoder.check_parameter_count(counted))


def test_masked_max_with_where_and_in_float64():
    def with_where(sequence, mask):
        keep = mask.bool()[..., None]
        return torch.where(keep, sequence.double(), -math.inf).amax(dim=1)

    assert_passes(encoder.check_masked_max_pooling(with_where))


def test_cosine_with_normalize():
    assert_passes(pretrained.check_cosine_similarity_matrix(
        lambda v: F.normalize(v, dim=1) @ F.normalize(v, dim=1).T))


def test_name_map_and_loader_may_return_none():
    """None is a legal answer of both; only the call of the library's version fails them."""
    for check, library in ((pretrained.check_name_map, cl.checkpoint_name_to_ours),
                           (pretrained.check_load_weights, cl.load_checkpoint_into)):
        report = check(library)
        assert [p.split(":")[0] for p in report.failed_points] == \
            [f"you called `cl.{library.__name__}`"], str(report)


# ---- 09 and 10 ----------------------------------------------------------------------------------

def standardize_with(train, test, correction=1):
    mean, std = train.mean(dim=0), train.std(dim=0, correction=correction)
    return (train - mean) / std, (test - mean) / std


def test_standardize_either_convention_passes():
    assert_passes(classify.check_standardize(standardize_with))
    assert_passes(classify.check_standardize(lambda a, b: standardize_with(a, b, correction=0)))


@pytest.mark.parametrize("wrong, words", [
    (lambda a, b: (standardize_with(a, b)[0], b), ["test split was left as it was"]),
    (lambda a, b: (a, standardize_with(a, b)[1]), ["training split was left as it was"]),
    (lambda a, b: standardize_with(a, b)[::-1], ["swapped order"]),
    (lambda a, b: (standardize_with(a, b)[0], standardize_with(a, b, correction=0)[1]),
     ["test_z has the wrong values"]),
], ids=["only-train", "only-test", "swapped", "mixed-conventions"])
def test_standardize_only_one_split_or_swapped(wrong, words):
    assert_fails_naming(classify.check_standardize(wrong), *words)


def test_sentence_features_as_numpy():
    def numpy_features(hidden, mask, pooling):
        h, m = hidden.numpy(), mask.numpy().astype(bool)[..., None]
        if pooling == "cls":
            return h[:, 0]
        if pooling == "average":
            return (h * m).sum(axis=1) / m.sum(axis=1)
        return np.where(m, h, -np.inf).max(axis=1)

    assert_passes(classify.check_sentence_features(numpy_features))


def cjk_by_name(text):
    def is_ideograph(char):
        return unicodedata.name(char, "").startswith(("CJK UNIFIED IDEOGRAPH",
                                                       "CJK COMPATIBILITY IDEOGRAPH"))

    return "".join(f" {c} " if is_ideograph(c) else c for c in text)


def test_cjk_by_unicode_name_is_right_too():
    assert_passes(where_next.check_space_around_cjk(cjk_by_name))


def spaced(text, rule):
    return "".join(f" {c} " if rule(ord(c)) else c for c in text)


BERT_BLOCKS = [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
               (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)]


@pytest.mark.parametrize("block", BERT_BLOCKS, ids=lambda b: f"U+{b[0]:04X}")
def test_cjk_every_named_block_is_needed(block):
    def without_block(text):
        return spaced(text, lambda code: any(low <= code <= high for low, high in BERT_BLOCKS
                                             if (low, high) != block))

    assert not where_next.check_space_around_cjk(without_block).passed


@pytest.mark.parametrize("rule, words", [
    (lambda code: any(lo <= code <= hi for lo, hi in BERT_BLOCKS) and code < 0x10000,
     ["below U+10000"]),
    (lambda code: any(lo <= code < hi for lo, hi in BERT_BLOCKS), ["last code point"]),
    (lambda code: any(lo <= code <= hi for lo, hi in BERT_BLOCKS[:6]), ["compatibility"]),
], ids=["bmp-only", "range-end-excluded", "no-compatibility"])
def test_cjk_partial_ranges_are_named(rule, words):
    assert_fails_naming(where_next.check_space_around_cjk(lambda t: spaced(t, rule)), *words)
