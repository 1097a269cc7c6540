"""Notebook 07b's assembly: a cl.BertModel running notebooks/solutions/my_bert (every piece the
learner's, none from course_lib) equals course_lib and transformers on real text; a learner's
missing or wrong piece is replaced by course_lib's, and each choice is said in one line."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from helpers import reference_model

import course_kit as kit
import course_lib as cl
from course_kit import capstone
from course_lib.pretrained import read_pretrained

SOLUTIONS = Path(__file__).resolve().parents[1] / "notebooks" / "solutions"
TOLERANCE = 1e-5
TEXTS = ["The bank of the river was muddy after the rain.",
         "She opened an account at the bank."]


@pytest.fixture(autouse=True)
def forget_my_bert():
    yield
    for name in [n for n in sys.modules if n == "my_bert" or n.startswith("my_bert.")]:
        del sys.modules[name]


@pytest.fixture(scope="module")
def tokenizer():
    return cl.load_tokenizer("minilm")


def build(package, tokenizer):
    pieces, lines = capstone.pick_pieces(package, tokenizer)
    return loaded(pieces), pieces, lines


def loaded(pieces):
    _, config, checkpoint = read_pretrained("minilm")
    model = capstone.build_bert(config, pieces)
    pieces.load_weights(model, checkpoint)
    return model.eval()


def batch(pieces, tokenizer, length=16):
    rows = [capstone.encode_with(pieces, tokenizer, text, length) for text in TEXTS]
    ids = torch.tensor([r[0] for r in rows])
    mask = torch.tensor([r[1] for r in rows])
    return ids, mask


def test_saved_pieces(tmp_path):
    assert capstone.saved_pieces(SOLUTIONS) == list(capstone.PIECE_NAMES)
    assert capstone.saved_pieces(tmp_path) == []


def test_solutions_give_every_piece(tokenizer):
    package = capstone.import_my_bert(SOLUTIONS)
    _, lines = capstone.pick_pieces(package, tokenizer)
    assert len(lines) == len(capstone.PIECES)
    assert all(line.startswith("yours") for line in lines), "\n".join(lines)


def test_my_bert_from_the_solutions_equals_course_lib_and_transformers(tokenizer, minilm_folder):
    model, pieces, _ = build(capstone.import_my_bert(SOLUTIONS), tokenizer)
    assert all(pieces.mine.values())
    ids, mask = batch(pieces, tokenizer)
    for text, row, keep in zip(TEXTS, ids, mask, strict=True):  # the learner's tokenizer
        expected = tokenizer.encode(text, max_length=16, padding=True)
        assert row.tolist() == list(expected.input_ids)
        assert keep.tolist() == list(expected.attention_mask)
    library = cl.load_pretrained("minilm")
    reference = reference_model(minilm_folder)
    with torch.no_grad():
        mine = model(ids, mask, output_attentions=True)
        ours = library(ids, mask, output_attentions=True)
        theirs = reference(input_ids=ids, attention_mask=mask, output_attentions=True)
    real = mask.bool()
    for other in (ours, theirs):
        gap = (mine.last_hidden_state - other.last_hidden_state)[real].abs().max().item()
        assert gap < TOLERANCE, f"hidden states differ by {gap}"
        keep = real[:, None, :, None] & real[:, None, None, :]
        for a, b in zip(mine.attentions, other.attentions, strict=True):
            assert (a - b).abs().masked_fill(~keep, 0).max().item() < TOLERANCE


def test_my_bert_runs_only_the_learners_code(tokenizer, tmp_path):
    """A deliberately wrong my_bert GELU that still passes nothing: picked from course_lib; a
    right one written differently (tanh-free, by erf) is used, and changing it changes the model."""
    package = tmp_path / "my_bert"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "layers.py").write_text(
        "import torch\n\n\ndef gelu(x):\n    return x * torch.sigmoid(1.702 * x)  # not exact\n")
    _, pieces, lines = build(capstone.import_my_bert(tmp_path), tokenizer)
    gelu_line = next(line for line in lines if "GELU" in line)
    assert gelu_line.startswith("course_lib") and "does not pass check_gelu" in gelu_line
    assert not pieces.mine["gelu"] and pieces.gelu is cl.gelu
    missing = next(line for line in lines if "WordPiece" in line)
    assert missing.startswith("course_lib") and "no my_bert/tokens.py" in missing


def test_each_piece_is_called(tokenizer, monkeypatch):
    """cl.BertModel's forward goes through every picked model piece (none is bypassed)."""
    pieces, _ = capstone.pick_pieces(capstone.import_my_bert(SOLUTIONS), tokenizer)
    called = set()
    for name in ("layer_norm", "bert_embeddings", "multi_head_attention", "feed_forward",
                 "encoder_layer", "split_heads", "attention_weights"):
        original = getattr(pieces, name)

        def spy(*args, _name=name, _original=original, **kwargs):
            called.add(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(pieces, name, spy)
    model = loaded(pieces)
    ids, mask = batch(pieces, tokenizer, 10)
    with torch.no_grad():
        model(ids[:1], mask[:1], output_attentions=True)
    # feed_forward too, but the solution's encoder_layer calls its own (my_bert.layers) directly.
    assert called >= {"layer_norm", "bert_embeddings", "multi_head_attention",
                      "encoder_layer", "split_heads", "attention_weights"}
    layers = sys.modules["my_bert.layers"]
    seen = []
    monkeypatch.setattr(layers, "feed_forward", lambda x, ff: seen.append(1) or x)
    with torch.no_grad():
        model(ids[:1], mask[:1])
    assert len(seen) == model.config.num_layers  # the learner's own feed_forward, every layer


def test_no_package_means_course_lib_everywhere(tokenizer, tmp_path):
    assert capstone.import_my_bert(tmp_path) is None
    model, pieces, lines = build(None, tokenizer)
    assert all(line.startswith("course_lib") for line in lines)
    ids, mask = batch(pieces, tokenizer)
    with torch.no_grad():
        gap = (model(ids, mask).last_hidden_state
               - cl.load_pretrained("minilm")(ids, mask).last_hidden_state)[mask.bool()]
    assert gap.abs().max().item() < TOLERANCE


def test_a_file_that_does_not_import_is_said(tokenizer, tmp_path):
    package = tmp_path / "my_bert"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "attention.py").write_text("raise RuntimeError('half written')\n")
    _, lines = capstone.pick_pieces(capstone.import_my_bert(tmp_path), tokenizer)
    line = next(line for line in lines if "attention weights" in line)
    assert "does not import: RuntimeError: half written" in line


