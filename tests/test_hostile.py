"""Hostile and edge inputs: each gets a clear error naming the rule it broke, or the right result.

Each case asserts the error's type and that its message names the rule (or checks the result);
every test is bounded in time, and the cases that would need a lot of memory if a check
regressed run in a subprocess with an address-space limit (RLIMIT_AS), so that a regression fails
the test instead of taking the machine down.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

import course_lib as cl
from course_lib import pretrained, validation
from course_lib.config import check_fits_in_memory
from course_lib.validation import CheckedInputs, check_inputs
from course_lib.weights import ours_to_checkpoint_state

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[1]
TINY = cl.BertConfig.tiny(vocab_size=100)
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "##s", ",", "!"]


# ---- fixtures: a tiny model folder written in the Hugging Face layout ------------------------


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return cl.BertModel(TINY).eval()


@pytest.fixture(scope="module")
def block(model):
    return cl.BertEncoderBlock(vocab_size=100, model=model).eval()


def _state(model) -> dict[str, torch.Tensor]:
    return {name: t.clone() for name, t in ours_to_checkpoint_state(model).items()}


def _write_folder(folder: Path, model, state=None, config=None) -> Path:
    """config.json, model.safetensors, vocab.txt and tokenizer_config.json of a tiny model."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    config = config if config is not None else model.config.to_hf_dict()
    (folder / "config.json").write_text(json.dumps(config))
    save_file(state if state is not None else _state(model), str(folder / "model.safetensors"))
    (folder / "vocab.txt").write_text("\n".join(VOCAB) + "\n")
    (folder / "tokenizer_config.json").write_text('{"do_lower_case": true}')
    return folder


@pytest.fixture
def folder(tmp_path, model):
    return _write_folder(tmp_path / "tiny", model)


def _rewrite_config(folder: Path, **changes) -> None:
    config = json.loads((folder / "config.json").read_text())
    config.update(changes)
    (folder / "config.json").write_text(json.dumps(config))


@pytest.fixture
def no_model_built(monkeypatch):
    """Fails the test if the loader allocates a model (the checks must come first)."""

    def refuse(*args, **kwargs):
        raise AssertionError("a model was allocated before the checks refused the input")

    monkeypatch.setattr(pretrained, "BertModel", refuse)


def run_limited(code: str, limit_gb: float = 1.5, timeout: int = 90) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh Python whose address space may grow by only ``limit_gb`` GB."""
    prelude = textwrap.dedent(
        f"""
        import resource
        import course_lib as cl
        with open("/proc/self/status") as status:
            in_use = int(status.read().split("VmSize:")[1].split()[0]) * 1024
        limit = in_use + int({limit_gb} * 1e9)
        resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=ROOT,
    )


needs_rlimit = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="address-space limits are read from /proc"
)


# ---- configs: every field, its type, range and finiteness ----------------------------------

CONFIG_CASES = [
    ({"vocab_size": "30522"}, TypeError, "vocab_size must be an integer, got '30522'"),
    ({"hidden_size": 768.0}, TypeError, "hidden_size must be an integer, got 768.0"),
    ({"num_layers": None}, TypeError, "num_layers must be an integer, got None"),
    ({"num_heads": True}, TypeError, "num_heads must be an integer, got True"),
    ({"type_vocab_size": [2]}, TypeError, "type_vocab_size must be an integer"),
    ({"intermediate_size": -1}, ValueError, "intermediate_size must be a positive integer"),
    ({"max_position_embeddings": 0}, ValueError, "max_position_embeddings must be a positive"),
    ({"hidden_size": 100, "num_heads": 12}, ValueError, "must be divisible by num_heads"),
    ({"hidden_act": "swish"}, ValueError, "hidden_act must be 'gelu', 'gelu_new' or 'relu'"),
    ({"hidden_act": None}, TypeError, "hidden_act must be"),
    ({"layer_norm_eps": 0}, ValueError, "layer_norm_eps must be positive"),
    ({"layer_norm_eps": -1e-12}, ValueError, "layer_norm_eps must be positive"),
    ({"layer_norm_eps": float("nan")}, ValueError, "layer_norm_eps must be a finite number"),
    ({"layer_norm_eps": float("inf")}, ValueError, "layer_norm_eps must be a finite number"),
    ({"layer_norm_eps": "1e-12"}, TypeError, "layer_norm_eps must be a number"),
    ({"hidden_dropout": 1.0}, ValueError, "hidden_dropout must be a probability in \\[0, 1\\)"),
    ({"hidden_dropout": -0.1}, ValueError, "hidden_dropout must be a probability"),
    ({"attention_dropout": float("nan")}, ValueError, "attention_dropout must be a finite"),
    ({"initializer_range": -0.02}, ValueError, "initializer_range .* must not be negative"),
    ({"initializer_range": float("inf")}, ValueError, "initializer_range must be a finite"),
    ({"pad_token_id": 30522}, ValueError, "pad_token_id 30522 must be below vocab_size 30522"),
    ({"pad_token_id": -1}, ValueError, "pad_token_id -1 must be below vocab_size"),
    ({"pad_token_id": 0.0}, TypeError, "pad_token_id must be an integer, got 0.0"),
]


