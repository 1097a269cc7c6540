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

import course_kit as kit
import course_lib as cl
from course_kit.checks.explorer import check_rollout, check_sep_share
from course_kit.explorer import (
    AttentionExplorer,
    attention_rollout,
    head_pattern_scores,
    head_view_png,
    label_head,
    maps_from_weights,
    pattern_table_html,
    render_attention_map,
    render_grid,
    renormalize_rows,
    save_png,
    select_view,
    static_html_page,
)
from course_kit.explorer import models as explorer_models
from course_kit.explorer.render import image_to_png, resample

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
    assert patterns.heads_labeled("previous") == [(0, 2)]


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
    maps = renormalize_rows(rng.random((4, 3, 7, 7)))
    rollout = attention_rollout(maps)
    assert rollout.shape == (4, 7, 7)
    np.testing.assert_allclose(rollout.sum(-1), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="layers, heads, seq, seq"):
        attention_rollout(maps[0])


def test_renormalize_rows_keeps_zero_rows_zero():
    rows = np.array([[1.0, 3.0], [0.0, 0.0]])
    np.testing.assert_allclose(renormalize_rows(rows), [[0.25, 0.75], [0.0, 0.0]])


# ----- views: filters and hiding renormalise rows ---------------------------------------------

def pair_maps():
    tokens = ["[CLS]", "a", "b", "[SEP]", "c", "d", "[SEP]"]
    segments = [0, 0, 0, 0, 1, 1, 1]
    rng = np.random.default_rng(1)
    weights = renormalize_rows(rng.random((2, 3, 7, 7))).astype(np.float32)
    return maps_from_weights(weights, tokens, segments)


def test_hiding_special_tokens_drops_their_columns_and_renormalizes():
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
def test_pair_filters_pick_rows_and_columns_and_renormalize(name, rows, cols):
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

def test_static_html_page_carries_the_viewer_and_one_picture_for_readers_without_script():
    maps = maps_from_weights(pattern_maps(), TOKENS)
    patterns = head_pattern_scores(maps.weights, maps.tokens)
    page = static_html_page(maps, patterns, "title <&>", model="m", text="t")
    assert "http" not in page and "src=\"//" not in page  # nothing from the network
    assert "AttentionViewer.load(" in page and "<script src" not in page  # the viewer inline
    assert page.count("<img") == 1 and "<noscript><img" in page  # one static picture, no more
    assert page.count("data:image/png;base64,") == 1
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


def test_explorer_shows_the_viewer_in_front_and_a_picture_of_every_head(explorer, minilm):
    assert explorer.current_png().startswith(PNG_MAGIC)
    assert explorer.tokens[0] == "[CLS]" and explorer.tokens[-1] == "[SEP]"
    assert explorer.maps.weights.shape == (6, 12, 9, 9)
    assert explorer.patterns.labels.shape == (6, 12)
    assert explorer.model_choices[0] == "given"
    shown = list(explorer.children)  # the viewer right under the inputs, not a closed panel
    assert shown.index(explorer.live_view) == 5
    assert all(not isinstance(c, type(explorer.patterns_panel)) for c in shown[:5])
    data = explorer.live_view.data
    assert (data["layers"], data["heads"], data["seq"]) == (6, 12, 9)
    bundle = explorer._repr_mimebundle_()  # the live widget, and a picture for GitHub
    assert "application/vnd.jupyter.widget-view+json" in bundle and "image/png" in bundle


def sent(explorer) -> tuple:
    """What the viewer is given and set to: its data, numbers and synced choices."""
    live = explorer.live_view
    return (repr(sorted(live.data.items())), bytes(live.weights), live.layer, live.head,
            live.mode, live.focus, live.scale)


def test_every_control_reaches_the_viewer(explorer):
    seen = {sent(explorer)}

    def changed(**kwargs):
        before = sent(explorer)
        explorer.set_view(**kwargs)
        after = sent(explorer)
        assert after != before, f"set_view({kwargs}) did not reach the viewer"
        seen.add(after)

    changed(layer=3)
    changed(head=7)
    changed(view="lines")
    changed(hide_special=True)
    changed(rollout=True)
    changed(rollout=False, hide_special=False)
    changed(view="token", token=2)
    changed(token=4)
    changed(scale="per-map")
    changed(view="heatmap", text_pair="It was tired.")
    changed(pair_filter="A->B")
    changed(pair_filter="B->B")
    changed(text="A different sentence entirely.", text_pair="")
    assert len(seen) == 14


def test_the_static_picture_follows_layer_head_options_and_text(explorer):
    seen = {explorer.current_png()}
    for change in ({"layer": 3}, {"head": 7}, {"hide_special": True}, {"rollout": True},
                   {"rollout": False, "scale": "per-map"}, {"text_pair": "It was tired."},
                   {"pair_filter": "A->B"}, {"text": "Other words.", "text_pair": ""}):
        explorer.set_view(**change)
        assert explorer.current_png().startswith(PNG_MAGIC)
        seen.add(explorer.current_png())
    assert len(seen) == 9


