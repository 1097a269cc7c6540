"""Every fast path equals `transformers.BertModel` on the same weights.

Paths: the inference fast path with fused attention (uniform and padded batches), with attention
maps (hand-written attention), padding-free batches, hidden states, bf16; and the module path
(training/grad mode, and the hand-written attention forced by ``set_fused_attention(False)``).
Most cases use a 3-layer model of BERT-base width written by `transformers`; one checks the
full 12-layer BERT-base, and the shipped MiniLM runs through every path as well.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from helpers import padded_batch, reference_model

import course_lib as cl
from course_lib import fast

TOLERANCE = 1e-5  # fp32 paths: max abs difference on real tokens
BF16_MIN_COSINE = 0.999
LENGTHS = (40, 25, 9, 3)  # a mixed-length batch, padded to 40


@pytest.fixture(scope="module")
def shallow_base_folder(tmp_path_factory):
    """A random 3-layer model of BERT-base width (768, 12 heads), saved by `transformers`."""
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(99)
    reference = transformers.BertModel(transformers.BertConfig(num_hidden_layers=3))
    folder = tmp_path_factory.mktemp("shallow-bert-base")
    reference.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module", params=["shallow_base", "minilm"])
def models(request, shallow_base_folder):
    """(ours, reference with SDPA, reference with eager attention) on the same weights."""
    folder = shallow_base_folder if request.param == "shallow_base" else cl.minilm_folder()
    ours = cl.load_pretrained(folder)
    return ours, reference_model(folder, "sdpa"), reference_model(folder, "eager")


@pytest.fixture
def ours_fresh(models):
    """Our model with every switch at its default, restored after the test."""
    ours = models[0]
    yield ours
    ours.set_padding_free(False)
    ours.set_precision("fp32")
    ours.set_fused_attention(True)


def _reference_outputs(reference, ids, mask=None, segments=None, **flags):
    with torch.no_grad():
        return reference(input_ids=ids, attention_mask=mask, token_type_ids=segments, **flags)


def _gap(ours: torch.Tensor, theirs: torch.Tensor, real: torch.Tensor) -> float:
    """Largest difference over real tokens; ``real`` is (batch, seq) bool."""
    return (ours - theirs)[real].abs().max().item()


def test_fast_path_runs_only_in_inference(ours_fresh, monkeypatch):
    calls = []
    original = fast.forward
    monkeypatch.setattr(fast, "forward", lambda *a, **k: calls.append(1) or original(*a, **k))
    ids = torch.randint(1000, 2000, (1, 8))
    with torch.no_grad():
        ours_fresh(ids)
    assert len(calls) == 1, "no_grad + eval should take the fast path"
    ours_fresh(ids)  # grad mode: the modules, so gradients can flow
    with torch.no_grad():
        ours_fresh.set_fused_attention(False)  # hand-written attention, as the notebooks build it
        ours_fresh(ids)
        ours_fresh.set_fused_attention(True)
        handle = ours_fresh.encoder.layers[0].register_forward_hook(lambda *args: None)
        ours_fresh(ids)  # a hook must see its module called
        handle.remove()
        ours_fresh.train()
        ours_fresh(ids)  # dropout is active in training: the modules
        ours_fresh.eval()
    assert len(calls) == 1


def test_uniform_batch_equals_sdpa_reference(models, ours_fresh):
    _, sdpa, _ = models
    ids = torch.randint(1000, 30000, (2, 33), generator=torch.Generator().manual_seed(1))
    segments = torch.zeros_like(ids)
    segments[:, 20:] = 1
    with torch.no_grad():
        mine = ours_fresh(ids, token_type_ids=segments).last_hidden_state
        single = ours_fresh(ids[:1]).last_hidden_state
    theirs = _reference_outputs(sdpa, ids, segments=segments).last_hidden_state
    theirs_single = _reference_outputs(sdpa, ids[:1]).last_hidden_state
    everything = torch.ones(ids.shape, dtype=torch.bool)
    assert _gap(mine, theirs, everything) < TOLERANCE
    assert _gap(single, theirs_single, everything[:1]) < TOLERANCE


@pytest.mark.parametrize("padding_free", [False, True])
def test_padded_batch_equals_reference(models, ours_fresh, padding_free):
    _, sdpa, _ = models
    ids, mask, segments = padded_batch(ours_fresh.config.vocab_size, LENGTHS)
    real = mask.bool()
    ours_fresh.set_padding_free(padding_free)
    with torch.no_grad():
        mine = ours_fresh(ids, mask, segments, output_hidden_states=True)
    theirs = _reference_outputs(sdpa, ids, mask, segments, output_hidden_states=True)
    assert _gap(mine.last_hidden_state, theirs.last_hidden_state, real) < TOLERANCE
    assert len(mine.hidden_states) == len(theirs.hidden_states)
    for layer, (a, b) in enumerate(zip(mine.hidden_states, theirs.hidden_states, strict=True)):
        assert a.shape == b.shape
        assert _gap(a, b, real) < TOLERANCE, f"hidden state {layer}"
    if padding_free:  # documented: padded positions hold zeros
        assert torch.all(mine.last_hidden_state[~real] == 0)
        assert all(torch.all(h[~real] == 0) for h in mine.hidden_states)
    else:  # computed as the reference computes them
        assert (mine.last_hidden_state - theirs.last_hidden_state).abs().max().item() < TOLERANCE


def test_padding_free_handles_any_mask_pattern(ours_fresh):
    """Left padding and holes: each real token keeps its position and sees its own sequence."""
    ids, _, segments = padded_batch(ours_fresh.config.vocab_size, (12, 12, 12), seed=3)
    mask = torch.ones_like(ids)
    mask[0, :4] = 0  # left padding
    mask[1, 5:7] = 0  # a hole
    mask[2, 11] = 0  # right padding
    real = mask.bool()
    with torch.no_grad():
        padded = ours_fresh(ids, mask, segments).last_hidden_state
        ours_fresh.set_padding_free(True)
        packed = ours_fresh(ids, mask, segments).last_hidden_state
    assert _gap(packed, padded, real) < TOLERANCE
    assert torch.all(packed[~real] == 0)


def test_attention_maps_equal_eager_reference(models, ours_fresh):
    _, _, eager = models
    ids, mask, segments = padded_batch(ours_fresh.config.vocab_size, LENGTHS, seed=2)
    real = mask.bool()
    ours_fresh.set_padding_free(True)  # maps need the square: this run stays padded
    with torch.no_grad():
        mine = ours_fresh(ids, mask, segments, output_attentions=True)
    theirs = _reference_outputs(eager, ids, mask, segments, output_attentions=True)
    assert _gap(mine.last_hidden_state, theirs.last_hidden_state, real) < TOLERANCE
    keep = real[:, None, :, None] & real[:, None, None, :]  # real query and key positions
    for layer, (a, b) in enumerate(zip(mine.attentions, theirs.attentions, strict=True)):
        assert a.shape == b.shape == (len(LENGTHS), ours_fresh.config.num_heads, 40, 40)
        assert (a - b).abs().masked_fill(~keep, 0).max().item() < TOLERANCE, f"layer {layer}"
        assert torch.allclose(a.sum(-1), torch.ones(()), atol=1e-5)  # rows are distributions


@pytest.mark.parametrize("route", ["hand-written modules", "grad mode"])
def test_module_paths_equal_reference(models, ours_fresh, route):
    """The modules themselves (what the notebooks build) still equal the reference."""
    _, _, eager = models
    ids, mask, segments = padded_batch(ours_fresh.config.vocab_size, LENGTHS, seed=4)
    real = mask.bool()
    if route == "hand-written modules":
        ours_fresh.set_fused_attention(False)
        with torch.no_grad():
            mine = ours_fresh(ids, mask, segments, output_attentions=True)
    else:
        mine = ours_fresh(ids, mask, segments, output_attentions=True)
        assert mine.last_hidden_state.requires_grad, "grad mode must keep the graph"
    theirs = _reference_outputs(eager, ids, mask, segments, output_attentions=True)
    assert _gap(mine.last_hidden_state.detach(), theirs.last_hidden_state, real) < TOLERANCE
    keep = real[:, None, :, None] & real[:, None, None, :]
    for a, b in zip(mine.attentions, theirs.attentions, strict=True):
        assert (a.detach() - b).abs().masked_fill(~keep, 0).max().item() < TOLERANCE


@pytest.mark.parametrize("grad", [False, True])
def test_bf16_is_close_to_fp32_reference(models, ours_fresh, grad):
    """bf16: cosine similarity of every real token's vector with the fp32 reference >= 0.999."""
    _, sdpa, _ = models
    ids, mask, segments = padded_batch(ours_fresh.config.vocab_size, LENGTHS, seed=5)
    real = mask.bool()
    ours_fresh.set_precision("bf16")
    with torch.set_grad_enabled(grad):  # the fast path, or the modules under autocast
        mine = ours_fresh(ids, mask, segments).last_hidden_state.detach()
    theirs = _reference_outputs(sdpa, ids, mask, segments).last_hidden_state
    assert mine.dtype == torch.float32
    cosine = F.cosine_similarity(mine[real], theirs[real], dim=-1)
    assert cosine.min().item() >= BF16_MIN_COSINE
    assert _gap(mine, theirs, real) > 1e-4, "bf16 mode should really compute in bf16"
    ours_fresh.set_precision("fp32")
    with torch.no_grad():
        back = ours_fresh(ids, mask, segments).last_hidden_state
    assert _gap(back, theirs, real) < TOLERANCE