def test_the_explorer_takes_my_bert(tokenizer):
    """Every view of the attention explorer draws from the learner's model, sentence pairs
    included, with the same layout as for course_lib's model (the maps themselves are compared
    numerically above; pixels could differ where a colour is rounded at a boundary)."""
    pytest.importorskip("ipywidgets")
    model, _, _ = build(capstone.import_my_bert(SOLUTIONS), tokenizer)
    explorer = kit.AttentionExplorer(model, tokenizer, "The cat sat on the mat.")
    library = kit.AttentionExplorer(cl.load_pretrained("minilm"), tokenizer,
                                   "The cat sat on the mat.")
    for settings in ({"view": "heatmap"}, {"view": "heatmap", "layer": 0, "head": 2},
                     {"view": "token", "token": 2}, {"view": "lines"},
                     {"view": "heatmap", "rollout": True},
                     {"view": "heatmap", "text": "Is it raining?",
                      "text_pair": "Take an umbrella.", "pair_filter": "A->B"}):
        explorer.set_view(**settings)
        library.set_view(**settings)
        assert explorer.message == "", explorer.message
        picture, expected = explorer.current_png(), library.current_png()
        assert picture[:4] == b"\x89PNG"
        assert picture[16:24] == expected[16:24], settings  # PNG header: width and height


