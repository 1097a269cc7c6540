"""The attention explorer: maps, head patterns, rollout, pictures, export, the widget driven from
Python, and the checkers of notebook 08's exercises."""

from __future__ import annotations

import io
import statistics
import time

import numpy as np
import pytest
import torch
from PIL import Image

import course_lib as cl
from course_lib.checks.explorer import check_rollout, check_sep_share
from course_lib.explorer import (
    AttentionExplorer,
    attention_rollout,
    head_pattern_scores,
    head_view_png,
    label_head,
    maps_from_weights,
    render_attention_map,
    render_grid,
    renormalise_rows,
    save_png,
    select_view,
    static_html_page,
)
from course_lib.explorer import models as explorer_models
from course_lib.explorer.render import image_to_png, resample

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TOKENS = ["[CLS]", "the", "cat", "sat", "down", "[SEP]"]


def png_size(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size


# ----- hand-made maps: one head per pattern ------------------------------------------------

def one_hot_rows(targets: list[int], seq: int) -> np.ndarray:
    """A (seq, seq) map where row i puts all its attention on targets[i]."""
    matrix = np.zeros((seq, seq), dtype=np.float32)
    matrix[np.arange(seq), targets] = 1.0
    return matrix


def pattern_maps() -> np.ndarray:
    """One layer, seven heads: [CLS], [SEP], previous, same, next, broad, mixed."""
    seq = len(TOKENS)
    to_cls = one_hot_rows([0] * seq, seq)
    to_sep = one_hot_rows([seq - 1] * seq, seq)
    previous = one_hot_rows([max(i - 1, 0) for i in range(seq)], seq)
    same = one_hot_rows(list(range(seq)), seq)
    following = one_hot_rows([min(i + 1, seq - 1) for i in range(seq)], seq)
    uniform = np.full((seq, seq), 1.0 / seq, dtype=np.float32)
    mixed = 0.4 * to_cls + 0.35 * same + 0.25 * to_sep  # no share reaches 0.5, narrow
    return np.stack([to_cls, to_sep, previous, same, following, uniform, mixed])[None]


def test_pattern_labels_on_hand_made_maps():
    patterns = head_pattern_scores(pattern_maps(), TOKENS)
    assert list(patterns.labels[0]) == ["[CLS]", "[SEP]", "previous", "same", "next", "broad",
                                        "mixed"]
    assert patterns.heads_labelled("previous") == [(0, 2)]


def test_pattern_shares_have_the_defined_values():
    patterns = head_pattern_scores(pattern_maps(), TOKENS)
    seq = len(TOKENS)
    np.testing.assert_allclose(patterns.shares["[CLS]"][0, :2], [1.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(patterns.shares["[SEP]"][0, :2], [0.0, 1.0], atol=1e-6)
    # previous: averaged over the tokens that have one (rows 1..seq-1); row i -> i-1 everywhere
    assert patterns.shares["previous"][0, 2] == pytest.approx(1.0)
    assert patterns.shares["next"][0, 4] == pytest.approx(1.0)
    assert patterns.shares["same"][0, 3] == pytest.approx(1.0)
    # the uniform head: every share 1/seq, entropy log(seq), broadness 1
    assert patterns.shares["same"][0, 5] == pytest.approx(1 / seq)
    assert patterns.entropy[0, 5] == pytest.approx(np.log(seq), rel=1e-5)
    assert patterns.broadness[0, 5] == pytest.approx(1.0, rel=1e-5)
    assert patterns.entropy[0, 0] == pytest.approx(0.0, abs=1e-6)  # one place per row
    assert patterns.shares["[CLS]"][0, 6] == pytest.approx(0.4 + 0.35 / seq, rel=1e-5)


def test_sep_share_counts_both_seps_of_a_pair():
    tokens = ["[CLS]", "a", "[SEP]", "b", "[SEP]"]
    half = np.zeros((5, 5), dtype=np.float32)
    half[:, 2] = 0.5
    half[:, 4] = 0.5
    patterns = head_pattern_scores(half[None, None], tokens)
    assert patterns.shares["[SEP]"][0, 0] == pytest.approx(1.0)
    assert patterns.labels[0, 0] == "[SEP]"


def test_label_head_thresholds():
    shares = {"[CLS]": 0.5, "[SEP]": 0.1, "previous": 0.1, "same": 0.2, "next": 0.1}
    assert label_head(shares, broadness=0.9) == "[CLS]"  # half the attention is enough
    shares["[CLS]"] = 0.49
    assert label_head(shares, broadness=0.9) == "broad"
    assert label_head(shares, broadness=0.5) == "mixed"


def test_pattern_scores_reject_wrong_shapes():
    with pytest.raises(ValueError, match="layers, heads, seq, seq"):
        head_pattern_scores(np.ones((2, 3, 3)), ["a", "b", "c"])
    with pytest.raises(ValueError, match="tokens"):
        head_pattern_scores(np.ones((1, 1, 3, 3)), ["a", "b"])


# ----- rollout --------------------------------------------------------------------------------

def test_rollout_equals_the_formula_on_a_small_case():
    layer1 = np.array([[[1.0, 0.0], [0.5, 0.5]], [[0.0, 1.0], [0.5, 0.5]]])  # two heads
    layer2 = np.array([[[0.2, 0.8], [1.0, 0.0]], [[0.2, 0.8], [0.0, 1.0]]])
    maps = np.stack([layer1, layer2])  # (2 layers, 2 heads, 2, 2)
    # by hand: mean of heads, + I, rows / 2 (each row then sums to 2)
    a1 = (np.array([[0.5, 0.5], [0.5, 0.5]]) + np.eye(2)) / 2  # [[.75,.25],[.25,.75]]
    a2 = (np.array([[0.2, 0.8], [0.5, 0.5]]) + np.eye(2)) / 2  # [[.6,.4],[.25,.75]]
    rollout = attention_rollout(maps)
    np.testing.assert_allclose(rollout[0], a1, atol=1e-6)
    np.testing.assert_allclose(rollout[1], a2 @ a1, atol=1e-6)
    np.testing.assert_allclose(rollout[1], [[0.55, 0.45], [0.375, 0.625]], atol=1e-6)


def test_rollout_rows_sum_to_one_and_shape():
    rng = np.random.default_rng(0)
    maps = renormalise_rows(rng.random((4, 3, 7, 7)))
    rollout = attention_rollout(maps)
    assert rollout.shape == (4, 7, 7)
    np.testing.assert_allclose(rollout.sum(-1), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="layers, heads, seq, seq"):
        attention_rollout(maps[0])


def test_renormalise_rows_keeps_zero_rows_zero():
    rows = np.array([[1.0, 3.0], [0.0, 0.0]])
    np.testing.assert_allclose(renormalise_rows(rows), [[0.25, 0.75], [0.0, 0.0]])


# ----- views: filters and hiding renormalise rows ---------------------------------------------

def pair_maps():
    tokens = ["[CLS]", "a", "b", "[SEP]", "c", "d", "[SEP]"]
    segments = [0, 0, 0, 0, 1, 1, 1]
    rng = np.random.default_rng(1)
    weights = renormalise_rows(rng.random((2, 3, 7, 7))).astype(np.float32)
    return maps_from_weights(weights, tokens, segments)


def test_hiding_special_tokens_drops_their_columns_and_renormalises():
    maps = pair_maps()
    view = select_view(maps, hide_special=True)
    assert view.col_tokens == ("a", "b", "c", "d")
    assert view.row_tokens == maps.tokens  # every token still looks
    np.testing.assert_allclose(view.weights.sum(-1), 1.0, atol=1e-5)
    kept = maps.weights[..., [1, 2, 4, 5]]
    np.testing.assert_allclose(view.weights, kept / kept.sum(-1, keepdims=True), rtol=1e-5)


@pytest.mark.parametrize("name,rows,cols", [("A->A", [0, 1, 2, 3], [0, 1, 2, 3]),
                                            ("A->B", [0, 1, 2, 3], [4, 5, 6]),
                                            ("B->A", [4, 5, 6], [0, 1, 2, 3]),
                                            ("B->B", [4, 5, 6], [4, 5, 6])])
def test_pair_filters_pick_rows_and_columns_and_renormalise(name, rows, cols):
    maps = pair_maps()
    view = select_view(maps, pair_filter=name)
    assert list(view.row_positions) == rows and list(view.col_positions) == cols
    np.testing.assert_allclose(view.weights.sum(-1), 1.0, atol=1e-5)
    part = maps.weights[:, :, rows][..., cols]
    np.testing.assert_allclose(view.weights, part / part.sum(-1, keepdims=True), rtol=1e-5)


def test_view_options_are_checked():
    maps = pair_maps()
    with pytest.raises(ValueError, match="pair_filter must be one of"):
        select_view(maps, pair_filter="A-B")
    single = maps_from_weights(maps.weights[..., :4, :4], maps.tokens[:4])
    with pytest.raises(ValueError, match="needs a sentence pair"):
        select_view(single, pair_filter="A->B")
    only_special = maps_from_weights(np.full((1, 1, 2, 2), 0.5), ["[CLS]", "[SEP]"])
    with pytest.raises(ValueError, match="no tokens are left"):
        select_view(only_special, hide_special=True)


def test_rollout_view_has_one_head():
    view = select_view(pair_maps(), rollout=True)
    assert view.weights.shape == (2, 1, 7, 7) and view.head_names == ("mean",)


def test_maps_from_weights_checks_its_input():
    with pytest.raises(ValueError, match="shape"):
        maps_from_weights(np.ones((2, 3, 3)), ["a", "b", "c"])
    with pytest.raises(ValueError, match="2 tokens"):
        maps_from_weights(np.ones((1, 1, 3, 3)), ["a", "b"])
    with pytest.raises(ValueError, match="non-negative"):
        maps_from_weights(-np.ones((1, 1, 2, 2)), ["a", "b"])
    with pytest.raises(ValueError, match="segments"):
        maps_from_weights(np.ones((1, 1, 2, 2)), ["a", "b"], segments=[0, 2])
    with pytest.raises(TypeError, match="list of strings"):
        maps_from_weights(np.ones((1, 1, 2, 2)), "ab")


# ----- pictures -------------------------------------------------------------------------------

def test_attention_map_picture_shows_the_values():
    matrix = one_hot_rows([1, 2, 0], 3)
    image = render_attention_map(matrix, ["x", "y", "z"], cell=20)
    other = render_attention_map(one_hot_rows([0, 1, 2], 3), ["x", "y", "z"], cell=20)
    assert image.size == other.size
    assert image.tobytes() != other.tobytes()
    pixels = np.asarray(image)
    dark = pixels.sum(axis=-1) < 200  # the three strongest cells are dark blue
    assert dark.sum() >= 3 * 20 * 20


def test_long_maps_stay_a_usable_size():
    tokens = ["[CLS]"] + ["word"] * 510 + ["[SEP]"]
    image = render_attention_map(np.eye(512, dtype=np.float32), tokens)
    assert max(image.size) < 800  # one pixel a token, labels thinned
    grid = render_grid(np.ones((12, 12, 512, 512), dtype=np.float16) / 512)
    assert max(grid.image.size) < 700  # 144 thumbnails, each downsampled


def test_thumbnails_average_blocks():
    values = np.arange(8, dtype=np.float32)[None]  # (1, 8)
    np.testing.assert_allclose(resample(values, 4, axis=-1), [[0.5, 2.5, 4.5, 6.5]])
    np.testing.assert_allclose(resample(values[:, :2], 4, axis=-1), [[0, 0, 1, 1]])


def test_grid_marks_the_selection_and_rejects_bad_shapes():
    grid = render_grid(pattern_maps())
    assert grid.with_selection(0, 1).tobytes() != grid.with_selection(0, 2).tobytes()
    with pytest.raises(ValueError, match="layers, heads, rows, cols"):
        render_grid(np.ones((3, 3)))
    with pytest.raises(ValueError, match="2-D"):
        render_attention_map(np.ones((2, 2, 2)), ["a", "b"])
    with pytest.raises(ValueError, match="labels"):
        render_attention_map(np.ones((2, 2)), ["a"])


def test_head_view_png_and_labels_of_any_script():
    tokens = ["[CLS]", "😀", "مرحبا", "你", "\x07bell", "[SEP]"]
    data = head_view_png(np.full((6, 6), 1 / 6), tokens, title="any script")
    assert data.startswith(PNG_MAGIC)


# ----- export -------------------------------------------------------------------------------

def test_static_html_page_embeds_the_grid_and_needs_no_script(tmp_path):
    maps = maps_from_weights(pattern_maps(), TOKENS)
    patterns = head_pattern_scores(maps.weights, maps.tokens)
    grid_png = image_to_png(render_grid(maps.weights).image)
    page = static_html_page(grid_png, maps, patterns, "title <&>", "attention")
    assert "data:image/png;base64," in page
    assert "<script" not in page.lower() and "http" not in page
    assert "title &lt;&amp;&gt;" in page
    assert page.count("<tr>") == 1 + 1  # header + one layer
    assert "prev" in page and "broad" in page


def test_save_png_refuses_other_bytes(tmp_path):
    with pytest.raises(ValueError, match="PNG"):
        save_png(b"not a png", tmp_path / "x.png")
    path = save_png(image_to_png(Image.new("RGB", (3, 3))), tmp_path / "x.png")
    assert path.read_bytes().startswith(PNG_MAGIC)


# ----- the widget, driven from Python ---------------------------------------------------------

@pytest.fixture(scope="module")
def minilm():
    return cl.load_pretrained("minilm"), cl.load_tokenizer("minilm")


@pytest.fixture()
def explorer(minilm):
    return AttentionExplorer(*minilm, text="The cat sat on the mat.")


def test_explorer_shows_a_picture_of_every_head(explorer, minilm):
    assert explorer.current_png().startswith(PNG_MAGIC)
    assert explorer.tokens[0] == "[CLS]" and explorer.tokens[-1] == "[SEP]"
    assert explorer.maps.weights.shape == (6, 12, 9, 9)
    assert explorer.patterns.labels.shape == (6, 12)
    assert explorer.model_choices[0] == "given"
    assert explorer.layer_select.options[0] == ("1", 0)  # shown from 1, indexed from 0


def test_every_control_changes_the_picture(explorer):
    seen = {explorer.current_png()}

    def changed(**kwargs):
        before = explorer.current_png()
        explorer.set_view(**kwargs)
        after = explorer.current_png()
        assert after.startswith(PNG_MAGIC)
        assert after != before, f"set_view({kwargs}) did not change the picture"
        seen.add(after)

    changed(layer=3)
    changed(head=7)
    changed(view="head")
    changed(layer=1)
    changed(head=2)
    changed(hide_special=True)
    changed(rollout=True)
    changed(rollout=False, hide_special=False)
    changed(view="token", token=2)
    changed(token=4)
    changed(view="patterns")
    changed(score="[SEP]")
    changed(score="broadness")
    changed(view="model", text_pair="It was tired.")
    changed(pair_filter="A->B")
    changed(pair_filter="B->B")
    changed(text="A different sentence entirely.", text_pair="")
    assert len(seen) == 17  # 18 pictures, one of them (options off again) seen before


def test_widget_controls_redraw_like_set_view(explorer):
    before = explorer.current_png()
    explorer.layer_select.value = 4  # as a click in the browser would do
    assert explorer.current_png() != before
    before = explorer.current_png()
    explorer.view_select.value = "head"
    assert explorer.current_png() != before
    before = explorer.current_png()
    explorer.text_box.value = "Dogs bark."
    assert explorer.tokens == ("[CLS]", "dogs", "bark", ".", "[SEP]")
    assert explorer.current_png() != before
    explorer.pair_box.value = "Cats do not."
    assert explorer.maps.has_pair and not explorer.pair_filter.disabled
    before = explorer.current_png()
    explorer.pair_filter.value = "B->A"
    assert explorer.current_png() != before
    explorer.show_button.click()  # recomputes the same text: same picture
    assert explorer.maps.has_pair


def test_shown_map_rows_are_renormalised(explorer):
    explorer.set_view(text="The cat sat.", text_pair="It slept.", layer=2, head=5)
    full = explorer.shown_map()
    np.testing.assert_allclose(full.sum(-1), 1.0, atol=1e-5)
    explorer.set_view(hide_special=True)
    hidden = explorer.shown_map()
    assert hidden.shape == (len(explorer.tokens), len(explorer.tokens) - 3)
    np.testing.assert_allclose(hidden.sum(-1), 1.0, atol=1e-5)
    explorer.set_view(hide_special=False, pair_filter="A->B")
    np.testing.assert_allclose(explorer.shown_map().sum(-1), 1.0, atol=1e-5)


def test_widget_rollout_is_the_formula(explorer):
    explorer.set_view(rollout=True, layer=3)
    expected = attention_rollout(explorer.maps.weights)[3]
    np.testing.assert_allclose(explorer.shown_map(), expected, atol=1e-6)
    assert explorer.head_select.disabled


@pytest.mark.parametrize("text,expected", [("", "empty"), ("   \n\t ", "empty"),
                                           ("\x00\x01\x02", "no word pieces")])
def test_blank_text_gives_a_message_not_a_traceback(explorer, text, expected):
    explorer.set_view(text=text)
    assert expected in explorer.message
    assert explorer.maps is None
    assert expected in explorer.status.value
    assert explorer.current_png().startswith(PNG_MAGIC)
    explorer.set_view(layer=2, view="head")  # controls keep working without maps
    assert expected in explorer.message
    explorer.set_view(text="Back to words.")
    assert explorer.maps is not None and explorer.message == ""


@pytest.mark.parametrize("text", ["I love it 😀🎉", "مرحبا بالعالم", "你好世界", "Привет, мир",
                                  "tab\there\x07 bell", "[SEP] [CLS] literal"])
def test_any_script_gives_a_result(explorer, text):
    explorer.set_view(text=text, view="head")
    assert explorer.maps is not None, explorer.message
    assert explorer.current_png().startswith(PNG_MAGIC)


def test_long_text_is_truncated_with_a_visible_note(explorer):
    explorer.set_view(text="word " * 600)
    assert explorer.maps.length == 512
    assert "602 tokens; only the first 512" in explorer.message
    assert "only the first 512" in explorer.status.value
    for view in ("model", "head", "token", "patterns"):
        explorer.set_view(view=view, layer=5, head=11, token=511)
        assert explorer.current_png().startswith(PNG_MAGIC)
    assert max(png_size(explorer.current_png())) < 1200


def test_set_view_names_the_rule_broken(explorer):
    with pytest.raises(ValueError, match="layer must be between 0 and 5"):
        explorer.set_view(layer=6)
    with pytest.raises(TypeError, match="head must be an integer"):
        explorer.set_view(head="2")
    with pytest.raises(ValueError, match="view must be one of"):
        explorer.set_view(view="grid")
    with pytest.raises(ValueError, match="needs a sentence B"):
        explorer.set_view(pair_filter="A->B")
    with pytest.raises(ValueError, match="model must be one of"):
        explorer.set_view(model="gpt2")
    with pytest.raises(TypeError, match="text must be a string"):
        explorer.set_view(text=42)


def test_a_refused_value_still_leaves_a_consistent_picture(explorer):
    before = explorer.current_png()
    with pytest.raises(ValueError, match="layer must be between"):
        explorer.set_view(text="Completely new words here.", layer=99)
    assert explorer.tokens[1:3] == ("completely", "new")
    assert explorer.current_png() != before  # redrawn for the new text
    explorer.set_view(layer=np.int64(2), head=np.int64(3))  # NumPy integers are fine
    assert explorer.layer_select.value == 2 and type(explorer.layer_select.value) is int


def test_callbacks_print_nothing(explorer, capsys):
    explorer.layer_select.value = 2
    explorer.view_select.value = "token"
    explorer.text_box.value = ""
    explorer.text_box.value = "Fine again."
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_export_buttons_write_png_and_html(explorer, tmp_path):
    explorer.file_stem.value = str(tmp_path / "picture")
    explorer.save_png_button.click()
    explorer.save_html_button.click()
    assert (tmp_path / "picture.png").read_bytes() == explorer.current_png()
    page = (tmp_path / "picture.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in page and "<table" in page
    assert "saved" in explorer.status.value


def test_model_choice_lists_only_local_models(monkeypatch):
    monkeypatch.setattr(explorer_models, "bert_base_uncased_cached", lambda: False)
    assert explorer_models.available_choices() == ["minilm", "random-base"]
    monkeypatch.setattr(explorer_models, "bert_base_uncased_cached", lambda: True)
    assert explorer_models.available_choices() == ["minilm", "random-base", "bert-base-uncased"]


def test_bert_base_uncased_cache_check_reads_the_local_cache_only(monkeypatch):
    import huggingface_hub

    asked = []

    def fake_lookup(repo_id, filename, **kwargs):
        asked.append(filename)
        return f"/cache/{filename}" if filename != "model.safetensors" else None

    monkeypatch.setattr(huggingface_hub, "try_to_load_from_cache", fake_lookup)
    assert explorer_models.bert_base_uncased_cached()  # pytorch_model.bin is enough
    monkeypatch.setattr(huggingface_hub, "try_to_load_from_cache", lambda *a, **k: None)
    assert not explorer_models.bert_base_uncased_cached()


@pytest.mark.slow
def test_switching_to_random_bert_base(minilm):
    explorer = AttentionExplorer(*minilm, text="Hello there.")
    before = explorer.current_png()
    explorer.set_view(model="random-base", layer=11, head=11)
    assert explorer.maps.weights.shape[:2] == (12, 12)
    assert explorer.current_png() != before
    explorer.model_choice.value = "minilm"
    assert explorer.maps.num_layers == 6


def test_a_tiny_model_works_too():
    torch.manual_seed(0)
    model = cl.BertModel(cl.BertConfig.tiny())
    explorer = AttentionExplorer(model, text="small model")
    assert explorer.maps.weights.shape[:2] == (2, 4)
    with pytest.raises(TypeError, match="tokenizer was given without a model"):
        AttentionExplorer(None, cl.load_tokenizer("minilm"))
    with pytest.raises(ValueError, match="pass the tokenizer"):
        AttentionExplorer(cl.BertModel(cl.BertConfig.tiny(vocab_size=100)))


def test_redraw_is_fast_at_64_tokens(minilm):
    """A loose bound (the machine is shared): the benchmark measures the real figure."""
    explorer = AttentionExplorer(*minilm, text="word " * 100, max_tokens=64)
    assert explorer.maps.length == 64
    times = []
    for layer in (1, 2, 3, 4, 5, 0, 1, 2):
        start = time.perf_counter()
        explorer.set_view(layer=layer)
        times.append(time.perf_counter() - start)
    assert statistics.median(times) < 0.5


# ----- exercise checkers ------------------------------------------------------------------

def right_rollout(attentions):
    joint = torch.eye(attentions.shape[-1], dtype=attentions.dtype)
    for layer in attentions:
        mixed = layer.mean(dim=0) + torch.eye(attentions.shape[-1], dtype=attentions.dtype)
        joint = (mixed / mixed.sum(dim=-1, keepdim=True)) @ joint
    return joint


def rollout_without_identity(attentions):
    joint = torch.eye(attentions.shape[-1], dtype=attentions.dtype)
    for layer in attentions:
        joint = layer.mean(dim=0) @ joint
    return joint


def rollout_wrong_order(attentions):
    joint = torch.eye(attentions.shape[-1], dtype=attentions.dtype)
    for layer in attentions:
        mixed = layer.mean(dim=0) + torch.eye(attentions.shape[-1], dtype=attentions.dtype)
        joint = joint @ (mixed / mixed.sum(dim=-1, keepdim=True))
    return joint


def rollout_not_renormalised(attentions):
    joint = torch.eye(attentions.shape[-1], dtype=attentions.dtype)
    for layer in attentions:
        joint = (layer.mean(dim=0) + torch.eye(attentions.shape[-1])) @ joint
    return joint


def test_check_rollout_accepts_right_answers():
    assert check_rollout(right_rollout).passed
    assert check_rollout(lambda a: attention_rollout(a.numpy())[-1]).passed  # NumPy is fine


@pytest.mark.parametrize("wrong,phrase", [
    (rollout_without_identity, "identity"),
    (rollout_wrong_order, "wrong order"),
    (rollout_not_renormalised, "renormalised"),
    (lambda a: right_rollout(a[-1:]), "only the last layer"),
    (lambda a: a[-1].mean(0), "wrong values"),
    (lambda a: a.mean(1), "shape"),
    (lambda a: 1 / 0, "ZeroDivisionError"),
    (lambda a: None, "returned None"),
    (lambda a: a.mean(1).tolist(), "torch.Tensor"),
])
def test_check_rollout_explains_typical_mistakes(wrong, phrase):
    report = check_rollout(wrong)
    assert not report.passed
    assert phrase in str(report)


def test_check_rollout_notices_changed_input():
    def in_place(attentions):
        attentions.mul_(1.0).add_(0.0)
        attentions[0, 0, 0, 0] = 5.0
        return right_rollout(attentions)

    assert "changed the attention maps" in str(check_rollout(in_place))


def right_sep_share(attentions, tokens):
    columns = [i for i, t in enumerate(tokens) if t == "[SEP]"]
    return attentions[..., columns].sum(dim=-1).mean(dim=-1)


def test_check_sep_share_accepts_right_answers():
    assert check_sep_share(right_sep_share).passed
    assert check_sep_share(lambda a, t: head_pattern_scores(a.numpy(), t).shares["[SEP]"]).passed


@pytest.mark.parametrize("wrong,phrase", [
    (lambda a, t: a[..., t.index("[SEP]")].mean(-1), "only the first [SEP]"),
    (lambda a, t: a[..., len(t) - 1].mean(-1), "only the last [SEP]"),
    (lambda a, t: a[..., [i for i, x in enumerate(t) if x == "[SEP]"]].sum(-1).sum(-1),
     "summed over the looking tokens"),
    (lambda a, t: a[..., [i for i, x in enumerate(t) if x == "[SEP]"], :].sum(-2).mean(-1),
     "[SEP] rows"),
    (lambda a, t: a[..., -1], "shape"),
    (lambda a, t: t.index("[MASK]"), "ValueError"),
])
def test_check_sep_share_explains_typical_mistakes(wrong, phrase):
    report = check_sep_share(wrong)
    assert not report.passed
    assert phrase in str(report)


def test_check_sep_share_needs_every_sep_position():
    def fixed_positions(attentions, tokens):  # right for the pair, wrong for one sentence
        return attentions[..., [4, 7]].sum(-1).mean(-1) if len(tokens) == 8 else \
            attentions[..., 0].mean(-1)

    report = check_sep_share(fixed_positions)
    assert not report.passed and "(one sentence) has the wrong values" in str(report)


# ----- the benchmark's entry point --------------------------------------------------------

def test_measure_redraw_returns_every_timing():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "explorer_redraw.py"
    spec = importlib.util.spec_from_file_location("explorer_redraw", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    torch.manual_seed(0)
    tiny = (cl.BertModel(cl.BertConfig.tiny()), cl.load_tokenizer("minilm"))
    result = bench.measure_redraw(n_tokens=16, repeats=2, new_text_repeats=1, base_model=tiny)
    assert result["n_tokens"] == 16 and result["grid"].startswith("2 layers x 4 heads")
    timings = [key for key in result if key.endswith("_ms") and "target" not in key]
    assert len(timings) == 7 and all(result[key] > 0 for key in timings)
    assert "ms" in bench.report(result)
    with pytest.raises(ValueError, match="between 5 and 512"):
        bench.measure_redraw(n_tokens=600)
