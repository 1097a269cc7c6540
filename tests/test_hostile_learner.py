"""A careless or unlucky learner (issue 25): the training helpers, %%my_bert and progress.

Each case ends in the right result or a clear error naming the rule it broke, within a bounded
time (pytest-timeout), with the learner's saved code and progress intact. The capstone's cases
are tested with the capstone.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from helpers import exact_gelu

import course_kit as kit
import course_lib as cl
from course_kit import my_bert as saving
from course_kit import probes as kp
from course_kit.checks.layers import check_gelu
from course_lib import finetune as ft
from course_lib import pretraining as pt

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[1]
progress_module = importlib.import_module("course_kit.progress")  # kit.progress is the function


# ---- the training helpers --------------------------------------------------------------------


def tiny_classifier(seed: int = 0) -> ft.SentenceClassifier:
    config = cl.BertConfig(vocab_size=60, hidden_size=16, num_layers=1, num_heads=2,
                           intermediate_size=32, max_position_embeddings=32)
    torch.manual_seed(seed)
    return ft.SentenceClassifier(cl.BertModel(config), num_classes=2)


def toy_data(n: int = 16):
    """Two classes told apart by the half of the vocabulary their words come from."""
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(n) % 2  # (n,)
    ids = torch.randint(5, 30, (n, 8), generator=generator) + 27 * labels[:, None]  # (n, seq)
    ids[:, 0], ids[:, -1] = 2, 3  # [CLS] ... [SEP]
    return ids, torch.ones_like(ids), labels


def weights(model) -> dict[str, torch.Tensor]:
    return {name: value.clone() for name, value in model.state_dict().items()}


SETUP_ERRORS = [  # (setting, value, words the error must say)
    ("steps", 2.5, "steps must be a whole number"),
    ("steps", 0, "steps must be at least 1"),
    ("batch_size", -4, "batch_size must be at least 1"),
    ("batch_size", 0, "batch_size must be at least 1"),
    ("lr", math.inf, "lr must be a finite number > 0"),
    ("lr", 0.0, "lr must be a finite number > 0"),
    ("lr", -1e-3, "lr must be a finite number > 0"),
    ("max_grad_norm", math.nan, "max_grad_norm must be a finite number > 0"),
    ("max_grad_norm", -1.0, "max_grad_norm must be a finite number > 0"),
    ("max_grad_norm", 0.0, "max_grad_norm must be a finite number > 0"),
    ("weight_decay", math.nan, "weight_decay must be a finite number >= 0"),
    ("warmup_fraction", 1.5, "warmup_fraction must be a finite number >= 0 and <= 1"),
    ("seed", -1, "seed must be at least 0"),
    ("seed", 1.0, "seed must be a whole number"),
]


@pytest.mark.parametrize(("name", "value", "said"), SETUP_ERRORS)
def test_a_bad_setting_is_named_when_made_and_when_training(name, value, said):
    with pytest.raises((TypeError, ValueError), match=said):
        ft.TrainingSetup(**{name: value})
    setup = ft.TrainingSetup(steps=2, batch_size=4)
    setattr(setup, name, value)  # changed after it was made: training checks it again
    model = tiny_classifier()
    before = weights(model)
    with pytest.raises((TypeError, ValueError), match=said):
        ft.train_classifier(model, *toy_data(), setup, progress=False)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_a_setting_of_the_wrong_kind_is_told_like_a_config_field():
    """Training settings and a config's fields share one number rule (validation.py): the
    error names the value's type, cuts a long value short and says which setting it is."""
    with pytest.raises(TypeError, match=r"steps must be a whole number \(an int\), got 2\.5 "
                                        r"\(float\)$"):
        ft.TrainingSetup(steps=2.5)
    with pytest.raises(TypeError, match=r"lr must be a number, got '1{56}\.\.\. \(str\)$") as info:
        ft.TrainingSetup(lr="1" * 1000)
    assert info.value.field == "lr"
    with pytest.raises(TypeError, match=r"hidden_dropout must be a number, got '1{56}\.\.\."):
        cl.BertConfig(hidden_dropout="1" * 1000)