def test_bf16_with_maps_and_padding_free(ours_fresh, models):
    _, sdpa, _ = models
    ids, mask, segments = padded_batch(ours_fresh.config.vocab_size, LENGTHS, seed=6)
    real = mask.bool()
    theirs = _reference_outputs(sdpa, ids, mask, segments).last_hidden_state
    ours_fresh.set_precision("bf16")
    ours_fresh.set_padding_free(True)
    with torch.no_grad():
        packed = ours_fresh(ids, mask, segments).last_hidden_state
        with_maps = ours_fresh(ids, mask, segments, output_attentions=True)
    for mine in (packed, with_maps.last_hidden_state):
        assert F.cosine_similarity(mine[real], theirs[real], dim=-1).min() >= BF16_MIN_COSINE
    assert with_maps.attentions[0].dtype == torch.float32


def test_precision_must_be_named():
    model = cl.BertModel(cl.BertConfig.tiny())
    with pytest.raises(ValueError, match="precision must be one of 'fp32', 'bf16'"):
        model.set_precision("float16")


def test_cached_weights_follow_weight_changes(ours_fresh):
    """The stacked Q/K/V copy is rebuilt after an in-place change; ``.data`` needs a clear."""
    ids = torch.randint(1000, 2000, (2, 10), generator=torch.Generator().manual_seed(7))
    query = ours_fresh.encoder.layers[0].attention.query.weight
    original = query.detach().clone()

    def fast_and_modules():
        with torch.no_grad():
            quick = ours_fresh(ids).last_hidden_state
        slow = ours_fresh(ids).last_hidden_state.detach()  # grad mode: the modules
        return quick, slow

    try:
        before, _ = fast_and_modules()
        with torch.no_grad():
            query.mul_(1.5)  # bumps the version counter
        quick, slow = fast_and_modules()
        assert (quick - slow).abs().max().item() < TOLERANCE
        assert (quick - before).abs().max().item() > 1e-3
        query.data.copy_(original)  # invisible to the version counter ...
        ours_fresh.clear_fast_cache()  # ... so the cache is dropped by hand
        quick, slow = fast_and_modules()
        assert (quick - slow).abs().max().item() < TOLERANCE
        assert (quick - before).abs().max().item() < TOLERANCE
    finally:
        with torch.no_grad():
            query.copy_(original)