def test_the_viewers_choices_come_back_to_python(explorer):
    live = explorer.live_view
    live.layer, live.head = 4, 2  # as a click in the browser would do
    live.mode, live.focus, live.scale = "token", 3, "per-map"
    state = explorer.state
    assert (state.layer, state.head, state.view, state.token, state.scale) == (
        4, 2, "token", 3, "per-map")
    np.testing.assert_allclose(explorer.shown_map(), explorer.maps.weights[4, 2])
    explorer.text_box.value = "Dogs bark."
    assert explorer.tokens == ("[CLS]", "dogs", "bark", ".", "[SEP]")
    assert explorer.live_view.data["tokens"] == list(explorer.tokens)
    assert explorer.state.token == 3  # kept where the new text has it
    explorer.pair_box.value = "Cats do not."
    assert explorer.maps.has_pair and not explorer.pair_filter.disabled
    explorer.pair_filter.value = "B->A"  # a Python control: the viewer gets the filtered maps
    rows, cols = live.data["hidden_rows"], live.data["hidden_cols"]
    assert rows == list(range(5)) and cols == list(range(5, 10))
    explorer.show_button.click()  # recomputes the same text
    assert explorer.maps.has_pair


def test_shown_map_rows_are_renormalized(explorer):
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
    data = explorer.live_view.data
    assert data["heads"] == 1 and data["rollout"] and data["head_names"] == ["mean"]
    weights = np.frombuffer(explorer.live_view.weights, "<u2").reshape(6, 1, 9, 9) / 65535
    np.testing.assert_allclose(weights[3, 0], expected, atol=1e-4)


@pytest.mark.parametrize("text,expected", [("", "empty"), ("   \n\t ", "empty"),
                                           ("\x00\x01\x02", "no word pieces")])
def test_blank_text_gives_a_message_not_a_traceback(explorer, text, expected):
    explorer.set_view(text=text)
    assert expected in explorer.message
    assert explorer.maps is None
    assert expected in explorer.status.value
    assert expected in explorer.live_view.data["message"]
    with pytest.raises(ValueError, match=expected):
        explorer.current_png()
    explorer.set_view(layer=2, view="lines")  # controls keep working without maps
    assert expected in explorer.message
    explorer.set_view(text="Back to words.")
    assert explorer.maps is not None and explorer.message == ""


@pytest.mark.parametrize("text", ["I love it 😀🎉", "مرحبا بالعالم", "你好世界", "Привет, мир",
                                  "tab\there\x07 bell", "[SEP] [CLS] literal"])
def test_any_script_gives_a_result(explorer, text):
    explorer.set_view(text=text, view="heatmap")
    assert explorer.maps is not None, explorer.message
    assert explorer.current_png().startswith(PNG_MAGIC)


def test_long_text_is_truncated_with_a_visible_note(explorer):
    explorer.set_view(text="word " * 600)
    assert explorer.maps.length == 512
    assert "602 tokens; only the first 512" in explorer.message
    assert "only the first 512" in explorer.status.value
    for view in ("heatmap", "lines", "token", "qk"):
        explorer.set_view(view=view, layer=5, head=11, token=511)
        assert explorer.current_png().startswith(PNG_MAGIC)
    assert max(png_size(explorer.current_png())) < 1200
    assert explorer.live_view.data["included"] == [5]  # one layer sent in full


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
    assert explorer.live_view.layer == 2 and type(explorer.state.layer) is int


def test_callbacks_print_nothing(explorer, capsys):
    explorer.live_view.layer = 2
    explorer.live_view.mode = "token"
    explorer.text_box.value = ""
    explorer.text_box.value = "Fine again."
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_export_buttons_write_png_and_html(explorer, tmp_path):
    explorer.export_folder = tmp_path
    explorer.file_stem.value = "picture"
    explorer.save_png_button.click()
    explorer.save_html_button.click()
    assert (tmp_path / "picture.png").read_bytes() == explorer.current_png()
    page = (tmp_path / "picture.html").read_text(encoding="utf-8")
    assert "<table" in page and "AttentionViewer.load(" in page
    assert "shipped MiniLM" not in page or "given" in page
    assert "The cat sat on the mat." in page and "layer 1, head 1" in page  # titled
    status = explorer.export_status.value
    assert "saved" in status and "picture.html" in status
    assert "data:" not in status and "data:" not in repr(explorer.live_view.data)
    live = explorer.live_view  # the browser gets the file's bytes and downloads them
    assert live.saved_name == "picture.html" and live.saved == page.encode("utf-8")
    explorer.save_html_button.click()
    assert "replaced the earlier file" in explorer.export_status.value


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
    for hide in (True, False) * 4:  # an option: the viewer gets new maps
        start = time.perf_counter()
        explorer.set_view(hide_special=hide)
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


def rollout_not_renormalized(attentions):
    joint = torch.eye(attentions.shape[-1], dtype=attentions.dtype)
    for layer in attentions:
        joint = (layer.mean(dim=0) + torch.eye(attentions.shape[-1])) @ joint
    return joint


def test_check_rollout_accepts_right_answers():
    assert check_rollout(right_rollout).passed
    assert check_rollout(lambda a: right_rollout(a).numpy()).passed  # NumPy is fine
    library = check_rollout(lambda a: attention_rollout(a.numpy())[-1])  # right, but not theirs
    assert [p.split(":")[0] for p in library.failed_points] == [
        "you called `kit.explorer.attention_rollout`"], str(library)