LABEL_ERRORS = [  # (labels for 16 sentences, words the error must say)
    (torch.full((16,), 5), r"labels must be class numbers in \[0, 2\), got 5"),
    (torch.full((16,), -100), r"got -100 .*-100 is for masked-LM labels only"),
    (torch.zeros(16), "labels must have an integer dtype.*float32"),
    (torch.zeros(16, dtype=torch.bool), "labels must have an integer dtype.*bool"),
    (torch.zeros(5, dtype=torch.long), r"labels must be of shape \(16,\)"),
    (torch.zeros(16, 1, dtype=torch.long), r"labels must be of shape \(16,\)"),
]


@pytest.mark.parametrize(("labels", "said"), LABEL_ERRORS)
def test_classifier_labels_are_checked(labels, said):
    ids, mask, _ = toy_data()
    with pytest.raises((TypeError, ValueError), match=said):
        ft.train_classifier(tiny_classifier(), ids, mask, labels,
                            ft.TrainingSetup(steps=1, batch_size=4), progress=False)


def test_lists_work_as_well_as_tensors():
    ids, mask, labels = toy_data()
    model = tiny_classifier()
    history = ft.train_classifier(model, ids.tolist(), mask.tolist(), labels.tolist(),
                                  ft.TrainingSetup(steps=2, batch_size=4), progress=False)
    assert len(history.losses) == 2
    assert ft.accuracy(model, ids.tolist(), mask.tolist(), labels.tolist()) == ft.accuracy(
        model, ids, mask, labels)


def test_a_bad_dropout_is_named():
    with pytest.raises(ValueError, match="dropout must be a finite number >= 0 and <= 1"):
        ft.SentenceClassifier(tiny_classifier().encoder, 2, dropout=1.5)


def test_an_empty_data_set_is_a_clear_error_not_a_hang():
    ids, mask, labels = toy_data()
    with pytest.raises(ValueError, match="the data set is empty"):
        ft.train_classifier(tiny_classifier(), ids[:0], mask[:0], labels[:0],
                            ft.TrainingSetup(steps=3, batch_size=4), progress=False)
    with pytest.raises(ValueError, match="the data set is empty"):
        ft.predict(tiny_classifier(), ids[:0], mask[:0])
    with pytest.raises(ValueError, match="the data set is empty"):
        ft.sentence_vectors(tiny_classifier().encoder, ids[:0], mask[:0])
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        list(ft.shuffled_batches(4, 0, 3, torch.Generator()))
    with pytest.raises(ValueError, match="n must be at least 1"):
        list(ft.shuffled_batches(0, 4, 3, torch.Generator()))


def test_a_nan_in_the_mask_is_named():
    ids, mask, labels = toy_data()
    mask = mask.float()
    mask[0, 3] = math.nan
    with pytest.raises(ValueError, match="attention_mask must hold only 0"):
        ft.train_classifier(tiny_classifier(), ids, mask, labels,
                            ft.TrainingSetup(steps=1, batch_size=4), progress=False)


def test_accuracy_refuses_labels_that_would_broadcast():
    ids, mask, labels = toy_data()
    model = tiny_classifier()
    right = ft.predict(model, ids, mask)  # a model that is 100 % right on these labels
    assert ft.accuracy(model, ids, mask, right) == 1.0
    with pytest.raises(ValueError, match=r"labels must be of shape \(16,\)"):
        ft.accuracy(model, ids, mask, right[:, None])