# --- the checker of notebook 07b's exercise: right answers pass, each mistake is named ----------


@pytest.fixture(scope="module")
def solution_pieces(tokenizer):
    pieces, _ = capstone.pick_pieces(capstone.import_my_bert(SOLUTIONS), tokenizer)
    return pieces


def _written_differently(pieces):
    """Right too: the library's loader straight away, and eval() before loading."""
    _, config, checkpoint = read_pretrained("minilm")
    model = capstone.build_bert(config, pieces).eval()
    cl.load_checkpoint_into(model, checkpoint)
    return model


def _no_eval(pieces):
    _, config, checkpoint = read_pretrained("minilm")
    model = capstone.build_bert(config, pieces)
    pieces.load_weights(model, checkpoint)
    return model


def _not_loaded(pieces):
    return capstone.build_bert(read_pretrained("minilm")[1], pieces).eval()


def _library_model(pieces):
    return cl.load_pretrained("minilm")


def _stub(pieces):
    raise NotImplementedError("write load_my_bert")


@pytest.mark.parametrize("answer", [capstone.load_my_bert, _written_differently])
def test_check_load_my_bert_accepts_right_answers(answer, solution_pieces):
    from course_kit.checks.capstone import check_load_my_bert

    report = check_load_my_bert(answer, solution_pieces)
    assert report.passed, str(report)


@pytest.mark.parametrize("answer, named", [
    (_no_eval, "return model.eval()"),
    (_not_loaded, "were the weights loaded"),
    (_library_model, "course_lib's BertModel"),
    (_stub, "NotImplementedError"),
    (lambda pieces: None, "returned None"),
])
def test_check_load_my_bert_names_the_mistake(answer, named, solution_pieces):
    from course_kit.checks.capstone import check_load_my_bert

    report = check_load_my_bert(answer, solution_pieces)
    assert not report.passed
    assert named in str(report), str(report)


# --- a module piece that calls the module it is given: reported and replaced, never a crash -----


def _package(tmp_path, module: str, code: str):
    package = tmp_path / "my_bert"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / f"{module}.py").write_text(code)
    return capstone.import_my_bert(tmp_path)


@pytest.mark.parametrize("module, code, what", [
    ("layers", "def feed_forward(x, ff):\n    return ff(x)\n", "the feed-forward network"),
    ("layers", "def encoder_layer(x, layer, mask):\n    return layer(x, mask)[0]\n",
     "the encoder layer"),
    ("multi_head", "def multi_head_attention(x, attention, mask):\n"
                   "    return attention(x, mask[:, None, None, :])[0]\n",
     "multi-head attention"),
])
def test_a_piece_that_calls_its_module_is_replaced(tokenizer, tmp_path, module, code, what):
    model, pieces, lines = build(_package(tmp_path, module, code), tokenizer)
    line = next(line for line in lines if what in line)
    assert line.startswith("course_lib") and "does not pass" in line, line
    ids, mask = batch(pieces, tokenizer, 10)
    with torch.no_grad():
        model(ids, mask)  # runs: no RecursionError


SNEAKY = '''
import torch
from course_kit import capstone


def feed_forward(x, ff):
    """Right on course_lib's module as it is, calls the module back while the module runs this
    piece (as inside 07b's model): only a trial inside the model shows it."""
    if ff.__dict__.get("_running"):
        return ff(x)
    wide = ff.intermediate(x)
    return ff.output(0.5 * wide * (1 + torch.erf(wide / 2 ** 0.5)))
'''


def test_a_piece_that_recurses_only_inside_my_bert_is_replaced(tokenizer, tmp_path):
    model, pieces, lines = build(_package(tmp_path, "layers", SNEAKY), tokenizer)
    line = next(line for line in lines if "the feed-forward network" in line)
    assert line.startswith("course_lib"), line
    assert "does not run inside cl.BertModel" in line and "calls ff(x)" in line, line
    assert not pieces.mine["feed_forward"]
    ids, mask = batch(pieces, tokenizer, 10)
    with torch.no_grad():
        model(ids, mask)


