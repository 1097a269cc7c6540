"""Loading pretrained weights and tokenizers from every kind of source, offline."""

from __future__ import annotations

import shutil

import pytest
import torch

import course_lib as cl
from course_lib import pretrained


def test_shipped_files_match_published_hashes(minilm_folder):
    for name, expected in pretrained.SHIPPED_MODELS["minilm"].sha256.items():
        assert pretrained.sha256_of(minilm_folder / name) == expected


def test_shipped_model_sizes():
    model = cl.load_pretrained("minilm")
    config = model.config
    assert (config.num_layers, config.num_heads, config.hidden_size) == (6, 12, 384)
    assert config.vocab_size == 30522 and not model.training


def test_folder_with_bert_prefix_and_pytorch_bin(tmp_path, minilm_folder):
    """A pre-training checkpoint: `bert.` prefixes, old gamma/beta names, heads set aside."""
    state = cl.read_checkpoint(minilm_folder / "model.safetensors")
    renamed = {}
    for name, tensor in state.items():
        name = name.replace("LayerNorm.weight", "LayerNorm.gamma").replace(
            "LayerNorm.bias", "LayerNorm.beta"
        )
        renamed["bert." + name] = tensor
    renamed["cls.predictions.bias"] = torch.zeros(30522)
    renamed["cls.seq_relationship.weight"] = torch.zeros(2, 384)
    torch.save(renamed, tmp_path / "pytorch_model.bin")
    shutil.copy(minilm_folder / "config.json", tmp_path / "config.json")
    model = cl.BertModel(
        cl.BertConfig.from_hf_dict(__import__("json").loads((tmp_path / "config.json").read_text()))
    )
    report = cl.load_checkpoint_into(model, cl.read_checkpoint(tmp_path / "pytorch_model.bin"))
    assert (
        "cls.predictions.bias" in report.set_aside
        and "bert.pooler.dense.weight" in report.set_aside
    )
    reference = cl.load_pretrained("minilm")
    loaded = cl.load_pretrained(tmp_path)
    for (name, a), b in zip(
        reference.state_dict().items(), loaded.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), name
    assert torch.equal(
        model.state_dict()["embeddings.layer_norm.weight"],
        reference.state_dict()["embeddings.layer_norm.weight"],
    )


def test_pooler_loads_when_asked(minilm_folder):
    model = cl.load_pretrained(minilm_folder, add_pooler=True)
    state = cl.read_checkpoint(minilm_folder / "model.safetensors")
    assert torch.equal(model.pooler.dense.weight, state["pooler.dense.weight"])


def test_pickled_code_is_refused(tmp_path, minilm_folder):
    """weights_only loading: a checkpoint that would run code is refused, not executed."""

    class Payload:
        def __reduce__(self):
            return (print, ("this must never run",))

    torch.save({"embeddings.word_embeddings.weight": Payload()}, tmp_path / "pytorch_model.bin")
    shutil.copy(minilm_folder / "config.json", tmp_path / "config.json")
    with pytest.raises(ValueError, match="could not read weight file"):
        cl.load_pretrained(tmp_path)


def test_tokenizer_sources(minilm_folder):
    by_name = cl.load_tokenizer("minilm")
    by_folder = cl.load_tokenizer(minilm_folder)
    assert by_name.vocab_size == by_folder.vocab_size == 30522
    assert by_name.tokenize("Hello, world!") == ["hello", ",", "world", "!"]


def test_cased_tokenizer_from_config(tmp_path, minilm_folder):
    shutil.copy(minilm_folder / "vocab.txt", tmp_path / "vocab.txt")
    (tmp_path / "tokenizer_config.json").write_text('{"do_lower_case": false}')
    tok = cl.load_tokenizer(tmp_path)
    assert tok.tokenize("Hello")[0] != "hello"


def test_block_from_folder(random_base_folder):
    block = cl.BertEncoderBlock.from_pretrained(
        random_base_folder, output="sequence", pooling="max"
    )
    with torch.no_grad():
        assert block(torch.tensor([101, 2023, 2003, 102])).shape == (768,)


def test_cached_folder_needs_config_vocab_and_weights(tmp_path, monkeypatch):
    """The cache-only lookup the notebooks and the explorer share: never downloads."""
    import huggingface_hub

    from course_lib.pretrained import cached_folder

    present = {"config.json", "vocab.txt"}
    monkeypatch.setattr(huggingface_hub, "try_to_load_from_cache",
                        lambda repo, name: str(tmp_path / name) if name in present else None)
    assert cached_folder("bert-base-uncased") is None  # no weights cached
    present.add("pytorch_model.bin")
    assert cached_folder("bert-base-uncased") == tmp_path