@pytest.mark.parametrize(("fields", "error", "rule"), CONFIG_CASES)
def test_config_field_rules(fields, error, rule):
    with pytest.raises(error, match=rule) as info:
        cl.BertConfig(**fields)
    assert info.value.field in fields  # the error says which field it is about


def test_a_huge_value_does_not_flood_the_message():
    with pytest.raises(ValueError, match="hidden_act must be .*got 'xxx+\\.\\.\\.") as info:
        cl.BertConfig(hidden_act="x" * 100_000)
    assert len(str(info.value)) < 200


@pytest.mark.parametrize(
    ("kwargs", "rule"),
    [
        ({"config": {"hidden_size": 64}}, "config must be a cl.BertConfig, got dict"),
        ({"model": "minilm"}, "model must be a cl.BertModel .* got str"),
    ],
)
def test_block_settings_of_the_wrong_type(kwargs, rule):
    with pytest.raises(TypeError, match=rule):
        cl.BertEncoderBlock(**kwargs)


def test_config_takes_numpy_integers_and_stores_python_ones():
    config = cl.BertConfig.tiny(hidden_size=np.int64(64), hidden_dropout=np.float32(0.25))
    assert type(config.hidden_size) is int and config.hidden_size == 64
    assert type(config.hidden_dropout) is float and config.hidden_dropout == 0.25


@pytest.mark.parametrize(
    ("value", "error", "rule"),
    [
        (["bert"], TypeError, "a config must be a JSON object of settings, got list"),
        ("bert", TypeError, "got str"),
        (None, TypeError, "got NoneType"),
    ],
)
def test_config_from_a_value_that_is_not_a_dict(value, error, rule):
    with pytest.raises(error, match=rule):
        cl.BertConfig.from_hf_dict(value)


# ---- config.json: the file itself ------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "error", "rule"),
    [
        (b'{"hidden_size": 64, "name": "caf\xe9"}', ValueError, "is not valid UTF-8 text"),
        (b'{"hidden_size": 64,', ValueError, "is not valid JSON"),
        (b"[1, 2, 3]", TypeError, "must hold a JSON object .* got a JSON array"),
        (b"null", TypeError, "got a JSON null"),
        (b'"bert"', TypeError, "got a JSON string"),
        (b"[" * 100_000 + b"]" * 100_000, ValueError, "nested too deeply"),
        (b'{"hidden_size": 64, "hidden_size": 768}', ValueError, "'hidden_size' appears twice"),
        (b'{"x": "' + b"a" * (5 << 20) + b'"}', ValueError, "a settings file is a few KB"),
    ],
)
def test_config_json_that_cannot_be_a_config(tmp_path, content, error, rule):
    (tmp_path / "config.json").write_bytes(content)
    with pytest.raises(error, match=rule) as info:
        pretrained.load_config(tmp_path)
    assert "config.json" in str(info.value)  # the file is named


