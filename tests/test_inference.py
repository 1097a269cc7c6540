"""``cl.InferenceBert`` and the readable model both equal `transformers.BertModel`.

Engine paths: fused attention (uniform and padded batches), padding-free batches, attention maps
(hand-written attention), hidden states, the pooler, bf16. Readable model paths: fused and
hand-written attention, grad mode and no-grad. Most cases use a 3-layer model of BERT-base width
written by `transformers`; one checks the full 12-layer BERT-base, and the shipped MiniLM runs
through every path as well.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from helpers import padded_batch, reference_model

import course_lib as cl

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


def _reference_outputs(reference, ids, mask=None, segments=None, **flags):
    with torch.no_grad():
        return reference(input_ids=ids, attention_mask=mask, token_type_ids=segments, **flags)


def _gap(ours: torch.Tensor, theirs: torch.Tensor, real: torch.Tensor) -> float:
    """Largest difference over real tokens; ``real`` is (batch, seq) bool."""
    return (ours - theirs)[real].abs().max().item()


@pytest.mark.parametrize("prepack", [True, False])
def test_uniform_batch_equals_sdpa_reference(models, prepack):
    ours, sdpa, _ = models
    engine = cl.InferenceBert.from_model(ours, prepack=prepack)
    assert engine.prepacked == (prepack and torch.backends.mkldnn.is_available())
    ids = torch.randint(1000, 30000, (2, 33), generator=torch.Generator().manual_seed(1))
    segments = torch.zeros_like(ids)
    segments[:, 20:] = 1
    mine = engine(ids, token_type_ids=segments).last_hidden_state
    single = engine(ids[:1]).last_hidden_state
    theirs = _reference_outputs(sdpa, ids, segments=segments).last_hidden_state
    theirs_single = _reference_outputs(sdpa, ids[:1]).last_hidden_state
    everything = torch.ones(ids.shape, dtype=torch.bool)
    assert _gap(mine, theirs, everything) < TOLERANCE
    assert _gap(single, theirs_single, everything[:1]) < TOLERANCE


@pytest.mark.parametrize("prepack", [True, False])
@pytest.mark.parametrize("padding_free", [False, True])
def test_padded_batch_equals_reference(models, padding_free, prepack):
    ours, sdpa, _ = models
    engine = cl.InferenceBert.from_model(ours, padding_free=padding_free, prepack=prepack)
    ids, mask, segments = padded_batch(ours.config.vocab_size, LENGTHS)
    real = mask.bool()
    mine = engine(ids, mask, segments, output_hidden_states=True)
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


def test_padding_free_handles_holes_and_right_padding(models):
    """Each real token keeps its position and sees only its own text."""
    ours = models[0]
    ids, _, segments = padded_batch(ours.config.vocab_size, (12, 12), seed=3)
    mask = torch.ones_like(ids)
    mask[0, 5:7] = 0  # a hole
    mask[1, 11] = 0  # right padding
    real = mask.bool()
    padded = cl.InferenceBert.from_model(ours, padding_free=False)(ids, mask, segments)
    packed = cl.InferenceBert.from_model(ours)(ids, mask, segments)
    assert _gap(packed.last_hidden_state, padded.last_hidden_state, real) < TOLERANCE
    assert torch.all(packed.last_hidden_state[~real] == 0)


def test_padding_free_refuses_a_hidden_cls_position(models):
    """Left padding hides [CLS]; padding-free would return a zero [CLS] vector: refused."""
    ours = models[0]
    ids, _, segments = padded_batch(ours.config.vocab_size, (12, 12), seed=3)
    mask = torch.ones_like(ids)
    mask[1, :4] = 0
    with pytest.raises(ValueError, match=r"hides position 1 \(\[CLS\]\) of text 2"):
        cl.InferenceBert.from_model(ours)(ids, mask, segments)
    padded = cl.InferenceBert.from_model(ours, padding_free=False)(ids, mask, segments)
    reference = ours(ids, mask, segments).last_hidden_state.detach()
    assert _gap(padded.last_hidden_state, reference, mask.bool()) < TOLERANCE


@pytest.mark.parametrize("prepack", [True, False])
def test_attention_maps_equal_eager_reference(models, prepack):
    ours, _, eager = models
    engine = cl.InferenceBert.from_model(ours, prepack=prepack)  # maps: this run stays padded
    ids, mask, segments = padded_batch(ours.config.vocab_size, LENGTHS, seed=2)
    real = mask.bool()
    mine = engine(ids, mask, segments, output_attentions=True)
    theirs = _reference_outputs(eager, ids, mask, segments, output_attentions=True)
    assert _gap(mine.last_hidden_state, theirs.last_hidden_state, real) < TOLERANCE
    keep = real[:, None, :, None] & real[:, None, None, :]  # real query and key positions
    for layer, (a, b) in enumerate(zip(mine.attentions, theirs.attentions, strict=True)):
        assert a.shape == b.shape == (len(LENGTHS), ours.config.num_heads, 40, 40)
        assert (a - b).abs().masked_fill(~keep, 0).max().item() < TOLERANCE, f"layer {layer}"
        assert torch.allclose(a.sum(-1), torch.ones(()), atol=1e-5)  # rows are distributions


@pytest.mark.parametrize("route", ["fused, no_grad", "hand-written, no_grad", "grad mode",
                                   "inference_mode"])
def test_readable_model_equals_reference(models, route):
    """The modules the notebooks build are the model: every route equals the reference."""
    ours, sdpa, eager = models
    ids, mask, segments = padded_batch(ours.config.vocab_size, LENGTHS, seed=4)
    real = mask.bool()
    maps = route != "fused, no_grad"
    try:
        ours.set_fused_attention(route != "hand-written, no_grad")
        if route == "grad mode":
            mine = ours(ids, mask, segments, output_attentions=maps)
            assert mine.last_hidden_state.requires_grad, "grad mode must keep the graph"
        else:
            context = torch.inference_mode() if route == "inference_mode" else torch.no_grad()
            with context:
                mine = ours(ids, mask, segments, output_attentions=maps)
    finally:
        ours.set_fused_attention(True)
    theirs = _reference_outputs(eager if maps else sdpa, ids, mask, segments,
                                output_attentions=maps)
    assert _gap(mine.last_hidden_state.detach(), theirs.last_hidden_state, real) < TOLERANCE
    if maps:
        keep = real[:, None, :, None] & real[:, None, None, :]
        for a, b in zip(mine.attentions, theirs.attentions, strict=True):
            assert (a.detach() - b).abs().masked_fill(~keep, 0).max().item() < TOLERANCE


@pytest.mark.filterwarnings("ignore:precision='bf16' on a CPU without")  # numerics, even if slow
@pytest.mark.parametrize("padding_free", [False, True])
def test_bf16_is_close_to_fp32_reference(models, padding_free):
    """bf16: cosine similarity of every real token's vector with the fp32 reference >= 0.999."""
    ours, sdpa, _ = models
    ids, mask, segments = padded_batch(ours.config.vocab_size, LENGTHS, seed=5)
    real = mask.bool()
    engine = cl.InferenceBert.from_model(ours, padding_free=padding_free, precision="bf16")
    mine = engine(ids, mask, segments).last_hidden_state
    with_maps = engine(ids, mask, segments, output_attentions=True)
    theirs = _reference_outputs(sdpa, ids, mask, segments).last_hidden_state
    assert mine.dtype == torch.float32 and with_maps.attentions[0].dtype == torch.float32
    for vectors in (mine, with_maps.last_hidden_state):
        cosine = F.cosine_similarity(vectors[real], theirs[real], dim=-1)
        assert cosine.min().item() >= BF16_MIN_COSINE
    assert _gap(mine, theirs, real) > 1e-4, "bf16 mode should really compute in bf16"


