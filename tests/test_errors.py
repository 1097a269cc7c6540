"""Every bad input gets a ValueError/TypeError whose message names the rule it broke."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

import course_lib as cl


@pytest.fixture(scope="module")
def block():
    torch.manual_seed(0)
    return cl.BertEncoderBlock(vocab_size=100, config=cl.BertConfig.tiny(vocab_size=100)).eval()


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return cl.BertModel(cl.BertConfig.tiny(vocab_size=100)).eval()


@pytest.mark.parametrize(
    ("ids", "error", "rule"),
    [
        (torch.tensor([101, 102]), ValueError, "input length 2 is below the minimum of 3 tokens"),
        (
            torch.ones(513, dtype=torch.long),
            ValueError,
            "input length 513 is above the maximum of 512 tokens",
        ),
        (torch.tensor([1, -4, 2]), ValueError, "must not be negative, got -4"),
        (
            torch.tensor([1, 100, 2]),
            ValueError,
            "token ID 100 is not below the vocabulary size 100",
        ),
        (torch.tensor([1.0, 2.0, 3.0]), TypeError, "integer dtype"),
        (torch.tensor([True, False, True]), TypeError, "integer dtype"),
        ([1.5, 2, 3], TypeError, "must hold integers only, got 1.5"),
        ("hello world", TypeError, "tokenizer first"),
        ({"ids": [1, 2, 3]}, TypeError, "must be a torch.Tensor"),
        (None, TypeError, "must be a torch.Tensor"),
        (torch.ones(1, 2, 5, dtype=torch.long), ValueError, "1-dimensional vector"),
        (torch.tensor(5), ValueError, "1-dimensional vector"),
        (torch.ones(0, 5, dtype=torch.long), ValueError, "empty batch"),
        ([], ValueError, "input length 0 is below the minimum of 3 tokens"),
        ([[1, 2, 3], [1, 2]], ValueError, "rows of different lengths need padding"),
        (np.array([1.0, 2.0, 3.0]), TypeError, "integer dtype"),
    ],
)
def test_block_rejects_bad_ids(block, ids, error, rule):
    with pytest.raises(error, match=rule):
        block(ids)


def test_block_accepts_lists_and_numpy(block):
    from_list = block([1, 5, 2])
    from_numpy = block(np.array([1, 5, 2]))
    assert torch.equal(from_list, from_numpy) and from_list.shape == (64,)


@pytest.mark.parametrize(
    ("kwargs", "error", "rule"),
    [
        ({"output": "pooled"}, ValueError, "output must be 'cls' \\(default\\) or 'sequence'"),
        ({"output": 3}, ValueError, "output must be"),
        (
            {"output": "sequence", "pooling": "min"},
            ValueError,
            "may only be followed by global average or global max pooling",
        ),
        ({"output": "cls", "pooling": "average"}, ValueError, "pooling only follows"),
        (
            {"vocab_size": 50, "config": cl.BertConfig.tiny(vocab_size=100)},
            ValueError,
            "vocab_size 50 differs",
        ),
    ],
)
def test_block_rejects_bad_settings(kwargs, error, rule):
    with pytest.raises(error, match=rule):
        cl.BertEncoderBlock(**kwargs)


@pytest.mark.parametrize(
    ("mask", "error", "rule"),
    [
        (
            torch.ones(2, 4),
            ValueError,
            "attention_mask shape \\(2, 4\\) must match input_ids shape",
        ),
        (torch.tensor([[1, 1, 2, 0, 0]]), ValueError, "only 0 \\(padding\\) and 1"),
        (torch.zeros(1, 5, dtype=torch.long), ValueError, "at least one real token"),
        ("mask", TypeError, "attention_mask must be a torch.Tensor"),
    ],
)
def test_model_rejects_bad_masks(model, mask, error, rule):
    with pytest.raises(error, match=rule):
        model(torch.tensor([[1, 5, 6, 7, 2]]), attention_mask=mask)


@pytest.mark.parametrize(
    ("segments", "error", "rule"),
    [
        (
            torch.tensor([[0, 0, 1, 2, 1]]),
            ValueError,
            "segment ID 2 is out of range: token_type_ids must be in \\[0, 2\\)",
        ),
        (torch.tensor([[0, 0, -1, 0, 0]]), ValueError, "segment ID -1 is out of range"),
        (
            torch.zeros(1, 4, dtype=torch.long),
            ValueError,
            "token_type_ids shape \\(1, 4\\) must match",
        ),
        (torch.zeros(1, 5), TypeError, "token_type_ids must have an integer dtype"),
    ],
)
def test_model_rejects_bad_segments(model, segments, error, rule):
    with pytest.raises(error, match=rule):
        model(torch.tensor([[1, 5, 6, 7, 2]]), token_type_ids=segments)


def test_block_rejects_a_mask_that_is_not_numbers(block):
    with pytest.raises(TypeError, match="attention_mask must be a torch.Tensor, got str"):
        block(torch.tensor([1, 5, 2]), attention_mask="abc")
    with pytest.raises(TypeError, match="attention_mask must be a torch.Tensor, got str"):
        cl.global_average_pooling(torch.zeros(3, 4), "abc")


def test_model_names_its_rank_rule(model):
    with pytest.raises(ValueError, match="input_ids must have shape \\(batch, seq\\)"):
        model(torch.tensor([1, 5, 2]))


def test_model_rejects_ids_above_its_positions():
    model = cl.BertModel(cl.BertConfig.tiny(vocab_size=100, max_position_embeddings=16))
    with pytest.raises(ValueError, match="input length 17 is above the maximum of 16 tokens"):
        model(torch.ones(1, 17, dtype=torch.long))


@pytest.mark.parametrize(
    ("kwargs", "rule"),
    [
        ({"hidden_size": 100, "num_heads": 12}, "must be divisible by num_heads"),
        ({"num_layers": 0}, "num_layers must be a positive integer"),
        ({"hidden_act": "swish"}, "hidden_act must be"),
        ({"vocab_size": 10, "pad_token_id": 10}, "pad_token_id 10 must be below vocab_size 10"),
    ],
)
def test_config_rejects_impossible_sizes(kwargs, rule):
    with pytest.raises(ValueError, match=rule):
        cl.BertConfig(**kwargs)


def test_pooling_rejects_bad_shapes():
    with pytest.raises(ValueError, match="pooling expects shape"):
        cl.global_average_pooling(torch.zeros(4))
    with pytest.raises(TypeError, match="float tensor"):
        cl.global_max_pooling(torch.zeros(3, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="attention_mask shape"):
        cl.global_max_pooling(torch.zeros(2, 3, 4), torch.ones(2, 4))


# ---- loading weights -------------------------------------------------------------------------


def _copy_minilm(minilm_folder, tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    for name in ("config.json", "vocab.txt", "model.safetensors", "tokenizer_config.json"):
        shutil.copy(minilm_folder / name, folder / name)
    return folder


def test_missing_folder_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="folder not found: .*nowhere"):
        cl.load_pretrained(tmp_path / "nowhere")


def test_folder_without_weights(tmp_path, minilm_folder):
    shutil.copy(minilm_folder / "config.json", tmp_path / "config.json")
    with pytest.raises(FileNotFoundError, match="no model.safetensors or pytorch_model.bin"):
        cl.load_pretrained(tmp_path)


def test_folder_without_config(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="no config.json"):
        cl.load_pretrained(tmp_path)


def test_corrupt_weight_file(tmp_path, minilm_folder):
    folder = _copy_minilm(minilm_folder, tmp_path)
    data = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(data[: len(data) // 3])
    with pytest.raises(ValueError, match="could not read weight file .*corrupt"):
        cl.load_pretrained(folder)


def test_non_bert_config(tmp_path, minilm_folder):
    folder = _copy_minilm(minilm_folder, tmp_path)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "model_type": "gpt2"}))
    with pytest.raises(ValueError, match="describes a 'gpt2' model"):
        cl.load_pretrained(folder)


def test_relative_positions_are_refused(tmp_path, minilm_folder):
    folder = _copy_minilm(minilm_folder, tmp_path)
    config = json.loads((folder / "config.json").read_text())
    config["position_embedding_type"] = "relative_key"
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="'relative_key' position embeddings; only BERT's"):
        cl.load_pretrained(folder)


def test_sizes_that_do_not_fit_are_listed(tmp_path, minilm_folder):
    folder = _copy_minilm(minilm_folder, tmp_path)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "hidden_size": 768}))
    with pytest.raises(ValueError, match="sizes that do not fit the config") as info:
        cl.load_pretrained(folder)
    message = str(info.value)
    assert "embeddings.LayerNorm.bias: checkpoint (384,), model (768,)" in message
    assert "and 92 more (95 in all)" in message  # the first few, then a count
    assert "missing from the checkpoint" not in message  # mis-shaped is not also missing


def test_missing_and_unexpected_tensors_are_listed(tmp_path, minilm_folder):
    from safetensors.torch import load_file, save_file

    folder = _copy_minilm(minilm_folder, tmp_path)
    state = load_file(str(folder / "model.safetensors"))
    del state["encoder.layer.3.output.dense.bias"]
    state["encoder.layer.0.attention.self.rotary.weight"] = torch.zeros(2)
    save_file(state, str(folder / "model.safetensors"))
    with pytest.raises(ValueError) as info:
        cl.load_pretrained(folder)
    message = str(info.value)
    assert "missing from the checkpoint: encoder.layers.3.feed_forward.output.bias" in message
    assert "unexpected in the checkpoint: encoder.layer.0.attention.self.rotary.weight" in message


def test_wrong_hash_of_shipped_model_is_refused(monkeypatch, minilm_folder):
    from course_lib import pretrained

    monkeypatch.setitem(pretrained.MINILM_SHA256, "model.safetensors", "0" * 64)
    with pytest.raises(ValueError, match="SHA-256 .* expected 0000.*corrupt or not the published"):
        cl.load_pretrained("minilm")


def test_hub_model_offline_says_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="not in the local Hugging Face cache.*download"):
        cl.load_pretrained("bert-base-uncased-not-cached")


def test_aliases_name_the_hub_model_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    try:
        cl.load_pretrained("multilingual")
    except FileNotFoundError as error:
        assert "bert-base-multilingual-cased" in str(error)
    # else: the user has it cached, which is fine


def test_empty_source():
    with pytest.raises(ValueError, match="source is empty"):
        cl.load_pretrained("  ")


def test_source_of_wrong_type():
    with pytest.raises(TypeError, match="source must be a folder path or a model name"):
        cl.load_pretrained(42)