@pytest.mark.parametrize(
    ("changes", "error", "rule"),
    [
        ({"hidden_size": None}, TypeError, "hidden_size must be an integer, got None"),
        ({"num_attention_heads": "12"}, TypeError, "num_attention_heads \\(num_heads\\)"),
        ({"layer_norm_eps": float("nan")}, ValueError, "layer_norm_eps must be a finite"),
        ({"hidden_dropout_prob": 1.5}, ValueError, "hidden_dropout_prob \\(hidden_dropout\\)"),
        ({"num_hidden_layers": 0}, ValueError, "num_hidden_layers \\(num_layers\\)"),
        ({"pad_token_id": 100}, ValueError, "pad_token_id 100 must be below vocab_size 100"),
    ],
)
def test_config_json_fields_name_the_key_and_the_file(folder, changes, error, rule):
    _rewrite_config(folder, **changes)  # json.dumps writes NaN as the non-standard NaN literal
    with pytest.raises(error, match=rule) as info:
        pretrained.load_config(folder)
    assert str(folder / "config.json") in str(info.value)


def test_config_json_with_a_byte_order_mark_is_read(folder):
    text = (folder / "config.json").read_text()
    (folder / "config.json").write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert pretrained.load_config(folder) == TINY


# ---- before a model is built: memory, names and shapes from the header -----------------------


def test_mismatched_config_is_refused_before_a_model_is_built(folder, no_model_built):
    _rewrite_config(folder, hidden_size=128)
    with pytest.raises(ValueError, match="sizes that do not fit the config") as info:
        cl.load_pretrained(folder)
    assert "checkpoint (512, 64), model (512, 128) and 32 more (35 in all)" in str(info.value)


def test_more_layers_than_the_checkpoint_has_are_listed_briefly(folder, no_model_built):
    _rewrite_config(folder, num_hidden_layers=40)
    with pytest.raises(ValueError, match="missing from the checkpoint: .* more \\(") as info:
        cl.load_pretrained(folder)
    assert len(str(info.value)) < 1000


def test_thousands_of_unexpected_tensors_give_a_short_listing(tmp_path, model, no_model_built):
    state = _state(model)
    state.update({f"extra.{i}.weight": torch.zeros(1) for i in range(3000)})
    folder = _write_folder(tmp_path / "m", model, state)
    with pytest.raises(ValueError, match="unexpected in the checkpoint: .* and 2,997 more") as info:
        cl.load_pretrained(folder)
    assert len(str(info.value)) < 1000


def test_an_absurdly_long_tensor_name_is_cut_in_the_message(tmp_path, model, no_model_built):
    state = {**_state(model), "x" * 100_000: torch.zeros(1)}
    folder = _write_folder(tmp_path / "m", model, state)
    with pytest.raises(ValueError, match="unexpected in the checkpoint: xxx+\\.\\.\\.") as info:
        cl.load_pretrained(folder)
    assert len(str(info.value)) < 500


def test_a_pooler_asked_for_but_not_in_the_checkpoint(folder, no_model_built):
    with pytest.raises(ValueError, match="missing from the checkpoint: pooler.dense.bias"):
        cl.load_pretrained(folder, add_pooler=True)


@pytest.mark.parametrize(
    ("header", "rule"),
    [
        ((10**15).to_bytes(8, "little"), "its header claims 1,000,000,000,000,000 bytes"),
        (b"\x01\x02", "shorter than the 8-byte header length"),
        ((20).to_bytes(8, "little") + b"not json at all!!!!!", "header is not UTF-8 JSON"),
        (
            (40).to_bytes(8, "little") + b'{"a": {"shape": [-1], "dtype": "F32"}}  ',
            "tensor a has no valid shape",
        ),
    ],
)
def test_safetensors_headers_that_lie(folder, no_model_built, header, rule):
    (folder / "model.safetensors").write_bytes(header)
    with pytest.raises(ValueError, match=f"could not read weight file .*{rule}"):
        cl.load_pretrained(folder)