@pytest.mark.parametrize("lr", [1e6, 1e3])
def test_a_diverging_loss_stops_at_its_step_and_leaves_the_weights(lr):
    model = tiny_classifier()
    ids, mask, labels = toy_data()
    setup = ft.TrainingSetup(steps=20, batch_size=8, lr=lr)
    with pytest.raises(ft.TrainingDiverged, match=r"training stopped at step \d+ of 20: the loss "
                       r"is nan.*weights were left as they were.*learning rate") as stopped:
        ft.train_classifier(model, ids, mask, labels, setup, progress=False)
    step = int(str(stopped.value).split("step ")[1].split(" ")[0])
    assert all(torch.isfinite(v).all() for v in model.state_dict().values())
    # the same steps replayed up to the one before gives exactly these weights
    replay = tiny_classifier()
    optimizer = ft.make_optimizer(replay, lr, setup.weight_decay)
    scheduler = ft.warmup_linear_decay(optimizer, round(0.1 * 20), 20)
    torch.manual_seed(setup.seed)
    generator = torch.Generator().manual_seed(setup.seed)
    for chosen, _ in zip(ft.shuffled_batches(16, 8, step - 1, generator), range(step - 1),
                         strict=True):
        ft.training_step(replay, ids[chosen], mask[chosen], labels[chosen], optimizer, scheduler)
    assert all(torch.equal(v, replay.state_dict()[k]) for k, v in model.state_dict().items())
    assert not model.training  # left in eval mode


def test_a_nan_gradient_stops_before_the_update():
    model = tiny_classifier()
    ids, mask, labels = toy_data(4)
    optimizer = ft.make_optimizer(model, 1e-3)
    before = weights(model)
    model.classifier.weight.register_hook(lambda grad: grad * math.nan)
    with pytest.raises(ft.TrainingDiverged, match="gradient norm nan"):
        ft.training_step(model, ids, mask, labels, optimizer)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


@pytest.fixture(scope="module")
def mlm_parts():
    texts = ["the cat sat on the mat", "a dog ran in the park", "the bird sang a song"] * 4
    tok = kp.course_tokenizer(texts)
    torch.manual_seed(0)
    return cl.BertForMaskedLM(kp.small_config(tok.vocab_size, num_layers=1)), tok, texts


def test_masked_lm_training_stops_when_the_loss_diverges(mlm_parts):
    model, tok, texts = mlm_parts
    before = weights(model)
    with pytest.raises(ft.TrainingDiverged, match=r"training stopped at step \d+ of 30"):
        pt.train_masked_lm(model, tok, texts, steps=30, batch_size=4, learning_rate=1e8,
                           warmup=0, progress=False)
    assert all(torch.isfinite(v).all() for v in model.state_dict().values())
    model.load_state_dict(before)


@pytest.mark.parametrize(("settings", "said"), [
    ({"steps": 2.5}, "steps must be a whole number"),
    ({"batch_size": 0}, "batch_size must be at least 1"),
    ({"learning_rate": math.inf}, "learning_rate must be a finite number > 0"),
    ({"warmup": 50, "steps": 10}, "warmup must be at least 0 and at most 10"),
    ({"seed": -3}, "seed must be at least 0"),
    ({"texts": []}, "texts must be a non-empty list"),
    ({"texts": "one sentence"}, "texts must be a non-empty list"),
    ({"texts": ["", " "]}, "no word to mask"),
])
def test_masked_lm_training_settings_are_checked(mlm_parts, settings, said):
    model, tok, texts = mlm_parts
    arguments = dict(texts=texts, steps=2, batch_size=4, warmup=0, progress=False) | settings
    with pytest.raises((TypeError, ValueError), match=said):
        pt.train_masked_lm(model, tok, **arguments)


@pytest.mark.parametrize(("labels", "said"), [
    (lambda ids: torch.full_like(ids, -100), "every label is -100"),
    (lambda ids: ids.float(), "labels must have an integer dtype"),
    (lambda ids: torch.full_like(ids, 10_000), r"labels must be token IDs in \[0, \d+\) or -100"),
    (lambda ids: torch.full_like(ids, -5), "or -100"),
    (lambda ids: ids[:, :2], "labels must have the shape of input_ids"),
])
def test_masked_lm_labels_are_checked(mlm_parts, labels, said):
    model, tok, _ = mlm_parts
    ids = torch.tensor([tok.encode("the cat sat").input_ids])  # (1, seq)
    with pytest.raises((TypeError, ValueError), match=said):
        model(ids, labels=labels(ids))