@pytest.mark.parametrize("flags, warns", [
    ({"avx2", "fma"}, True), ({"avx2", "avx512_bf16"}, False),
    ({"avx512f", "amx_bf16", "amx_tile"}, False), (set(), True)])
def test_bf16_warns_on_a_cpu_without_bf16_units(monkeypatch, flags, warns):
    """The CPU's flags decide: without AMX or AVX512-BF16, bf16 says it is slow (never silent)."""
    import warnings

    from course_lib import inference

    monkeypatch.setattr(inference, "cpu_flags", lambda: flags)
    torch.manual_seed(0)
    model = cl.BertModel(cl.BertConfig.tiny()).eval()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cl.InferenceBert.from_model(model, precision="bf16")
        cl.InferenceBert.from_model(model, precision="fp32")  # fp32 never warns
    said = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(said) == int(warns), said
    if warns:
        assert "no amx_bf16 or avx512_bf16" in said[0] and "precision='fp32'" in said[0]
        assert caught[0].filename == __file__  # the warning points at the caller's line


def test_prepack_defaults_to_where_it_measured_faster(models, monkeypatch):
    """prepack=None (the default) prepacks on AMD CPUs only; an explicit choice wins."""
    from course_lib import inference

    ours = models[0]
    for vendor, expected in (("AuthenticAMD", True), ("GenuineIntel", False), ("", False)):
        monkeypatch.setattr(inference, "cpu_info", lambda field, v=vendor: v)
        assert inference.prepack_pays() is expected
        engine = cl.InferenceBert.from_model(ours)
        assert engine.prepacked == (expected and torch.backends.mkldnn.is_available())
        assert not cl.InferenceBert.from_model(ours, prepack=False).prepacked