@needs_rlimit
def test_a_config_too_big_for_memory_is_refused_with_its_size(folder):
    _rewrite_config(folder, vocab_size=2_000_000_000, hidden_size=768, num_attention_heads=12)
    result = run_limited(
        f"""
        try:
            cl.load_pretrained({str(folder)!r})
        except ValueError as error:
            print(error)
        """
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "needs about 6.1 TB of memory" in result.stdout, result.stdout
    assert "vocab_size=2000000000" in result.stdout


@needs_rlimit
def test_a_block_too_big_for_the_address_space_limit_is_refused():
    result = run_limited(
        """
        config = cl.BertConfig.base(vocab_size=2_000_000)  # about 6 GB of float32 weights
        try:
            cl.BertEncoderBlock(vocab_size=2_000_000, config=config)
        except ValueError as error:
            print(error)
        """
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "needs about 6.5 GB of memory" in result.stdout and "available" in result.stdout


def test_a_model_that_fits_is_not_refused():
    check_fits_in_memory(cl.BertConfig.base())  # 440 MB: every machine the course runs on


# ---- checkpoints: values, containers, duplicate names, NaN ---------------------------------


def _bin_folder(tmp_path, model, state) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(model.config.to_hf_dict()))
    torch.save(state, folder / "pytorch_model.bin")
    return folder


@pytest.mark.parametrize(
    ("edit", "rule"),
    [
        (lambda s: {**s, "encoder.layer.0.output.dense.bias": 3}, "holds a int, not a tensor"),
        (lambda s: {**s, "meta": [1, 2]}, "'meta' holds a list, not a tensor"),
        (lambda s: {"state_dict": s}, "'state_dict' holds a nested dict, not a tensor"),
        (lambda s: list(s.values()), "must hold a dict of tensor name -> tensor, got a list"),
        (lambda s: {**s, 5: torch.zeros(1)}, "tensor names must be str, got 5"),
    ],
)
def test_checkpoint_entries_that_are_not_tensors(tmp_path, model, edit, rule, no_model_built):
    folder = _bin_folder(tmp_path, model, edit(_state(model)))
    with pytest.raises(ValueError, match=rule):
        cl.load_pretrained(folder)


@pytest.mark.parametrize(
    ("extra", "rule"),
    [
        ("embeddings.LayerNorm.gamma", r".*gamma.* \(both embeddings.layer_norm.weight\)"),
        ("bert.embeddings.word_embeddings.weight", r".* \(both embeddings.word_embeddings.weight"),
    ],
)
def test_two_names_for_one_parameter_are_refused(tmp_path, model, extra, rule, no_model_built):
    state = _state(model)
    state[extra] = state[extra.removeprefix("bert.").replace("gamma", "weight")].clone()
    folder = _write_folder(tmp_path / "m", model, state)
    with pytest.raises(ValueError, match="two names for one parameter: " + rule):
        cl.load_pretrained(folder)


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        (float("nan"), "holds 1 NaN or infinite value"),
        (float("inf"), "holds 1 NaN or infinite value"),
        (-float("inf"), "holds 1 .* a model with them would give NaN for every input"),
    ],
)
def test_tensors_with_nan_or_inf_are_refused_by_name(tmp_path, model, value, rule):
    state = _state(model)
    state["encoder.layer.1.attention.self.key.weight"][3, 4] = value
    folder = _write_folder(tmp_path / "m", model, state)
    with pytest.raises(ValueError, match="'encoder.layer.1.attention.self.key.weight' " + rule):
        cl.load_pretrained(folder)


def test_integer_weights_are_refused(model):
    state = _state(model)
    state["pooler.dense.weight"] = torch.zeros(64, 64)  # set aside: not checked, not loaded
    state["embeddings.token_type_embeddings.weight"] = torch.zeros(2, 64, dtype=torch.long)
    with pytest.raises(ValueError, match="has dtype torch.int64; weights must be floating point"):
        cl.load_checkpoint_into(cl.BertModel(TINY), state)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_other_float_checkpoints_load_into_float32(tmp_path, model, dtype):
    state = {name: t.to(dtype) for name, t in _state(model).items()}
    loaded = cl.load_pretrained(_write_folder(tmp_path / "m", model, state))
    weight = loaded.embeddings.word_embeddings.weight
    assert weight.dtype == torch.float32
    assert torch.equal(weight, state["embeddings.word_embeddings.weight"].float())