def test_predict_masked_refuses_positions_and_k_out_of_range(mlm_parts):
    model, tok, _ = mlm_parts
    sentence = "the cat sat on the mat"
    assert len(pt.predict_masked(model, tok, sentence, 5, k=3)) == 3  # the last word: fine
    for position in (6, 99, -1):  # 99 masked [SEP] before; -1 another word
        with pytest.raises(ValueError, match="word_position must be at least 0 and at most 5"):
            pt.predict_masked(model, tok, sentence, position)
    with pytest.raises(TypeError, match="word_position must be a whole number"):
        pt.predict_masked(model, tok, sentence, 1.0)
    for k in (0, -2, 10**9):
        with pytest.raises(ValueError, match="k must be at least 1"):
            pt.predict_masked(model, tok, sentence, 1, k=k)
    with pytest.raises(ValueError, match="k must be at least 1"):
        pt.fill_in_the_blank(model, tok, "the [MASK] sat", k=0)
    with pytest.raises(ValueError, match="at least one word"):
        pt.predict_masked(model, tok, "   ", 0)


def test_perplexity_and_probes_of_nothing_are_clear_errors(mlm_parts):
    with pytest.raises(ValueError, match="perplexity needs at least one loss"):
        pt.perplexity([])
    with pytest.raises(ValueError, match="losses must be finite"):
        pt.perplexity([1.0, math.nan])
    with pytest.raises(ValueError, match="last must be at least 1"):
        pt.perplexity([1.0], last=0)
    assert pt.perplexity([math.log(4.0)] * 3) == pytest.approx(4.0)
    model, tok, _ = mlm_parts
    with pytest.raises(ValueError, match="probes is empty"):
        kp.probe_accuracy(model, tok, [])


# ---- %%my_bert -------------------------------------------------------------------------------

GELU = ("import math\n\nimport torch\n\ndef gelu(x):\n"
        "    return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))\n")
FEED = "def feed_forward(x, ff):\n    return ff.output(gelu(ff.intermediate(x)))\n"


def save(folder: Path, cell: str, module: str = "layers", namespace: dict | None = None):
    return saving.save_cell(cell, module, namespace if namespace is not None else {}, folder)


def load_module(path: Path) -> dict:
    namespace: dict = {"__name__": "my_bert." + path.stem, "__package__": "my_bert"}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    return namespace


def test_redefining_one_function_keeps_the_others_of_the_module(tmp_path):
    save(tmp_path, GELU + "\n" + FEED)  # one cell saved gelu and feed_forward together
    save(tmp_path, GELU.replace("0.5 *", "0.5 * 1.0 *"))  # a later cell redefines only gelu
    text = (tmp_path / "my_bert" / "layers.py").read_text()
    assert "def feed_forward" in text and text.count("def gelu") == 1 and "0.5 * 1.0 *" in text
    assert text.index("def gelu") < text.index("def feed_forward")  # gelu kept its place
    assert (tmp_path / "my_bert" / "layers.py").stat().st_mode & 0o777 == 0o644  # not private
    previous = (tmp_path / "my_bert" / ".previous" / "layers.py").read_text()
    assert "0.5 * 1.0" not in previous and "def feed_forward" in previous


def test_a_hand_written_helper_above_the_first_block_is_kept(tmp_path):
    save(tmp_path, GELU)
    path = tmp_path / "my_bert" / "layers.py"
    text = path.read_text()
    first = text.index(saving.MARKER)
    path.write_text(text[:first] + "# my own helper\ndef double(x):\n    return 2 * x\n\n\n"
                    + text[first:])
    save(tmp_path, FEED)
    save(tmp_path, GELU)
    text = path.read_text()
    assert "# my own helper\ndef double(x)" in text and "def feed_forward" in text
    assert load_module(path)["double"](4) == 8


