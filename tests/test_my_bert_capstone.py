"""Notebook 07b's assembly: MyBert built from notebooks/solutions/my_bert (every piece the
learner's, none from course_lib) equals course_lib and transformers on real text; a learner's
missing or wrong piece is replaced by course_lib's, and each choice is said in one line."""

from __future__ import annotations

import sys
import types
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
    _, config, checkpoint = read_pretrained("minilm")
    model = capstone.MyBert(config, pieces)
    pieces.load_weights(model, checkpoint)
    return model.eval(), pieces, lines


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
    right one written differently (tanh-free, by erf) is used, and changing it changes MyBert."""
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
    """MyBert's forward goes through every picked model piece (none is bypassed)."""
    model, pieces, _ = build(capstone.import_my_bert(SOLUTIONS), tokenizer)
    called = set()
    for name in ("layer_norm", "bert_embeddings", "multi_head_attention", "feed_forward",
                 "encoder_layer", "split_heads", "attention_weights"):
        original = getattr(pieces, name)

        def spy(*args, _name=name, _original=original, **kwargs):
            called.add(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(pieces, name, spy)
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
    """Every view of the attention explorer draws from MyBert, sentence pairs included, with the
    same layout as for course_lib's model (the maps themselves are compared numerically above;
    pixels could differ where a colour is rounded at a boundary)."""
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
    model = capstone.MyBert(config, pieces).eval()
    cl.load_checkpoint_into(model, checkpoint)
    return model


def _no_eval(pieces):
    _, config, checkpoint = read_pretrained("minilm")
    model = capstone.MyBert(config, pieces)
    pieces.load_weights(model, checkpoint)
    return model


def _not_loaded(pieces):
    return capstone.MyBert(read_pretrained("minilm")[1], pieces).eval()


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
    """Right on course_lib's module, calls MyBert's module back: only a trial inside MyBert
    shows it."""
    if isinstance(ff, capstone.MyFeedForward):
        return ff(x)
    return ff.output(torch.nn.functional.gelu(ff.intermediate(x)))
'''


def test_a_piece_that_recurses_only_inside_my_bert_is_replaced(tokenizer, tmp_path):
    model, pieces, lines = build(_package(tmp_path, "layers", SNEAKY), tokenizer)
    line = next(line for line in lines if "the feed-forward network" in line)
    assert line.startswith("course_lib"), line
    assert "does not run inside MyBert" in line and "calls ff(x)" in line, line
    assert not pieces.mine["feed_forward"]
    ids, mask = batch(pieces, tokenizer, 10)
    with torch.no_grad():
        model(ids, mask)


def test_calling_the_module_again_says_so_at_once():
    from course_kit.checks.fixtures import SMALL

    pieces = types.SimpleNamespace(feed_forward=lambda x, ff: ff(x))
    with pytest.raises(capstone.PieceCallsItsModule, match="calls ff"):
        capstone.MyFeedForward(SMALL, pieces)(torch.zeros(1, 2, SMALL.hidden_size))


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


def to_our_name(checkpoint_name):
    return cl.checkpoint_name_to_ours(checkpoint_name)
'''


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