def test_model_built_under_inference_mode_runs():
    """Parameters made under inference_mode have no version counter: nothing is cached then."""
    torch.manual_seed(0)
    ids = torch.randint(1, 120, (2, 9))
    with torch.inference_mode():
        model = cl.BertModel(cl.BertConfig.tiny()).eval()
        quick = model(ids).last_hidden_state
        model.set_fused_attention(False)
        by_hand = model(ids).last_hidden_state
    assert (quick - by_hand).abs().max().item() < TOLERANCE


def test_swapped_activation_is_respected():
    """An activation replaced by hand (e.g. the notebook's own GELU) is used by the fast path."""
    torch.manual_seed(0)
    model = cl.BertModel(cl.BertConfig.tiny()).eval()
    for layer in model.encoder.layers:
        layer.feed_forward.activation = torch.tanh
    ids = torch.randint(1, 120, (2, 9))
    with torch.no_grad():
        quick = model(ids).last_hidden_state
    slow = model(ids).last_hidden_state.detach()
    assert (quick - slow).abs().max().item() < TOLERANCE


def test_inputs_and_hidden_states_are_not_overwritten(ours_fresh):
    """The fast path works in place on its own buffers only."""
    ids, mask, segments = padded_batch(ours_fresh.config.vocab_size, (10, 6))
    copies = [t.clone() for t in (ids, mask, segments)]
    with torch.no_grad():
        out = ours_fresh(ids, mask, segments, output_hidden_states=True)
        again = ours_fresh(ids, mask, segments, output_hidden_states=True)
    assert all(torch.equal(a, b) for a, b in zip((ids, mask, segments), copies, strict=True))
    assert all(torch.equal(a, b) for a, b in zip(out.hidden_states, again.hidden_states,
                                                   strict=True))
    assert torch.equal(out.hidden_states[-1], out.last_hidden_state)