def test_any_valid_python_is_parsed(tmp_path):
    cell = textwrap.dedent('''
        from __future__ import annotations
        from math import (
            pi,
            sqrt,
        )
        import functools


        @functools.lru_cache(maxsize=None)
        def root(x):
            """Says "# [my_bert cell] defines: root" in a docstring."""
            # [my_bert cell] defines: not_a_block
            return sqrt(x) * pi / pi
        ''')
    save(tmp_path, cell, "maths")
    save(tmp_path, "def twice(x):\n    return 2 * root(x)\n", "maths")
    save(tmp_path, cell, "maths")  # again: the multi-line import still parses
    path = tmp_path / "my_bert" / "maths.py"
    namespace = load_module(path)
    assert namespace["twice"](9.0) == pytest.approx(6.0)
    imports, blocks = saving.read_saved(path)
    assert [block.names for block in blocks] == [("root",), ("twice",)]
    assert imports[0] == "from __future__ import annotations"  # kept, and kept first


def test_a_failed_write_keeps_the_file_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    save(tmp_path, GELU)
    path = tmp_path / "my_bert" / "layers.py"
    before = path.read_text()

    def full_disk(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError, match="No space left"):
        save(tmp_path, FEED)
    monkeypatch.undo()
    assert path.read_text() == before
    assert not [p for p in (tmp_path / "my_bert").rglob("*.tmp")]
    save(tmp_path, FEED)  # running the good cell again works
    assert "def feed_forward" in path.read_text()


def test_a_file_that_no_longer_parses_is_set_aside(tmp_path):
    save(tmp_path, GELU)
    path = tmp_path / "my_bert" / "layers.py"
    path.write_text(path.read_text()[:-30])  # truncated by an older save on a full disk
    result = save(tmp_path, GELU)
    assert "no longer parsed" in str(result) and "kept as layers.py.damaged-" in str(result)
    assert "gelu" in load_module(path)
    assert list((tmp_path / "my_bert").glob("layers.py.damaged-*"))


def test_symlinks_and_places_outside_my_bert_are_refused(tmp_path):
    outside = tmp_path / "outside.py"
    outside.write_text("KEEP = 1\n")
    package = tmp_path / "work" / "my_bert"
    package.mkdir(parents=True)
    (package / "layers.py").symlink_to(outside)
    with pytest.raises(PermissionError, match="symbolic link"):
        save(tmp_path / "work", GELU)
    assert outside.read_text() == "KEEP = 1\n"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "linked").mkdir()
    (tmp_path / "linked" / "my_bert").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(PermissionError, match="symbolic link"):
        save(tmp_path / "linked", GELU)
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("name", ["__init__", "__main__", "_private", "../layers", "a/b"])
def test_reserved_and_path_like_module_names_are_refused(tmp_path, name):
    with pytest.raises(ValueError, match="lowercase Python name"):
        save(tmp_path, GELU, name)
    assert not (tmp_path / "my_bert").exists()