def test_an_old_format_pytorch_bin_still_loads(tmp_path, model):
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(model.config.to_hf_dict()))
    torch.save(_state(model), folder / "pytorch_model.bin", _use_new_zipfile_serialization=False)
    loaded = cl.load_pretrained(folder)
    for (name, ours), theirs in zip(
        loaded.state_dict().items(), model.state_dict().values(), strict=True
    ):
        assert torch.equal(ours, theirs), name


def test_a_clean_tiny_folder_loads_exactly(folder, model):
    loaded = cl.load_pretrained(folder)
    ids = torch.tensor([[2, 5, 6, 3]])
    with torch.no_grad():
        assert torch.equal(loaded(ids).last_hidden_state, model(ids).last_hidden_state)


# ---- the shipped model: every file read is checked, every time -------------------------------


@pytest.fixture
def shipped(tmp_path, model, monkeypatch):
    """A tiny folder registered as the shipped "minilm", with the SHA-256 of each file."""
    folder = _write_folder(tmp_path / "shipped", model)
    hashes = {p.name: pretrained.sha256_of(p) for p in folder.iterdir()}
    monkeypatch.setitem(
        pretrained.SHIPPED_MODELS, "minilm", pretrained.ShippedModel(lambda: folder, hashes)
    )
    return folder


def _change_keeping_size_and_time(path: Path, old: bytes, new: bytes) -> None:
    stat = path.stat()
    data = path.read_bytes()
    assert len(old) == len(new) and old in data
    path.write_bytes(data.replace(old, new, 1))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


@pytest.mark.parametrize(
    ("name", "old", "new", "load"),
    [
        ("config.json", b'"hidden_act": "gelu"', b'"hidden_act": "relu"', cl.load_pretrained),
        ("model.safetensors", b"F32", b"F32", cl.load_pretrained),  # replaced below
        ("vocab.txt", b"hello", b"jello", cl.load_tokenizer),
        ("tokenizer_config.json", b"true", b"tru ", cl.load_tokenizer),
    ],
)
def test_a_shipped_file_changed_with_size_and_time_restored(shipped, name, old, new, load):
    load("minilm")  # the first read passes and would have filled a size+mtime cache
    path = shipped / name
    if name == "model.safetensors":  # flip one byte of the last tensor's data
        data = bytearray(path.read_bytes())
        old, new = bytes(data[-4:]), bytes(data[-4:-1]) + bytes([data[-1] ^ 1])
    _change_keeping_size_and_time(path, old, new)
    with pytest.raises(ValueError, match=f"{name} has SHA-256 .*not the published one"):
        load("minilm")
    with pytest.raises(ValueError, match="not the published one"):
        load(shipped)  # the same folder given by path is checked too


def test_a_file_without_a_published_hash_is_not_read_from_the_shipped_folder(shipped):
    (shipped / "model.safetensors").rename(shipped / "pytorch_model.bin")
    with pytest.raises(ValueError, match="pytorch_model.bin is not one of the shipped model's"):
        cl.load_pretrained("minilm")


def test_the_real_shipped_config_is_hash_checked(monkeypatch):
    monkeypatch.setitem(pretrained.MINILM_SETTINGS_SHA256, "config.json", "0" * 64)
    with pytest.raises(ValueError, match="config.json has SHA-256 .* expected 0000"):
        pretrained.load_config(pretrained.SHIPPED_MODELS["minilm"].locate())


# ---- inputs: layouts, devices, huge integers, strides ------------------------------------------

IDS = torch.tensor([[2, 5, 6, 3]])
NESTED = [torch.tensor([2, 5, 3]), torch.tensor([2, 3])]