@pytest.mark.parametrize("wrong,phrase", [
    (rollout_without_identity, "identity"),
    (rollout_wrong_order, "wrong order"),
    (rollout_not_renormalized, "renormalised"),
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
    assert len(timings) == 5 and all(result[key] > 0 for key in timings)
    assert "ms" in bench.report(result)
    with pytest.raises(ValueError, match="between 5 and 512"):
        bench.measure_redraw(n_tokens=600)


def test_new_text_report_marks_the_first_maps_and_export_targets():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "explorer_redraw.py"
    spec = importlib.util.spec_from_file_location("explorer_redraw", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    result = {"n_tokens": 512, "model_ms": 300, "first_sent_ms": 350, "transfer_ms": 80,
              "decode_and_paint_ms": 80, "first_maps_ms": 510, "first_message_mb": 0.86,
              "whole_layer_ms": 1200, "messages": 2, "python_ms": 420, "export_ms": 900,
              "export_mb": 2.72, "threads": "1 of 2 threads"}
    lines = bench.new_text_report(result).splitlines()
    assert "within the 1000 ms target" in next(x for x in lines if "first maps" in x)
    assert "within the 3 MB target" in next(x for x in lines if "HTML export" in x)
    slow = bench.new_text_report({**result, "first_maps_ms": 1000, "export_mb": 3.01})
    assert "OVER the 1000 ms target" in slow and "OVER the 3 MB target" in slow


# ----- shape of the package: state, pure views, lazy widget (issue 8) -----------------------

def test_import_course_lib_does_not_import_ipywidgets():
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys, course_lib as cl, course_kit as kit\n"
            "assert 'ipywidgets' not in sys.modules, 'import course_kit loaded ipywidgets'\n"
            "assert 'course_kit.explorer' not in sys.modules\n"
            "assert kit.head_view_png and kit.render_attention_map\n"
            "assert 'ipywidgets' not in sys.modules, 'the pictures loaded ipywidgets'\n"
            "assert kit.AttentionExplorer.__name__ == 'AttentionExplorer'\n"
            "assert 'ipywidgets' in sys.modules\n"
            "assert 'anywidget' in sys.modules, 'the explorer is the browser viewer'\n")
    root = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_state_checks_names_and_types():
    from course_kit.explorer import ExplorerState

    state = ExplorerState()
    assert state.vmax == 1.0 and state.replace(scale="per-map").vmax is None
    assert state.replace(layer=np.int64(2)).layer == 2
    assert type(state.replace(layer=np.int64(2)).layer) is int
    with pytest.raises(ValueError, match="view must be one of"):
        state.replace(view="grid")
    with pytest.raises(ValueError, match="scale must be one of"):
        state.replace(scale="log")
    with pytest.raises(TypeError, match="head must be an integer"):
        state.replace(head="2")
    with pytest.raises(TypeError, match="rollout must be True or False"):
        state.replace(rollout=1)
    with pytest.raises(ValueError, match="at least 0"):
        state.replace(token=-1)
    maps = pair_maps()
    with pytest.raises(ValueError, match="layer must be between 0 and 1"):
        state.replace(layer=2).check_against(maps)
    single = maps_from_weights(maps.weights[..., :4, :4], maps.tokens[:4])
    assert state.replace(pair_filter="A->B", token=6).fitted_to(single) == state.replace(token=3)


# ----- pure views on hand-made maps (issue 10: directions, places, scales) ------------------

def focus_maps():
    """One layer, two heads over '[CLS] a b [SEP] c d [SEP]': row i looks only at target[i].

    Head 1 and head 2 are the same, so the mean of the heads is the map itself.
    """
    targets = [0, 4, 5, 3, 1, 2, 6]  # a -> c, b -> d, c -> a, d -> b
    head = one_hot_rows(targets, 7)
    weights = np.stack([head, head])[None]  # (1 layer, 2 heads, 7, 7)
    return maps_from_weights(weights, ["[CLS]", "a", "b", "[SEP]", "c", "d", "[SEP]"],
                             [0, 0, 0, 0, 1, 1, 1])


def test_token_focus_points_from_the_looking_token_to_the_token_looked_at():
    from course_kit.explorer import token_focus

    view = select_view(focus_maps())
    looks_at, looked_at_by = token_focus(view, layer=0, token=1)  # 'a', place 2 in the text
    best = looks_at[0]
    assert (best.source_token, best.source, best.target_token, best.target) == ("a", 2, "c", 5)
    assert best.weight == pytest.approx(1.0)
    who = looked_at_by[0]  # 'c' (place 5) looks at 'a' (place 2)
    assert (who.source_token, who.source, who.target_token, who.target) == ("c", 5, "a", 2)


def test_token_focus_places_are_places_in_the_text_not_in_the_filtered_view():
    from course_kit.explorer import token_focus

    view = select_view(focus_maps(), pair_filter="B->A", hide_special=True)
    assert list(view.col_positions) == [1, 2]  # 'a', 'b' only
    looks_at, looked_at_by = token_focus(view, layer=0, token=5)  # 'd', place 6
    assert (looks_at[0].source, looks_at[0].target, looks_at[0].target_token) == (6, 3, "b")
    assert looked_at_by is None  # 'd' is not a column of B->A
    looks_at, looked_at_by = token_focus(view, layer=0, token=2)  # 'b' is only looked at
    assert looks_at is None
    assert (looked_at_by[0].source, looked_at_by[0].source_token) == (6, "d")
    assert looked_at_by[0].target == 3


def test_strongest_links_count_places_from_one():
    from course_kit.explorer import strongest_links

    view = select_view(focus_maps(), pair_filter="A->B")
    links = strongest_links(view, view.weights[0, 0], count=2)
    assert {(link.source, link.target) for link in links} == {(2, 5), (3, 6)}  # a->c, b->d
    assert {(link.source_token, link.target_token) for link in links} == {("a", "c"),
                                                                          ("b", "d")}


def test_every_view_shows_rows_that_sum_to_one_after_filters():
    from course_kit.explorer import ExplorerState, static_png

    maps = pair_maps()
    for pair_filter in ("all", "A->A", "A->B", "B->A", "B->B"):
        for hide in (False, True):
            for rollout in (False, True):
                view = select_view(maps, pair_filter, hide, rollout)
                np.testing.assert_allclose(view.weights[1].sum(-1), 1.0, atol=1e-5)
                square = view.square(maps.length)  # what the viewer draws: hidden cells 0
                rows, cols = view.hidden(maps.length)
                assert not square[:, :, rows].any() and not square[..., cols].any()
                state = ExplorerState(pair_filter=pair_filter, hide_special=hide,
                                      rollout=rollout, layer=1, head=2)
                assert static_png(maps, state).startswith(PNG_MAGIC)


def test_rollout_view_equals_the_formula():
    maps = pair_maps()
    expected = attention_rollout(maps.weights)[1]
    np.testing.assert_allclose(select_view(maps, rollout=True).weights[1, 0], expected,
                               atol=1e-6)


def test_pattern_table_shows_the_number_of_each_head():
    from course_kit.explorer.tables import head_value

    maps = maps_from_weights(pattern_maps(), TOKENS)
    patterns = head_pattern_scores(maps.weights, maps.tokens)
    table = pattern_table_html(patterns)
    for head in range(7):
        assert f"{head_value(patterns, 0, head):.2f}</td>" in table


def cell_color(image, left_fraction=0.5):
    """The colour at the middle of a picture's first map cell row (helper for scale tests)."""
    return np.asarray(image)[image.height // 2, int(image.width * left_fraction)]


def test_shared_scale_draws_uniform_attention_pale_and_per_map_contrast_dark():
    from course_kit.explorer.render import COLORS, colorize

    uniform = np.full((6, 6), 1 / 6, dtype=np.float32)
    shared = np.asarray(render_attention_map(uniform, TOKENS, cell=20, bar=False))
    contrast = np.asarray(render_attention_map(uniform, TOKENS, cell=20, vmax=None, bar=False))
    pale = tuple(colorize(np.array([1 / 6]), 1.0)[0])
    colors_shared = {tuple(p) for p in shared.reshape(-1, 3)}
    colors_contrast = {tuple(p) for p in contrast.reshape(-1, 3)}
    assert pale in colors_shared and tuple(COLORS[-1]) not in colors_shared
    assert tuple(COLORS[-1]) in colors_contrast  # per-map: its own max is darkest
    # the grid follows the same rule
    grid = np.asarray(render_grid(np.full((1, 2, 6, 6), 1 / 6, dtype=np.float32),
                                  bar=False).image)
    assert tuple(COLORS[-1]) not in {tuple(p) for p in grid.reshape(-1, 3)}


def test_maps_carry_a_color_bar_with_real_values():
    from course_kit.explorer import color_bar

    with_bar = render_attention_map(np.eye(3), ["x", "y", "z"], cell=20)
    without = render_attention_map(np.eye(3), ["x", "y", "z"], cell=20, bar=False)
    assert with_bar.width > without.width + 20
    small = color_bar(100, 0.031)  # per-map contrast: the bar's top is the map's max
    assert small.height >= 100
    assert render_grid(pattern_maps()).image.width > render_grid(pattern_maps(),
                                                                  bar=False).image.width


def test_thumbnails_keep_row_sums_when_shrinking():
    from course_kit.explorer.render import shrink_map

    rng = np.random.default_rng(3)
    maps = renormalize_rows(rng.random((2, 100, 100)).astype(np.float32))
    small = shrink_map(maps, 16)
    assert small.shape == (2, 16, 16)
    np.testing.assert_allclose(small.sum(-1), 1.0, atol=1e-5)


def test_pictures_are_drawn_at_natural_size():
    image = render_attention_map(np.eye(13), [str(i) for i in range(13)], bar=False)
    assert image.height < 13 * 24 + 80  # 24 px cells at most, plus labels


def test_sentence_pairs_get_a_divider_line():
    from course_kit.explorer import ExplorerState, static_png
    from course_kit.explorer.render import DIVIDER

    def has(maps):
        image = Image.open(io.BytesIO(static_png(maps, ExplorerState(), "head"))).convert("RGB")
        return DIVIDER in {tuple(p) for p in np.asarray(image).reshape(-1, 3)}

    assert has(pair_maps()) and not has(maps_from_weights(pattern_maps(), TOKENS))


def test_html_blocks_set_their_own_colors_for_dark_themes(explorer):
    import re

    explorer.set_view(text="The cat sat.", text_pair="")
    blocks = [explorer.status.value, explorer.patterns_html.value]
    explorer.set_view(text="")  # the message note
    blocks.append(explorer.status.value)
    for block in blocks:
        styles = re.findall(r"style='([^']*)'", block)
        assert styles
        for style in styles:
            if "background" in style:
                assert re.search(r"(^|;)color:", style), f"background without colour: {style}"


def test_scale_option_changes_the_picture(explorer):
    explorer.set_view(text="The cat sat on the mat.", layer=1, head=1)
    before = explorer.current_png()
    explorer.set_view(scale="per-map")
    assert explorer.current_png() != before and explorer.live_view.scale == "per-map"
    assert "per-map contrast" in explorer.status.value
    explorer.live_view.scale = "shared"  # chosen in the viewer
    assert explorer.current_png() == before


# ----- hostile input to the explorer and its export (issue 11) -----------------------------

@pytest.mark.parametrize("name,rule", [
    ("", "empty"), ("   ", "empty"), ("\t\n", "empty"),
    (".html", "hidden"), (".secret", "hidden"), (" .png", "hidden"),
    ("../up", "path, not a file name"), ("a/b", "path, not a file name"),
    ("..", "path, not a file name"), ("a\\b", "path, not a file name"),
    ("nul\x00byte", "cannot take"), ("bell\x07", "cannot take"), ("what?", "cannot take"),
    ("a:b", "cannot take"), ("pipe|", "cannot take"), ("\ud800half", "cannot take"),
    ("star*", "cannot take"), ("ends.", "ends with a dot"), ("CON", "reserved"),
    ("nul.txt", "reserved"), ("x" * 300, "bytes long"),
])
def test_bad_file_names_are_refused_naming_the_rule(name, rule):
    from course_kit.explorer import check_file_name

    with pytest.raises(ValueError, match=rule):
        check_file_name(name, "html")


@pytest.mark.parametrize("name,expected", [("attention", "attention.html"),
                                           ("  spaced  ", "spaced.html"),
                                           ("page.HTML", "page.HTML"),
                                           ("layer 3, head 2", "layer 3, head 2.html"),
                                           ("注意", "注意.html"), ("v1.2", "v1.2.html")])
def test_good_file_names_get_their_suffix(name, expected):
    from course_kit.explorer import check_file_name

    assert check_file_name(name, "html") == expected


def test_file_name_must_be_a_string():
    from course_kit.explorer import check_file_name

    with pytest.raises(TypeError, match="must be a string"):
        check_file_name(None, "png")


@pytest.mark.parametrize("stem", ["", "   ", ".html", "../outside", "sub/inner", "a\x00b",
                                  "bad?name"])
def test_export_buttons_refuse_bad_names_in_the_widget(explorer, tmp_path, stem):
    folder = tmp_path / "exports"
    folder.mkdir()
    explorer.export_folder = folder
    explorer.file_stem.value = stem
    picture = explorer.current_png()
    explorer.save_html_button.click()
    explorer.save_png_button.click()
    assert "not saved" in explorer.export_status.value
    assert list(folder.iterdir()) == [] and list(tmp_path.iterdir()) == [folder]
    assert explorer.current_png() == picture  # the picture stays; the message is beside it


def test_export_buttons_report_a_missing_folder(explorer, tmp_path):
    explorer.export_folder = tmp_path / "missing"
    explorer.save_png_button.click()
    assert "not saved" in explorer.export_status.value
    assert "does not exist" in explorer.export_status.value


@pytest.mark.parametrize("path,error,rule", [
    ("", ValueError, "no file name"), ("   ", ValueError, "no file name"),
    ("{tmp}/.html", ValueError, "hidden"), ("{tmp}/", ValueError, "no file name"),
    ("{tmp}/missing/x.html", FileNotFoundError, "does not exist"),
    ("{tmp}/bad\x00.html", ValueError, "cannot take"), ("{tmp}", ValueError, "is a folder"),
    (42, TypeError, "string or a pathlib.Path"),
])
def test_save_from_python_refuses_bad_paths(explorer, tmp_path, path, error, rule):
    target = path.format(tmp=tmp_path) if isinstance(path, str) else path
    for save in (explorer.save_html, explorer.save_png):
        with pytest.raises(error, match=rule):
            save(target)
    assert list(tmp_path.iterdir()) == []


def test_save_from_python_adds_the_suffix(explorer, tmp_path):
    assert explorer.save_png(tmp_path / "pic").name == "pic.png"
    assert explorer.save_html(tmp_path / "page").name == "page.html"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.html", "pic.png"]


def test_maps_with_nan_are_refused_naming_the_head():
    weights = np.full((2, 3, 4, 4), 0.25, dtype=np.float32)
    weights[1, 2, 0, 0] = np.nan
    with pytest.raises(ValueError, match=r"NaN \(first in layer 2, head 3\)"):
        maps_from_weights(weights, ["a", "b", "c", "d"])
    weights[1, 2, 0, 0] = np.inf
    with pytest.raises(ValueError, match="infinite"):
        maps_from_weights(weights, ["a", "b", "c", "d"])
    with pytest.raises(ValueError, match="holds NaN: it is not drawn"):
        render_attention_map(np.full((2, 2), np.nan), ["a", "b"])
    with pytest.raises(ValueError, match="holds NaN"):
        head_view_png(np.array([[np.nan, 1.0], [0.5, 0.5]]), ["a", "b"])
    with pytest.raises(ValueError, match="holds NaN"):
        render_grid(np.full((1, 1, 2, 2), np.nan))


def test_a_model_that_gives_nan_shows_a_message_not_a_picture_of_nan():
    torch.manual_seed(0)
    model = cl.BertModel(cl.BertConfig.tiny())
    with torch.no_grad():
        model.encoder.layers[0].attention.query.weight.fill_(float("nan"))
    explorer = AttentionExplorer(model, cl.load_tokenizer("minilm"), text="nan inside")
    assert explorer.maps is None
    assert "NaN" in explorer.message and "not drawn" in explorer.message
    assert "NaN" in explorer.status.value
    with pytest.raises(ValueError, match="NaN"):
        explorer.current_png()


@pytest.mark.parametrize("text", [42, None, ["a list"], b"bytes"])
def test_text_that_is_not_a_string_is_named_as_such(minilm, text):
    with pytest.raises(TypeError, match="text must be a string"):
        AttentionExplorer(*minilm, text=text)
    with pytest.raises(TypeError, match="text_pair must be a string or None"):
        AttentionExplorer(*minilm, text="fine", text_pair=42)


def test_heads_by_tokens_maps_keep_readable_rows_at_512_tokens():
    looks = np.full((12, 512), 1 / 512, dtype=np.float32)  # token focus: heads x tokens
    image = render_attention_map(looks, [f"head {h}" for h in range(1, 13)],
                                 ["w"] * 512, max_extent=640, bar=False)
    assert image.height > 12 * 20  # rows stay 24 px tall, columns 1 px wide
    assert image.width < 800


def test_characters_no_font_can_draw_are_named():
    from course_kit.explorer.render import _coverage, font_for, get_font, missing_glyphs

    primary = get_font(10)
    if _coverage(getattr(primary, "path", "")) is None:
        pytest.skip("font coverage cannot be read here (no fontTools or no DejaVu Sans)")
    assert missing_glyphs(["[CLS]", "cat", "Привет", "ελ"]) == ""
    if missing_glyphs(["日"]):  # no CJK font installed: named
        assert missing_glyphs(["日", "cat"]) == "日"
    else:  # a fallback font draws it
        assert font_for("日", 10) is not primary


def test_a_fallback_font_is_used_when_the_first_cannot_draw_a_label(monkeypatch):
    from course_kit.explorer import render

    primary = render.get_font(10)
    if render._coverage(getattr(primary, "path", "")) is None:
        pytest.skip("font coverage cannot be read here")
    fake_path = "/fonts/has-everything.ttf"

    class FakeFont:
        path = fake_path

    monkeypatch.setattr(render, "FALLBACK_FONTS", ("has-everything.ttf",))
    monkeypatch.setattr(render, "_truetype", lambda name, size: FakeFont())
    monkeypatch.setattr(render, "_coverage",
                        lambda path: frozenset({ord("日")}) if path == fake_path else
                        frozenset(map(ord, "abc")))
    render.font_for.cache_clear()
    try:
        assert isinstance(render.font_for("日", 10), FakeFont)
        assert render.missing_glyphs(["日", "abc"]) == ""
        assert render.missing_glyphs(["日x"]) == "日x"  # no font has both: named
    finally:
        render.font_for.cache_clear()


# ----- the interactive page: data carried inline ------------------------------------------

def test_viewer_data_carries_the_maps_exactly_enough():
    import base64
    import zlib

    from course_kit.explorer.interactive import page_data, viewer_parts

    maps = pair_maps()
    info, weights, _ = viewer_parts(maps, layer=1, head=2)  # the live view: 16 bits
    assert info["included"] == [0, 1] and (info["layer"], info["head"]) == (1, 2)
    values = np.frombuffer(weights, dtype="<u2") / 65535
    np.testing.assert_allclose(values.reshape(maps.weights.shape), maps.weights, atol=1e-5)
    assert info["tokens"] == list(maps.tokens) and info["segments"] == [0, 0, 0, 0, 1, 1, 1]
    page = page_data(maps, layer=1, head=2)  # a page: 8 bits (the colour scale's steps)
    values = np.frombuffer(zlib.decompress(base64.b64decode(page["weights"])), np.uint8) / 255
    columns = values.reshape(maps.weights.shape).swapaxes(-1, -2)  # stored column by column
    np.testing.assert_allclose(columns, maps.weights, atol=0.5 / 255)
    _, small, _ = viewer_parts(maps, layer=1, head=0, max_values=100)  # the chosen layer only
    assert len(small) == 2 * 3 * 7 * 7


def test_tokens_cannot_break_out_of_the_pages_script():
    tokens = ["[CLS]", "</script><script>alert(1)</script>", "&amp;", "[SEP]"]
    maps = maps_from_weights(np.full((1, 1, 4, 4), 0.25), tokens)
    patterns = head_pattern_scores(maps.weights, maps.tokens)
    page = static_html_page(maps, patterns, "t", text=tokens[1])
    assert "alert(1)</script>" not in page and "<script>alert" not in page
    assert page.lower().count("</script>") == 2  # the viewer's code and its data, nothing else


def test_live_view_gets_the_maps_and_long_texts_one_layer_at_a_time(minilm):
    explorer = AttentionExplorer(*minilm, text="The cat sat.")
    data = explorer.live_view.data
    assert data["seq"] == 6 and data["included"] == list(range(6))
    assert len(explorer.live_view.weights) == 2 * 6 * 12 * 6 * 6  # 16-bit, binary
    explorer.set_view(text="Dogs bark loudly.")
    assert explorer.live_view.data["tokens"] == list(explorer.tokens)
    explorer.set_view(text="word " * 600, layer=2)  # cut at 512 tokens, with a note
    data = explorer.live_view.data
    assert data["seq"] == 512 and "only the first 512" in data["note"]
    assert data["included"] == [2]  # the chosen layer in full, ...
    assert len(explorer.live_view.weights) == 2 * 12 * 512 * 512
    assert len(explorer.live_view.thumbs) == 2 * 6 * 12 * 48 * 48  # ... every layer small
    explorer.live_view.layer = 4  # the browser asks for another layer: it is sent
    assert explorer.live_view.data["included"] == [4]
    np.testing.assert_allclose(
        np.frombuffer(explorer.live_view.weights, "<u2").reshape(12, 512, 512) / 65535,
        explorer.maps.weights[4], atol=1e-5)


def test_a_saved_page_at_512_tokens_is_under_3_mb(minilm, tmp_path):
    text = " ".join(f"Version {i}: the farmer, who had watched the old barn since early morning, "
                    "wondered whether the animals would ever share the field." for i in range(40))
    explorer = AttentionExplorer(*minilm, text=text)
    assert explorer.maps.length == 512
    path = explorer.save_html(tmp_path / "long.html")
    assert path.stat().st_size < 3_000_000
    assert '"included": [0, 1, 2, 3, 4, 5]' in path.read_text(encoding="utf-8")  # every layer


def test_a_long_text_goes_to_the_viewer_head_first_then_its_whole_layer(minilm):
    """Issue 22: a 512-token text's first message holds only the chosen head's map (16 bits,
    exact to 1.5e-5) and every layer's thumbnails, so the viewer draws it at once; the second
    holds the whole layer; the head patterns are scored after both are sent."""
    explorer = AttentionExplorer(*minilm, text="The cat sat.")
    live = explorer.live_view
    sent = []
    live.observe(lambda change: sent.append((dict(change["new"]), live.weights, live.thumbs,
                                             explorer._patterns, live.mode)), names="data")
    explorer.set_view(text="word " * 600, layer=3, head=5, view="token")
    assert len(sent) == 2
    (first, head_map, thumbs, patterns, mode), (second, layer_maps, _, _, _) = sent
    assert first["included"] == second["included"] == [3]
    assert first["only_head"] == 5 and second["only_head"] == -1
    assert mode == "token"  # the view chosen goes with the first message
    assert len(head_map) == 2 * 512 * 512 and len(layer_maps) == 2 * 12 * 512 * 512
    assert len(thumbs) == 2 * 6 * 12 * 48 * 48
    assert patterns is None and explorer.patterns is not None  # scored after the maps
    np.testing.assert_allclose(np.frombuffer(head_map, "<u2").reshape(512, 512) / 65535,
                               explorer.maps.weights[3, 5], atol=1e-5)
    assert layer_maps[5 * 2 * 512 * 512:6 * 2 * 512 * 512] == head_map
    sent.clear()
    explorer.set_view(text="The cat sat on the mat.")  # short: every layer, one message
    assert len(sent) == 1 and sent[0][0]["only_head"] == -1
    assert sent[0][2] == b""  # no thumbnails: the viewer shrinks the full maps itself


def test_threads_for_leaves_busy_cores_alone(monkeypatch):
    from course_kit.explorer import maps as maps_module

    monkeypatch.setattr(maps_module.os, "cpu_count", lambda: 2)
    assert maps_module.threads_for(64) == 1  # short texts: one thread, whatever the load
    monkeypatch.setattr(maps_module.os, "getloadavg", lambda: (1.9, 1.0, 1.0), raising=False)
    assert maps_module.threads_for(512) == 1  # another program keeps about two cores busy
    monkeypatch.setattr(maps_module.os, "getloadavg", lambda: (0.2, 1.0, 1.0), raising=False)
    assert maps_module.threads_for(512) == 2
    monkeypatch.setattr(maps_module.os, "getloadavg", lambda: (7.5, 1.0, 1.0), raising=False)
    assert maps_module.threads_for(512) == 1  # never fewer than one

    def no_load_average():
        raise OSError("not available")

    monkeypatch.setattr(maps_module.os, "getloadavg", no_load_average, raising=False)
    assert maps_module.threads_for(512) is None  # torch's own count


def test_live_data_is_bounded_and_thumbnails_keep_row_sums():
    from course_kit.explorer.interactive import viewer_parts

    maps = maps_from_weights(np.full((3, 2, 100, 100), 0.01, dtype=np.float32),
                             [f"t{i}" for i in range(100)])
    info, weights, thumbs = viewer_parts(maps, layer=1, head=1, max_values=2 * 100 * 100)
    assert info["included"] == [1] and len(weights) == 2 * 2 * 100 * 100
    small = np.frombuffer(thumbs, "<u2").reshape(3, 2, 48, 48) / 65535
    np.testing.assert_allclose(small.sum(axis=-1), 1.0, atol=1e-3)  # columns summed
    info, weights, _ = viewer_parts(maps, max_values=6 * 100 * 100)
    assert info["included"] == [0, 1, 2]


# ----- the lessons' view (notebooks 03 and 04) ---------------------------------------------

def test_lesson_view_shows_one_head_and_follows_set_view(minilm):
    from course_kit.explorer import AttentionMapsWidget

    view = AttentionMapsWidget(*minilm, "The cat sat on the mat.", parts="head", layer=0, head=2)
    assert view.view.parts == "head" and (view.layer, view.head) == (0, 2)
    assert view.view.data["included"] == list(range(6)) and view.note == ""
    view.set_view(layer=1, head=8)
    np.testing.assert_array_equal(view.shown_map(), view.maps.weights[1, 8])
    np.testing.assert_allclose(view.shown_map().sum(axis=-1), 1.0, atol=1e-5)
    assert view.current_png().startswith(PNG_MAGIC)
    with pytest.raises(ValueError, match="head must be between 0 and 11"):
        view.set_view(head=12)
    with pytest.raises(TypeError, match="layer must be an integer"):
        view.set_view(layer="1")


def test_lesson_view_says_when_a_text_is_cut_and_refuses_blank_text(minilm):
    from course_kit.explorer import AttentionMapsWidget

    view = AttentionMapsWidget(*minilm, "one two three four five six", parts="layer",
                               max_tokens=5)
    assert view.maps.length == 5 and "only the first 5" in view.note
    assert view.view.data["note"] == view.note  # the viewer shows it above the maps
    view.text_box.value = "   "  # as typing in the box does: a message, no traceback
    assert view.maps is None and "empty" in view.view.data["message"]
    view.set_view(text="Dogs bark.")
    assert view.tokens == ("[CLS]", "dogs", "bark", ".", "[SEP]") and view.note == ""
    width, _ = png_size(view.current_png())  # the layer's heads, the chosen one framed
    assert width > 12 * 16
    with pytest.raises(ValueError, match="parts must be one of"):
        AttentionMapsWidget(*minilm, "Hi.", parts="all")


def test_lesson_view_is_the_explorers_viewer(minilm):
    from course_kit.explorer import AttentionMapsWidget
    from course_kit.explorer.interactive import viewer_script
    from course_kit.explorer.live import LiveAttentionView

    view = AttentionMapsWidget(*minilm, "Hi there.", parts="layer")
    assert isinstance(view.view, LiveAttentionView) and viewer_script() in view.view._esm


# ----- the query/key view --------------------------------------------------------------------

def test_query_key_view_on_hand_made_vectors():
    from course_kit.explorer import query_key_view

    queries = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])  # (seq, d): token 1 is [0, 2]
    keys = np.array([[3.0, 1.0], [0.0, -1.0], [2.0, 2.0]])
    view = query_key_view(queries, keys, token=1)
    np.testing.assert_allclose(view.query, [0.0, 2.0])
    np.testing.assert_allclose(view.products, [[0.0, 2.0], [0.0, -2.0], [0.0, 4.0]])
    np.testing.assert_allclose(view.scores, np.array([2.0, -2.0, 4.0]) / np.sqrt(2), rtol=1e-6)
    expected = np.exp(view.scores) / np.exp(view.scores).sum()
    np.testing.assert_allclose(view.weights, expected, rtol=1e-6)
    with pytest.raises(ValueError, match="token must be between 0 and 2"):
        query_key_view(queries, keys, token=3)
    with pytest.raises(ValueError, match="must both be"):
        query_key_view(queries, keys[:2], token=0)


def test_query_key_vectors_give_the_models_own_map(minilm):
    from course_kit.explorer import query_key_vectors, query_key_view
    from course_kit.explorer.querykey import encode_for_model

    model, tokenizer = minilm
    queries, keys, reported = query_key_vectors(
        model, *encode_for_model(model, tokenizer, "The cat sat.", "It slept."), layer=2)
    assert queries.shape == keys.shape == (12, 10, 32) and reported.shape == (12, 10, 10)
    view = query_key_view(queries[4], keys[4], token=3)
    np.testing.assert_allclose(view.weights, reported[4, 3], atol=1e-5)
    maps = kit.explorer.compute_attention_maps(model, tokenizer, "The cat sat.", "It slept.")
    np.testing.assert_allclose(view.weights, maps.weights[2, 4, 3], atol=1e-5)
    with pytest.raises(ValueError, match="layer must be between 0 and 5"):
        query_key_vectors(model, *encode_for_model(model, tokenizer, "Hi."), layer=6)


def test_query_key_view_refuses_a_model_whose_attention_is_not_q_dot_k(minilm):
    from course_kit.explorer import query_key_vectors
    from course_kit.explorer.querykey import encode_for_model

    torch.manual_seed(0)
    model = cl.BertModel(cl.BertConfig.tiny()).eval()
    inputs = encode_for_model(model, minilm[1], "The cat sat.")
    queries, _, _ = query_key_vectors(model, *inputs, layer=0)  # a plain model works
    assert queries.shape == (4, 6, 16)  # 4 heads of 64 / 4, 6 tokens
    attention = model.encoder.layers[0].attention
    original = attention.forward

    def scaled(x, mask=None, output_attentions=False):  # maps not from q . k / sqrt(d)
        out, weights = original(x, mask, output_attentions)
        return out, None if weights is None else torch.softmax(weights * 3, dim=-1)

    attention.forward = scaled
    with pytest.raises(ValueError, match="does not compute attention from its query and key"):
        query_key_vectors(model, *inputs, layer=0)
    with pytest.raises(TypeError, match="needs a course BertModel"):
        query_key_vectors(torch.nn.Linear(2, 2), *inputs, layer=0)


def test_live_view_sends_queries_and_keys_when_asked(minilm):
    from course_kit.explorer import AttentionMapsWidget

    view = AttentionMapsWidget(*minilm, "The cat sat.", parts="head")
    live = view.view
    assert live.has_qk and live.qk == b"" and live.data["qk_layer"] == -1  # nothing yet
    live.want_qk = 3  # the browser draws the query/key view of layer 4
    assert live.data["qk_layer"] == 3 and live.data["head_size"] == 32
    values = np.frombuffer(live.qk, "<f4").reshape(2, 12, 6, 32)  # queries, keys
    queries, keys = view.query_keys(3)
    np.testing.assert_allclose(values[0], queries)
    np.testing.assert_allclose(values[1], keys)
    view.set_view(text="Dogs bark.")
    assert live.qk == b"" and live.data["qk_layer"] == -1  # a new text: asked for again