def test_the_magic_refuses_to_save_through_a_link_with_a_clear_message(tmp_path, monkeypatch):
    ipython = pytest.importorskip("IPython")
    from IPython.testing import globalipapp

    del ipython
    globalipapp.start_ipython()
    shell = globalipapp.get_ipython()
    shell.run_cell("%load_ext course_kit.my_bert", store_history=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my_bert").symlink_to(tmp_path, target_is_directory=True)
    outcome = shell.run_cell("%%my_bert layers\nX = 1\n", store_history=False)
    assert isinstance(outcome.error_in_exec, saving.CellNotSaved)
    assert "the cell ran but was not saved" in str(outcome.error_in_exec)


def run_together(code: str, count: int, env: dict | None = None, args: list[str] = ()) -> None:
    """Run ``code`` in ``count`` Python processes at once (kernels side by side)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    processes = [subprocess.Popen([sys.executable, "-c", code.replace("WORKER", str(w)), *args],
                                  env=env,
                                  stderr=subprocess.PIPE, text=True) for w in range(count)]
    for process in processes:
        _, err = process.communicate(timeout=50)
        assert process.returncode == 0, err


@pytest.mark.timeout(90)
def test_two_kernels_saving_into_one_module_keep_every_function(tmp_path):
    code = textwrap.dedent("""
        import sys
        from pathlib import Path
        from course_kit.my_bert import save_cell
        for i in range(40):
            cell = f"def fWORKER_{i}(x):\\n    return x + {i}\\n"
            save_cell(cell, "shared", {}, Path(sys.argv[-1]))
        """)
    run_together(code, 2, args=[str(tmp_path)])
    namespace = load_module(tmp_path / "my_bert" / "shared.py")
    assert sum(name.startswith("f") and name[1] in "01" for name in namespace) == 80
    assert namespace["f1_39"](1) == 40


# ---- saved checkpoints (save_pretrained) -----------------------------------------------------

SAVED_FILES = ["config.json", "model.safetensors", "vocab.txt"]
FAILURES = {  # where a save fails -> the functions made to fail there
    "serializing the weights": ["safetensors.torch.save", "safetensors.torch.save_file"],
    "a full disk mid-write": ["os.fsync"],
    "the rename": ["os.replace"],
}


def save_tiny(kind: type, seed: int, folder: Path) -> dict[str, bytes]:
    """Save a tiny model whose weights and config.json both differ from one seed to another;
    returns what the folder's files hold."""
    torch.manual_seed(seed)
    config = cl.BertConfig.tiny(vocab_size=8, max_position_embeddings=16,
                                hidden_dropout=0.1 * (seed + 1))
    tokenizer = cl.WordPieceTokenizer.from_vocab(
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "c"])
    kind(config).save_pretrained(folder, tokenizer=tokenizer)
    return {name: (folder / name).read_bytes() for name in SAVED_FILES}


def no_space_left(*args, **kwargs):
    raise OSError(28, "No space left on device")


@pytest.mark.parametrize("kind", [cl.BertForMaskedLM, cl.BertForSequenceClassification])
@pytest.mark.parametrize("failure", FAILURES)
def test_a_failed_save_keeps_the_previous_checkpoint_whole(tmp_path, monkeypatch, kind, failure):
    """Whatever step of a second save fails, every file of the first save is as it was (not
    half-written, not a new config.json beside old weights), and no temporary file is left."""
    before = save_tiny(kind, 0, tmp_path)
    for failing in FAILURES[failure]:
        module, name = failing.rsplit(".", 1)
        monkeypatch.setattr(importlib.import_module(module), name, no_space_left)
    with pytest.raises(OSError, match="No space left"):
        save_tiny(kind, 1, tmp_path)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == SAVED_FILES  # no temporary file
    assert {name: (tmp_path / name).read_bytes() for name in SAVED_FILES} == before
    kind.from_pretrained(tmp_path)  # still a checkpoint that loads


def test_a_second_save_replaces_every_file(tmp_path):
    """The test above can fail: a save that works does change the files."""
    before = save_tiny(cl.BertForMaskedLM, 0, tmp_path)
    after = save_tiny(cl.BertForMaskedLM, 1, tmp_path)
    assert after["config.json"] != before["config.json"]
    assert after["model.safetensors"] != before["model.safetensors"]
    assert sorted(p.name for p in tmp_path.iterdir()) == SAVED_FILES


# ---- progress --------------------------------------------------------------------------------





def course_file(entries: dict) -> str:
    return json.dumps({"course": progress_module.COURSE, "version": 1, "exercises": entries})


def test_a_damaged_file_is_kept_beside_the_new_one_and_the_learner_told(store, capsys):
    entries = {f"check_{i}": {"title": str(i), "passed": True, "at": ""} for i in range(5)}
    damaged = course_file(entries)[:-20]
    store.write_text(damaged)
    assert progress_module.load() == {}
    assert "damaged" in capsys.readouterr().err
    assert check_gelu(exact_gelu).passed
    kept = list(store.parent.glob("progress.json.damaged-*"))
    assert len(kept) == 1 and kept[0].read_text() == damaged  # its 5 entries are not lost
    assert "kept as progress.json.damaged-" in capsys.readouterr().err
    assert progress_module.load()["check_gelu"]["passed"] is True