def test_cpu_flags_are_read_from_cpuinfo():
    import platform

    from course_lib.inference import cpu_flags

    flags = cpu_flags()
    assert isinstance(flags, set)
    if platform.machine() == "x86_64" and Path("/proc/cpuinfo").exists():
        assert "sse2" in flags, sorted(flags)[:10]  # every x86-64 CPU lists it


def test_pooler_output_equals_the_model():
    torch.manual_seed(0)
    model = cl.BertModel(cl.BertConfig.tiny(), add_pooler=True).eval()
    ids = torch.randint(1, 120, (3, 9))
    expected = model(ids).pooler_output.detach()
    assert (cl.InferenceBert.from_model(model)(ids).pooler_output - expected).abs().max() < 1e-6


def test_precision_and_model_must_be_valid():
    model = cl.BertModel(cl.BertConfig.tiny())
    with pytest.raises(ValueError, match="precision must be one of 'fp32', 'bf16', 'int8'"):
        cl.InferenceBert.from_model(model, precision="float16")
    with pytest.raises(TypeError, match="needs a cl.BertModel, got Linear"):
        cl.InferenceBert.from_model(torch.nn.Linear(2, 2))


def test_engine_is_a_snapshot_of_the_weights():
    """Documented: a later change to the model is not seen until from_model runs again."""
    torch.manual_seed(0)
    model = cl.BertModel(cl.BertConfig.tiny()).eval()
    ids = torch.randint(1, 120, (2, 10))
    engine = cl.InferenceBert.from_model(model)
    before = engine(ids).last_hidden_state
    with torch.no_grad():
        model.encoder.layers[0].feed_forward.output.weight.mul_(5.0)
    assert torch.equal(engine(ids).last_hidden_state, before)
    rebuilt = cl.InferenceBert.from_model(model)(ids).last_hidden_state
    assert (rebuilt - model(ids).last_hidden_state.detach()).abs().max() < TOLERANCE
    assert (rebuilt - before).abs().max() > 1e-3


def test_model_built_under_inference_mode_runs():
    torch.manual_seed(0)
    ids = torch.randint(1, 120, (2, 9))
    with torch.inference_mode():
        model = cl.BertModel(cl.BertConfig.tiny()).eval()
        expected = model(ids).last_hidden_state
    quick = cl.InferenceBert.from_model(model)(ids).last_hidden_state
    assert (quick - expected).abs().max().item() < TOLERANCE


