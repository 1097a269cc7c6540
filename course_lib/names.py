"""The one name table: Hugging Face checkpoint names <-> ours, for weights and for config.json.

A checkpoint name is a stem and a kind: ``encoder.layer.3.attention.self.query`` + ``.weight``.
``NAMES`` maps stems (``{i}`` stands for a layer's index); the kind is kept. Checkpoints may put
``bert.`` before the encoder's names and call LayerNorm's weight and bias ``gamma`` and ``beta``
(old TensorFlow ones): ``modern_name`` undoes both, the one place that rule lives.
"""

from __future__ import annotations

import re

# checkpoint stem -> our stem. The encoder's (what cl.BertModel holds), then the heads' (what a
# head model holds beside its encoder ``bert``). A new head: its entries and its prefix below.
NAMES = {
    "embeddings.word_embeddings": "embeddings.word_embeddings",
    "embeddings.position_embeddings": "embeddings.position_embeddings",
    "embeddings.token_type_embeddings": "embeddings.token_type_embeddings",
    "embeddings.LayerNorm": "embeddings.layer_norm",
    "encoder.layer.{i}.attention.self.query": "encoder.layers.{i}.attention.query",
    "encoder.layer.{i}.attention.self.key": "encoder.layers.{i}.attention.key",
    "encoder.layer.{i}.attention.self.value": "encoder.layers.{i}.attention.value",
    "encoder.layer.{i}.attention.output.dense": "encoder.layers.{i}.attention.output",
    "encoder.layer.{i}.attention.output.LayerNorm": "encoder.layers.{i}.attention_norm",
    "encoder.layer.{i}.intermediate.dense": "encoder.layers.{i}.feed_forward.intermediate",
    "encoder.layer.{i}.output.dense": "encoder.layers.{i}.feed_forward.output",
    "encoder.layer.{i}.output.LayerNorm": "encoder.layers.{i}.output_norm",
    "pooler.dense": "pooler.dense",
    # heads
    "cls.predictions.transform.dense": "lm_head.dense",
    "cls.predictions.transform.LayerNorm": "lm_head.layer_norm",
    "cls.predictions": "lm_head",  # cls.predictions.bias: one number per vocabulary word
    "cls.seq_relationship": "nsp_head",
    "classifier": "classifier",  # cl.BertForSequenceClassification, ...TokenClassification
    "qa_outputs": "qa_outputs"}  # cl.BertForQuestionAnswering
# checkpoint names of heads; the encoder's loader sets them aside
HEAD_PREFIXES = ("cls.", "classifier.", "qa_outputs.")
KINDS = ("weight", "bias")
_OURS = {ours: theirs for theirs, ours in NAMES.items()}
_LAYER = re.compile(r"^(encoder\.layers?)\.(\d+)\.")  # theirs: encoder.layer.N, ours: layers.N

# config.json (Hugging Face) key -> our BertConfig field.
CONFIG_NAMES = {
    "vocab_size": "vocab_size", "hidden_size": "hidden_size", "num_hidden_layers": "num_layers",
    "num_attention_heads": "num_heads", "intermediate_size": "intermediate_size",
    "max_position_embeddings": "max_position_embeddings", "type_vocab_size": "type_vocab_size",
    "hidden_act": "hidden_act", "layer_norm_eps": "layer_norm_eps",
    "hidden_dropout_prob": "hidden_dropout", "attention_probs_dropout_prob": "attention_dropout",
    "initializer_range": "initializer_range", "pad_token_id": "pad_token_id"}


def modern_name(name: str) -> str:
    """Drop a leading ``bert.``; ``.gamma`` / ``.beta`` become ``.weight`` / ``.bias``."""
    name = name.removeprefix("bert.")
    return re.sub(r"\.gamma$", ".weight", re.sub(r"\.beta$", ".bias", name))


def _look_up(name: str, table: dict[str, str]) -> str | None:
    """``table``'s name for ``stem.kind``, the layer index carried over; None if it has none."""
    stem, _, kind = name.rpartition(".")
    if kind not in KINDS:
        return None
    index = None
    if match := _LAYER.match(stem):
        index = match.group(2)
        stem = f"{match.group(1)}.{{i}}.{stem[match.end():]}"
    mapped = table.get(stem)
    if mapped is None:
        return None
    return f"{mapped.format(i=index) if index is not None else mapped}.{kind}"


def checkpoint_name_to_ours(name: str) -> str | None:
    """Our ``cl.BertModel`` parameter name for a checkpoint tensor name, or None if it has none
    (``embeddings.position_ids``, the heads' ``cls.*``, anything unknown)."""
    name = modern_name(name)
    return None if name.startswith(HEAD_PREFIXES) else _look_up(name, NAMES)


def head_model_name_to_ours(name: str) -> str | None:
    """Our name in a head model (the encoder under ``bert.``, the heads beside it), or None."""
    name = modern_name(name)
    ours = _look_up(name, NAMES)
    return ours if ours is None or name.startswith(HEAD_PREFIXES) else f"bert.{ours}"


def ours_to_checkpoint_name(name: str) -> str:
    """The checkpoint name (Hugging Face layout, no ``bert.``) of one of our parameter names."""
    theirs = _look_up(name, _OURS)
    if theirs is None:
        raise KeyError(f"{name} has no checkpoint name: add its module to course_lib.names.NAMES")
    return theirs