def test_full_bert_base_fast_paths_equal_reference(random_base_folder):
    """One check on all 12 layers of BERT-base: fused, padding-free, maps."""
    ours = cl.load_pretrained(random_base_folder)
    eager = reference_model(random_base_folder, "eager")  # one reference load: 440 MB
    ids, mask, segments = padded_batch(ours.config.vocab_size, (48, 30, 11), seed=8)
    real = mask.bool()
    theirs_eager = _reference_outputs(eager, ids, mask, segments, output_attentions=True)
    theirs = theirs_eager.last_hidden_state
    with torch.no_grad():
        fused = ours(ids, mask, segments).last_hidden_state
        maps = ours(ids, mask, segments, output_attentions=True)
        ours.set_padding_free(True)
        packed = ours(ids, mask, segments).last_hidden_state
    assert _gap(fused, theirs, real) < TOLERANCE
    assert _gap(packed, theirs, real) < TOLERANCE
    assert _gap(maps.last_hidden_state, theirs_eager.last_hidden_state, real) < TOLERANCE
    keep = real[:, None, :, None] & real[:, None, None, :]
    last = (maps.attentions[-1] - theirs_eager.attentions[-1]).abs().masked_fill(~keep, 0)
    assert last.max().item() < TOLERANCE


def test_time_shares_cover_the_whole_forward_pass():
    """The profiler breakdown the notebook and the benchmark print: groups that add up to 100."""
    from course_lib.profiling import OPERATION_GROUPS, OTHER, time_shares

    torch.manual_seed(0)
    model = cl.BertModel(cl.BertConfig.tiny()).eval()
    shares = time_shares(model, torch.randint(1, 120, (2, 16)))
    assert list(shares) == [*OPERATION_GROUPS, OTHER]
    assert abs(sum(shares.values()) - 100) < 1e-6
    assert shares["matrix multiplies (Q/K/V, output, feed-forward)"] > 0
    assert shares["attention (scores, softmax, weighted sum)"] > 0