def test_calling_the_module_again_says_so_at_once():
    from course_kit.checks.fixtures import SMALL

    pieces = capstone.library_pieces(None)
    pieces.feed_forward = lambda x, ff: ff(x)
    model = capstone.build_bert(SMALL, pieces)
    with pytest.raises(capstone.PieceCallsItsModule, match="calls ff"):
        model(torch.tensor([[2, 5, 3]]))


# --- which loader and which name map loaded the weights: said, and true ------------------------

OTHER_MAP_LOADER = '''
import course_lib as cl


def load_weights(model, checkpoint):
    """Right, but by course_lib's name map, as notebook 07 allows."""
    ours = model.state_dict()
    plan = {}
    for name, tensor in checkpoint.items():
        target = cl.checkpoint_name_to_ours(name)
        if target in ours:
            if tensor.shape != ours[target].shape:
                raise ValueError(f"mis-shaped {name}")
            plan[target] = tensor
    missing = [name for name in ours if name not in plan]
    if missing:
        raise ValueError(f"missing {missing[0]}")
    model.load_state_dict(plan)

''' + (SOLUTIONS / "my_bert" / "pretrained.py").read_text(encoding="utf-8").split(
    "# [my_bert cell] defines: LAYER_PARTS\n")[1].split(
    "# [my_bert cell] defines: load_weights\n")[0]  # the solution's name map, not called


def _load_small(pieces):
    from course_kit.checks.pretrained import _fresh_target, _source_checkpoint

    pieces.load_weights(_fresh_target(), _source_checkpoint()[1])


def test_loading_lines_name_the_learners_loader_and_name_map(tokenizer):
    pieces, _ = capstone.pick_pieces(capstone.import_my_bert(SOLUTIONS), tokenizer)
    _load_small(pieces)
    loader, name_map = capstone.loading_lines(pieces)
    assert loader.startswith("loader:   yours") and "load_weights" in loader
    assert name_map.startswith("name map: yours") and "which the loader calls" in name_map
    assert capstone.loading_lines(pieces, "solutions")[0].startswith("loader:   solutions")


def test_loading_lines_say_when_the_loader_does_not_call_the_name_map(tokenizer, tmp_path):
    pieces, _ = capstone.pick_pieces(_package(tmp_path, "pretrained", OTHER_MAP_LOADER),
                                     tokenizer)
    assert pieces.mine["load_weights"] and pieces.mine["to_our_name"]
    _load_small(pieces)
    loader, name_map = capstone.loading_lines(pieces)
    assert loader.startswith("loader:   yours")
    assert "not the to_our_name of my_bert/pretrained.py: the loader did not call it" in name_map


def test_loading_lines_say_course_lib(tokenizer):
    pieces, _ = capstone.pick_pieces(None, tokenizer)
    _load_small(pieces)
    assert [line.split(":")[0] for line in capstone.loading_lines(pieces)] == ["loader",
                                                                                "name map"]
    assert all("course_lib's" in line for line in capstone.loading_lines(pieces))


def test_a_name_the_saved_file_lacks_is_the_reason_shown(tokenizer, tmp_path):
    """The piece passed in its notebook, where ROOT_TWO was defined in a plain cell; the saved
    file has no ROOT_TWO: the line shows the NameError, not "the notebook says why"."""
    code = "import torch\n\n\ndef gelu(x):\n    return 0.5 * x * (1 + torch.erf(x / ROOT_TWO))\n"
    _, lines = capstone.pick_pieces(_package(tmp_path, "layers", code), tokenizer)
    line = next(line for line in lines if "GELU" in line)
    assert line.startswith("course_lib"), line
    assert "NameError: name 'ROOT_TWO' is not defined" in line, line
    assert "my_bert/layers.py does not have it" in line and "says why" not in line, line