@pytest.mark.parametrize("prepack", [True, False])
@pytest.mark.parametrize("activation", ["tanh", "gelu_new", "relu"])
def test_every_activation_is_respected(activation, prepack):
    """A named activation (fused where oneDNN knows it) or one replaced by hand (e.g. the
    notebook's own GELU) is what the engine computes."""
    torch.manual_seed(0)
    if activation == "tanh":
        model = cl.BertModel(cl.BertConfig.tiny()).eval()
        for layer in model.encoder.layers:
            layer.feed_forward.activation = torch.tanh
    else:
        model = cl.BertModel(cl.BertConfig.tiny(hidden_act=activation)).eval()
    ids = torch.randint(1, 120, (2, 9))
    quick = cl.InferenceBert.from_model(model, prepack=prepack)(ids).last_hidden_state
    assert (quick - model(ids).last_hidden_state.detach()).abs().max().item() < TOLERANCE


def test_inputs_and_hidden_states_are_not_overwritten(models):
    """The engine works in place on its own buffers only."""
    ours = models[0]
    engine = cl.InferenceBert.from_model(ours)
    ids, mask, segments = padded_batch(ours.config.vocab_size, (10, 6))
    copies = [t.clone() for t in (ids, mask, segments)]
    out = engine(ids, mask, segments, output_hidden_states=True)
    again = engine(ids, mask, segments, output_hidden_states=True)
    assert all(torch.equal(a, b) for a, b in zip((ids, mask, segments), copies, strict=True))
    assert all(torch.equal(a, b) for a, b in zip(out.hidden_states, again.hidden_states,
                                                   strict=True))
    assert torch.equal(out.hidden_states[-1], out.last_hidden_state)


def test_full_bert_base_equals_reference(random_base_folder):
    """One check on all 12 layers of BERT-base: the model, the engine fused, packed, maps."""
    ours = cl.load_pretrained(random_base_folder)
    eager = reference_model(random_base_folder, "eager")  # one reference load: 440 MB
    ids, mask, segments = padded_batch(ours.config.vocab_size, (48, 30, 11), seed=8)
    real = mask.bool()
    theirs_eager = _reference_outputs(eager, ids, mask, segments, output_attentions=True)
    theirs = theirs_eager.last_hidden_state
    with torch.no_grad():
        readable = ours(ids, mask, segments).last_hidden_state
    fused = cl.InferenceBert.from_model(ours, padding_free=False)(ids, mask, segments)
    engine = cl.InferenceBert.from_model(ours)
    del ours
    packed = engine(ids, mask, segments).last_hidden_state
    maps = engine(ids, mask, segments, output_attentions=True)
    for mine in (readable, fused.last_hidden_state, packed, maps.last_hidden_state):
        assert _gap(mine, theirs, real) < TOLERANCE
    keep = real[:, None, :, None] & real[:, None, None, :]
    last = (maps.attentions[-1] - theirs_eager.attentions[-1]).abs().masked_fill(~keep, 0)
    assert last.max().item() < TOLERANCE


def test_time_shares_cover_the_whole_forward_pass():
    """The profiler breakdown the notebook and the benchmark print: groups that add up to 100."""
    from course_kit.profiling import OPERATION_GROUPS, OTHER, time_shares

    torch.manual_seed(0)
    model = cl.BertModel(cl.BertConfig.tiny()).eval()
    shares = time_shares(model, torch.randint(1, 120, (2, 16)))
    assert list(shares) == [*OPERATION_GROUPS, OTHER]
    assert abs(sum(shares.values()) - 100) < 1e-6
    assert shares["matrix multiplies (Q/K/V, output, feed-forward)"] > 0
    assert shares["attention (scores, softmax, weighted sum)"] > 0


# --- int8 ------------------------------------------------------------------------------------