INPUT_CASES = [
    (lambda: IDS.to_sparse(), TypeError, "input_ids has layout torch.sparse_coo; only dense"),
    (lambda: IDS.to_sparse_csr(), TypeError, "input_ids has layout torch.sparse_csr"),
    (lambda: torch.nested.nested_tensor(NESTED), TypeError, "input_ids is a nested tensor"),
    (lambda: torch.ones(1, 4, dtype=torch.long, device="meta"), ValueError, "'meta' device"),
    (lambda: [[2, 2**70, 3]], ValueError, "holds 1180591620717411303424, too large for a 64-bit"),
    (lambda: [[2, -(2**64), 3]], ValueError, "too large for a 64-bit integer"),
    (lambda: [[2, 5, 3], [2, 3]], ValueError, "row 0 has 3 values, row 1 has 2; rows of diff"),
    (lambda: [[2, 5], 3], ValueError, "mixes numbers and lists at the same level"),
    (lambda: np.array([[2, 5, 3]], dtype=object), TypeError, "NumPy array of dtype object"),
    (lambda: np.array([["a", "b"]]), TypeError, "must be an array of integers"),
    (lambda: np.array([[2, 2**63 + 5]], dtype=np.uint64), ValueError, "too large for a 64-bit"),
    (lambda: np.array([[2.0, 5.0]]), TypeError, "must have an integer dtype"),
]


@pytest.mark.parametrize(("make", "error", "rule"), INPUT_CASES)
def test_model_input_ids(model, make, error, rule):
    with pytest.raises(error, match=rule):
        model(make())


@pytest.mark.parametrize(
    ("mask", "error", "rule"),
    [
        (torch.ones(1, 4).to_sparse(), TypeError, "attention_mask has layout torch.sparse_coo"),
        (torch.ones(1, 4, device="meta"), ValueError, "attention_mask is on the 'meta' device"),
        (torch.ones(1, 4, dtype=torch.cfloat), TypeError, "must hold 0s and 1s .*complex64"),
        ([[1, 1, 2**70, 1]], TypeError, "attention_mask could not be read as a tensor"),
        ([[1, 1], [1]], ValueError, "attention_mask could not be read .* row 1 has 1"),
        (torch.tensor([[1.0, float("nan"), 1.0, 1.0]]), ValueError, "only 0 \\(padding\\) and 1"),
    ],
)
def test_model_masks(model, mask, error, rule):
    with pytest.raises(error, match=rule):
        model(IDS, attention_mask=mask)


def test_sparse_segment_ids(model):
    with pytest.raises(TypeError, match="token_type_ids has layout torch.sparse_coo"):
        model(IDS, token_type_ids=torch.zeros_like(IDS).to_sparse())


def test_numpy_arrays_with_negative_strides_give_the_right_result(model, block):
    forward = np.array([[2, 5, 6, 7, 3]])
    backward = forward[:, ::-1]  # a view with a negative stride
    assert backward.strides[1] < 0
    with torch.no_grad():
        expected = model(torch.tensor([[3, 7, 6, 5, 2]])).last_hidden_state
        assert torch.equal(model(backward).last_hidden_state, expected)
        assert torch.equal(block(forward[0, ::-1]), expected[0, 0])
        mask = np.array([0, 1, 1, 1, 1])[::-1]
        assert block(forward[0], mask).shape == (64,)


def test_block_input_rules_come_from_one_place(block):
    with pytest.raises(ValueError, match=f"minimum of {validation.MIN_BLOCK_LENGTH} tokens"):
        block([2, 3])
    with pytest.raises(TypeError, match="input_ids has layout torch.sparse_coo"):
        block(torch.tensor([2, 5, 3]).to_sparse())


def test_checked_inputs_for_a_larger_vocabulary_are_checked_again(model):
    wider = cl.BertConfig.tiny(vocab_size=200)
    inputs = check_inputs(torch.tensor([[2, 150, 3]]), config=wider)
    assert isinstance(inputs, CheckedInputs) and inputs.attention_mask is None
    with pytest.raises(ValueError, match="token ID 150 is not below the vocabulary size 100"):
        model(inputs)


def test_checked_inputs_of_the_model_are_checked_again_by_the_block(block):
    inputs = check_inputs([[2, 3]], config=TINY)  # the model takes 2 tokens, the block 3 or more
    with pytest.raises(ValueError, match="input length 2 is below the minimum of 3 tokens"):
        block(inputs)