# --- the pieces run inside the real cl.BertModel ------------------------------------------------


def test_a_wrong_piece_changes_the_real_models_output():
    """use_pieces puts the functions into cl.BertModel itself: a deliberately wrong GELU (or
    LayerNorm) changes its output; course_lib's own pieces leave it as it was."""
    from course_kit.checks.fixtures import SMALL

    torch.manual_seed(0)
    model = cl.BertModel(SMALL).eval()
    ids = torch.tensor([[2, 7, 8, 9, 3]])
    with torch.no_grad():
        before = model(ids).last_hidden_state
        same = capstone.use_pieces(model, capstone.library_pieces(None))(ids).last_hidden_state
        assert torch.allclose(before, same, atol=1e-6)
        wrong = capstone.library_pieces(None)
        wrong.gelu = lambda x: torch.zeros_like(x)
        after = capstone.use_pieces(model, wrong)(ids).last_hidden_state
    assert type(model) is cl.BertModel and model.pieces is wrong
    assert not torch.allclose(before, after, atol=1e-3)


@pytest.mark.parametrize("module, code, named, why", [
    ("layers", "import torch\n\n\ndef gelu(x):\n"
               "    y = 0.5 * x * (1 + torch.erf(x / 2 ** 0.5))\n"
               "    return torch.where(x.abs() > 3, torch.nan, y)\n", "GELU", "NaN"),
    ("attention", "import math\n\n\ndef attention_weights(q, k, mask):\n"
                  "    scores = q @ k.T / math.sqrt(q.shape[-1])\n"
                  "    if mask is not None:\n"
                  "        scores = scores.masked_fill(~mask, float('-inf'))\n"
                  "    return scores.softmax(-1)\n", "attention weights",
     "does not run inside cl.BertModel"),
])
def test_a_piece_right_only_at_the_checkers_shapes_is_replaced(tokenizer, tmp_path, module,
                                                               code, named, why):
    """NaN counts as a difference; a piece written for one (seq, d) head only (k.T) fails at the
    model's (batch, heads, seq, d): both are replaced, and the line says why."""
    _, lines = capstone.pick_pieces(_package(tmp_path, module, code), tokenizer)
    line = next(line for line in lines if named in line)
    assert line.startswith("course_lib") and why in line, line


def test_nan_inside_the_model_is_a_failure():
    nan_above = lambda x: torch.where(x > 0.01, torch.nan, cl.gelu(x))  # noqa: E731
    trouble = capstone._trial_in_model("gelu", nan_above)
    assert trouble is not None and "became NaN" in trouble, trouble
    trouble = capstone._trial_in_model("gelu", torch.relu)
    assert trouble is not None and "differs from course_lib's" in trouble, trouble
    assert capstone._trial_in_model("gelu", cl.layers.gelu_formula) is None


@pytest.mark.parametrize("init, said", [
    ("raise RuntimeError('half written')\n", "RuntimeError: half written"),
    ("import sys\nsys.exit(3)\n", "sys.exit(3)"),
])
def test_a_broken_package_falls_back_with_a_message(tmp_path, capsys, init, said):
    package = tmp_path / "my_bert"
    package.mkdir()
    (package / "__init__.py").write_text(init)
    assert capstone.import_my_bert(tmp_path) is None
    assert said in capsys.readouterr().out


CALLS_THE_LIBRARY = ("import course_lib as cl\n\n\ndef load_weights(model, checkpoint):\n"
                     "    cl.load_checkpoint_into(model, checkpoint)\n")