INT8_MIN_MEAN_COSINE = 0.998  # int8: mean over real tokens of the cosine to fp32
INT8_MIN_COSINE = 0.99  # and no single token worse than this


def _real_text_batch():
    """The course's 360 topic sentences (notebook 10), tokenized by the shipped tokenizer."""
    import csv

    path = cl.course_file("data/sentences.csv")
    with open(path, encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    encoded = cl.load_tokenizer("minilm").encode_batch([row["text"] for row in rows])
    return rows, encoded["input_ids"], encoded["attention_mask"]


def test_quantizers_round_trip_within_half_a_step():
    from course_lib.inference import quantize_per_token, quantize_weight, quantize_with_zero_point

    generator = torch.Generator().manual_seed(0)
    x = torch.randn(6, 50, generator=generator) * torch.tensor([1, 5, 0.1, 3, 1, 2])[:, None]
    x[2] = x[2].abs()  # a token with no negative value: its range still holds 0
    x[4] = 0.0  # an all-zero token
    q, scale, zero = quantize_per_token(x)
    assert q.dtype == torch.uint8 and scale.shape == zero.shape == (6, 1)
    back = (q.float() - zero) * scale
    assert ((back - x).abs() <= scale / 2 + 1e-6).all()
    assert torch.all(back[x == 0] == 0), "0.0 must be exact"
    for zero_point in (128, 16, 0):
        shifted = x.abs() if zero_point == 0 else x  # zero point 0: inputs never negative
        q, scale = quantize_with_zero_point(shifted, zero_point, 0.0 if zero_point == 0 else None)
        assert q.dtype == torch.uint8 and scale.shape == (6, 1)
        back = (q.float() - zero_point) * scale
        assert ((back - shifted).abs() <= scale / 2 + 1e-6).all(), zero_point
        assert torch.all(back[shifted == 0] == 0), "0.0 must be exact"
    gelu = torch.nn.functional.gelu(x * 3)  # a known floor: only the top is measured
    q, scale = quantize_with_zero_point(gelu, 16, floor=-0.171)
    assert ((((q.float() - 16) * scale) - gelu).abs() <= scale / 2 + 1e-6).all()
    weight = torch.randn(7, 50, generator=generator)
    weight[3] = 0.0
    qw, w_scale = quantize_weight(weight)
    assert qw.dtype == torch.int8 and w_scale.shape == (7,) and qw.abs().max() <= 127
    assert ((qw.float() * w_scale[:, None] - weight).abs() <= w_scale[:, None] / 2 + 1e-6).all()
    for broken in (torch.tensor([[1.0, float("nan")]]), torch.tensor([[float("inf"), 0.0]])):
        with pytest.raises(ValueError, match="inf or NaN"):
            quantize_per_token(broken)
        with pytest.raises(ValueError, match="inf or NaN"):
            quantize_with_zero_point(broken, 128)


def test_activation_floors_lie_below_each_activations_minimum():
    """A dense layer after GELU or ReLU trusts that its inputs never go below the floor (no
    clamp): each floor must sit below the activation's true minimum, and close to it."""
    from course_lib.inference import ACTIVATION_RANGES, QuantizedDense, in_place_activation

    x = torch.linspace(-6, 6, 1_200_001)
    for activation, (floor, zero_point) in ACTIVATION_RANGES.items():
        lowest = in_place_activation(activation)(x.clone()).min().item()
        assert floor <= lowest < floor + 0.002, (activation, lowest)
        assert 0 <= zero_point < 128
    with pytest.raises(ValueError, match="negative inputs"):
        QuantizedDense.of(torch.nn.Linear(4, 2), onednn=False, zero_point=0)


@pytest.mark.parametrize("inputs", [{}, {"zero_point": 128}, {"zero_point": 16, "floor": -0.171}])
def test_int8_kernel_equals_its_emulation(models, inputs):
    """oneDNN's int8 product and the float32 emulation of the same arithmetic agree, for each
    way of quantizing the inputs (a zero point per token, one shared, one after GELU)."""
    from course_lib.inference import QuantizedDense

    ours = models[0]
    linear = ours.encoder.layers[0].feed_forward.intermediate
    x = torch.randn(37, linear.in_features, generator=torch.Generator().manual_seed(0))
    if "floor" in inputs:
        x = torch.nn.functional.gelu(x * 2)
    kernel = QuantizedDense.of(linear, onednn=True, **inputs)
    emulated = QuantizedDense.of(linear, onednn=False, **inputs)
    expected = linear(x).detach()
    got, emulation = kernel(x), emulated(x)
    assert (got - emulation).abs().max().item() < 1e-4
    residual = torch.randn_like(expected)
    summed = kernel.add_to(residual.clone(), x, in_place=True)
    assert (summed - (residual + emulation)).abs().max().item() < 1e-4
    assert ((got - expected).norm() / expected.norm()).item() < 0.03  # int8: close, not equal


@pytest.mark.parametrize("padding_free", [False, True])
def test_int8_is_close_to_fp32(models, padding_free):
    """Random IDs on both models: the int8 engine's vectors point where fp32's do."""
    ours = models[0]
    ids, mask, segments = padded_batch(ours.config.vocab_size, LENGTHS, seed=6)
    real = mask.bool()
    fp32 = cl.InferenceBert.from_model(ours)(ids, mask, segments).last_hidden_state
    engine = cl.InferenceBert.from_model(ours, padding_free=padding_free, precision="int8")
    assert "int8" in repr(engine)
    mine = engine(ids, mask, segments).last_hidden_state
    cosine = F.cosine_similarity(mine[real], fp32[real], dim=-1)
    assert cosine.mean().item() >= INT8_MIN_MEAN_COSINE and cosine.min().item() >= INT8_MIN_COSINE
    assert _gap(mine, fp32, real) > 1e-4, "int8 mode should really compute in int8"


def test_int8_on_real_text_keeps_hidden_states_and_accuracy():
    """The shipped MiniLM on notebook 10's 360 sentences: cosine to fp32 on real tokens, and
    the accuracy of notebook 10's frozen-feature probe (average pooling) within 1 point."""
    from course_lib import finetune as ft

    rows, ids, mask = _real_text_batch()
    model = cl.load_pretrained("minilm")
    real = mask.bool()
    fp32 = cl.InferenceBert.from_model(model)
    int8 = cl.InferenceBert.from_model(model, precision="int8")
    a, b = fp32(ids, mask).last_hidden_state, int8(ids, mask).last_hidden_state
    cosine = F.cosine_similarity(a[real], b[real], dim=-1)
    assert cosine.mean().item() >= INT8_MIN_MEAN_COSINE, cosine.mean().item()
    assert cosine.min().item() >= INT8_MIN_COSINE, cosine.min().item()

    names = sorted({row["label"] for row in rows})
    labels = torch.tensor([names.index(row["label"]) for row in rows])
    train = torch.tensor([row["split"] == "train" for row in rows])

    def probe_accuracy(engine) -> float:
        x = ft.sentence_vectors(engine, ids, mask)["average"]  # (360, hidden)
        mean, std = x[train].mean(0), x[train].std(0) + 1e-6
        x = (x - mean) / std  # standardised with training statistics only
        torch.manual_seed(0)
        classifier = torch.nn.Linear(x.shape[1], len(names))
        optimizer = torch.optim.Adam(classifier.parameters(), lr=0.01)
        for _ in range(200):
            optimizer.zero_grad()
            F.cross_entropy(classifier(x[train]), labels[train]).backward()
            optimizer.step()
        with torch.no_grad():
            return (classifier(x[~train]).argmax(1) == labels[~train]).float().mean().item()

    fp32_accuracy, int8_accuracy = probe_accuracy(fp32), probe_accuracy(int8)
    assert fp32_accuracy > 0.8  # the probe works at all
    assert abs(int8_accuracy - fp32_accuracy) <= 0.01 + 1e-9, (fp32_accuracy, int8_accuracy)