def test_an_unreadable_file_is_kept_too(store, monkeypatch):
    store.write_text(course_file({"check_x": {"title": "x", "passed": True}}))
    real = Path.read_bytes

    def refuse(self):
        if self == store:
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    progress_module.record("check_gelu", "gelu", True)
    monkeypatch.undo()
    kept = list(store.parent.glob("progress.json.damaged-*"))
    assert len(kept) == 1 and "check_x" in kept[0].read_text()
    assert "check_gelu" in json.loads(store.read_text())["exercises"]


@pytest.mark.parametrize("content", ["my notes, not JSON\n", '{"name": "my settings"}\n',
                                     "[1, 2, 3]\n"])
def test_a_learner_file_at_the_progress_path_is_never_replaced(store, capsys, content):
    store.write_text(content)
    assert check_gelu(exact_gelu).passed  # the check itself still works
    assert store.read_text() == content
    assert list(store.parent.iterdir()) == [store]  # nothing renamed, nothing created beside
    assert "is not a progress file of this course" in capsys.readouterr().err
    assert "check_gelu" not in str(kit.progress())


def test_wrong_shaped_entries_never_break_progress_or_the_checkers(store):
    store.write_text(course_file({
        "check_gelu": {"passed": "no"},  # a string: not passed
        "check_feed_forward": [1, 2],  # not an entry at all
        "check_wordpiece": {"passed": True, "failed_tries": "many", "mistakes": [1]},
        "check_attention_weights": None,
    }))
    states = {name: state for _, rows in kit.progress().rows for name, _, state in rows}
    assert states["check_gelu"] == "tried" and states["check_wordpiece"] == "done"
    assert states["check_feed_forward"] == "todo"
    assert check_gelu(torch.relu).passed is False
    assert json.loads(store.read_text())["exercises"]["check_gelu"]["passed"] is False
    assert list(store.parent.glob("progress.json.damaged-*"))  # the odd file is kept


def test_a_failed_write_leaves_no_temporary_file(store, monkeypatch):
    progress_module.record("check_a", "a", True)

    def full_disk(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    progress_module.record("check_b", "b", True)  # never raises
    monkeypatch.undo()
    assert sorted(p.name for p in store.parent.iterdir()) == ["progress.json",
                                                              "progress.json.lock"]
    assert "check_a" in json.loads(store.read_text())["exercises"]


def test_each_failed_try_keeps_its_named_mistake(store):
    assert not check_gelu(lambda x: torch.nn.functional.gelu(x, approximate="tanh")).passed
    assert not check_gelu(torch.relu).passed
    assert not check_gelu(torch.relu).passed
    assert not check_gelu(lambda x: x * 3.0).passed  # wrong, but no named mistake
    assert check_gelu(exact_gelu).passed
    entry = json.loads(store.read_text())["exercises"]["check_gelu"]
    assert entry["passed"] is True and entry["failed_tries"] == 4
    mistakes = entry["mistakes"]
    assert sum(mistakes.values()) == 3 and len(mistakes) == 2
    assert any("tanh approximation" in m and n == 1 for m, n in mistakes.items())
    assert any("ReLU" in m and n == 2 for m, n in mistakes.items())


@pytest.mark.timeout(90)
def test_two_kernels_recording_40_verdicts_each_keep_all_80(store):
    code = textwrap.dedent("""
        from course_kit.progress import record
        for i in range(40):
            record(f"check_WORKER_{i}", "t", i % 2 == 0)
        """)
    run_together(code, 2, env={"COURSE_PROGRESS_FILE": str(store)})
    assert len(json.loads(store.read_text())["exercises"]) == 80