def test_a_single_sequence_stays_single_when_checked_again(block):
    wider = cl.BertConfig.tiny(vocab_size=200)
    inputs = check_inputs([2, 5, 3], config=wider, min_length=3, allow_single=True)
    assert inputs.single and inputs.input_ids.shape == (1, 3)
    with torch.no_grad():
        assert torch.equal(block(inputs), block([2, 5, 3]))  # checked again, still one vector


def test_checked_inputs_are_frozen():
    inputs = check_inputs([[2, 5, 3]], [[1, 1, 0]], config=TINY)
    assert inputs.attention_mask.dtype == torch.bool and inputs.token_type_ids.dtype == torch.long
    with pytest.raises(AttributeError):
        inputs.single = True


def test_pooling_refuses_a_sparse_sequence():
    with pytest.raises(TypeError, match="the sequence to pool has layout torch.sparse_coo"):
        cl.global_average_pooling(torch.ones(3, 4).to_sparse())


# ---- tokenizer: its files and its cache ------------------------------------------------------


def test_vocabulary_that_is_not_utf8_names_the_file(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_bytes("\n".join(VOCAB).encode() + b"\ncaf\xe9\n")
    with pytest.raises(ValueError, match="vocabulary file .*vocab.txt is not valid UTF-8"):
        cl.WordPieceTokenizer(path)


@pytest.mark.parametrize(
    ("content", "error", "rule"),
    [
        (b"{do_lower_case: true}", ValueError, "tokenizer_config.json is not valid JSON"),
        (b'{"do_lower_case": "f\xe4lse"}', ValueError, "tokenizer_config.json is not valid UTF-8"),
        (b"[true]", TypeError, "tokenizer_config.json must hold a JSON object"),
        (b'{"do_lower_case": "false"}', TypeError, "do_lower_case must be true or false"),
    ],
)
def test_tokenizer_config_files(folder, content, error, rule):
    (folder / "tokenizer_config.json").write_bytes(content)
    with pytest.raises(error, match=rule):
        cl.load_tokenizer(folder)


def test_words_too_long_for_wordpiece_are_not_cached():
    tok = cl.WordPieceTokenizer.from_vocab(VOCAB)
    assert tok.tokenize("hello " + "x" * 500) == ["hello", "[UNK]"]
    assert max(len(word) for word in tok._cache) <= tok.max_chars_per_word


@needs_rlimit
def test_tokenizer_cache_is_bounded_on_a_stream_of_long_distinct_texts():
    result = run_limited(
        """
        from course_lib import tokenizer
        tokenizer.CACHE_MAX_CHARS = 200_000  # smaller, so the stream below is quick to run
        vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a", "b"] + [f"##{c}" for c in "ab"]
        tok = cl.WordPieceTokenizer.from_vocab(vocab, max_chars_per_word=10**6)
        for i in range(200):  # 200 distinct words of 5,000 characters: 1 M characters
            word = format(i, "b").replace("0", "a").replace("1", "b")
            tok.tokenize(word.ljust(5_000, "a"))
        chars = sum(len(word) for word in tok._cache)
        print(chars <= tokenizer.CACHE_MAX_CHARS, chars == tok._cache_chars)
        """,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["True", "True"]


# ---- one place for the shared rules and constants ------------------------------------------


def test_shared_constants_are_defined_once():
    assert cl.BertConfig().vocab_size == validation.SHIPPED_VOCAB_SIZE
    assert cl.BertConfig().max_position_embeddings == validation.MAX_POSITIONS
    assert cl.WordPieceTokenizer.from_vocab(VOCAB).model_max_length == validation.MAX_POSITIONS


def test_copied_shipped_folder_is_not_trusted_by_hash(tmp_path, minilm_folder):
    """A copy elsewhere is a user's folder: it loads (its files are checked as any folder's)."""
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("config.json", "vocab.txt"):
        shutil.copy(minilm_folder / name, copy / name)
    assert pretrained.published_hashes(copy) is None
    hashes = pretrained.published_hashes(minilm_folder)
    assert set(hashes) == {"config.json", "model.safetensors", "tokenizer_config.json", "vocab.txt"}