@pytest.mark.parametrize("code, loader_line", [
    ("from course_lib import load_checkpoint_into as load_weights\n",
     "loader:   course_lib's (cl.load_checkpoint_into)"),
    (CALLS_THE_LIBRARY, "loader:   course_lib's (cl.load_checkpoint_into)"),
])
def test_the_loader_line_names_the_function_that_loaded(tokenizer, tmp_path, code, loader_line):
    pieces, lines = capstone.pick_pieces(_package(tmp_path, "pretrained", code), tokenizer)
    _load_small(pieces)
    loader = capstone.loading_lines(pieces)[0]
    assert loader.startswith(loader_line) and "yours (" not in loader, loader


def test_a_loader_that_calls_the_library_is_not_picked_and_is_named_when_it_loads(tokenizer,
                                                                                   tmp_path):
    package = _package(tmp_path, "pretrained", CALLS_THE_LIBRARY)
    pieces, lines = capstone.pick_pieces(package, tokenizer)
    said = [line for line in lines if "the loader" in line][0]
    assert said.startswith("course_lib") and "you called `cl.load_checkpoint_into`" in said, said
    # A loader that passed its checker but calls the library when 07b loads: the line says so.
    pieces.load_weights = capstone.WatchedLoader(package.pretrained.load_weights, True)
    _load_small(pieces)
    loader = capstone.loading_lines(pieces)[0]
    assert loader.startswith("loader:   course_lib's cl.load_checkpoint_into, called by your "
                             "load_weights") and "yours (" not in loader, loader


def test_the_loader_line_says_when_the_model_was_loaded_another_way(solution_pieces):
    model = _written_differently(solution_pieces)
    loader, name_map = capstone.loading_lines(solution_pieces, model=model)
    assert "did not load this model" in loader and "yours" not in loader


def test_a_copy_of_the_model_runs_its_own_modules():
    """A deep copy (as the explorer or a learner may make) runs the copy's weights, not the
    original's: the pieces are bound to the module that holds them."""
    import copy

    from course_kit.checks.fixtures import SMALL

    pieces = capstone.library_pieces(None)
    pieces.feed_forward = lambda x, ff: ff.output(cl.gelu(ff.intermediate(x)))
    model = capstone.build_bert(SMALL, pieces).eval()
    twin = copy.deepcopy(model)
    ids = torch.tensor([[2, 5, 6, 3]])
    with torch.no_grad():
        twin.encoder.layers[0].feed_forward.intermediate.bias.add_(1.0)
        assert not torch.allclose(model(ids).last_hidden_state, twin(ids).last_hidden_state)


# --- learner code that never ends: stopped, even through a bare except, and said --------------

SWALLOWS = '''
import time

import torch


def gelu(x):
    while True:  # a loop whose bare except swallows any time-out exception
        try:
            time.sleep(0.05)
        except:  # noqa: E722
            pass
'''


@pytest.mark.parametrize("module, code, named", [
    ("layers", SWALLOWS, "GELU"),
    ("layers", "import time\n\nwhile True:\n    try:\n        time.sleep(0.05)\n"
               "    except:  # noqa: E722\n        pass\n", "GELU"),
])
def test_a_piece_that_never_ends_is_said_in_time(tokenizer, tmp_path, monkeypatch, module, code,
                                                 named):
    import time

    monkeypatch.setattr(capstone, "PIECE_SECONDS", 1.5)
    package = _package(tmp_path, module, code)
    start = time.monotonic()
    _, lines = capstone.pick_pieces(package, tokenizer)
    line = next(line for line in lines if named in line)
    assert line.startswith("course_lib") and "did not finish within 1.5 seconds" in line, line
    assert time.monotonic() - start < 30  # every piece of layers.py: one limit each
    pieces = capstone.library_pieces(tokenizer)
    with torch.no_grad():
        capstone.build_bert(cl.BertConfig.tiny(vocab_size=50), pieces)(torch.tensor([[2, 5, 3]]))


def test_the_loader_lines_before_any_loading(tokenizer):
    pieces, _ = capstone.pick_pieces(None, tokenizer)
    assert all("not known yet" in line for line in capstone.loading_lines(pieces))
