"""The numbers that define a BERT model, with named presets."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class BertConfig:
    """Sizes of a BERT encoder. ``BertConfig.base()`` is the model of the BERT paper."""

    vocab_size: int = 30522
    hidden_size: int = 768
    num_layers: int = 12
    num_heads: int = 12
    intermediate_size: int = 3072
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    hidden_act: str = "gelu"
    layer_norm_eps: float = 1e-12
    hidden_dropout: float = 0.1
    attention_dropout: float = 0.1
    initializer_range: float = 0.02
    pad_token_id: int = 0

    def __post_init__(self) -> None:
        for name in (
            "vocab_size",
            "hidden_size",
            "num_layers",
            "num_heads",
            "intermediate_size",
            "max_position_embeddings",
            "type_vocab_size",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.hidden_size % self.num_heads:
            raise ValueError(
                f"hidden_size ({self.hidden_size}) must be divisible by num_heads "
                f"({self.num_heads}): each head gets hidden_size / num_heads dimensions"
            )
        if self.hidden_act not in ("gelu", "gelu_new", "relu"):
            raise ValueError(
                f"hidden_act must be 'gelu', 'gelu_new' or 'relu', got {self.hidden_act!r}"
            )
        if not 0 <= self.pad_token_id < self.vocab_size:
            raise ValueError(
                f"pad_token_id {self.pad_token_id} must be below vocab_size {self.vocab_size}"
            )

    @property
    def head_size(self) -> int:
        """Width of one attention head: 768 / 12 = 64 in BERT-base."""
        return self.hidden_size // self.num_heads

    @classmethod
    def base(cls, **overrides) -> BertConfig:
        """BERT-base: 12 layers, 12 heads, 768 wide, about 110M parameters."""
        return cls(**overrides)

    @classmethod
    def tiny(cls, **overrides) -> BertConfig:
        """A 2-layer, 4-head, 64-wide model for exercises and fast tests."""
        sizes = dict(hidden_size=64, num_layers=2, num_heads=4, intermediate_size=256)
        return cls(**{**sizes, **overrides})

    @classmethod
    def from_hf_dict(cls, hf: dict) -> BertConfig:
        """Read a Hugging Face ``config.json`` dictionary (only the BERT fields are used)."""
        names = {
            "vocab_size": "vocab_size",
            "hidden_size": "hidden_size",
            "num_hidden_layers": "num_layers",
            "num_attention_heads": "num_heads",
            "intermediate_size": "intermediate_size",
            "max_position_embeddings": "max_position_embeddings",
            "type_vocab_size": "type_vocab_size",
            "hidden_act": "hidden_act",
            "layer_norm_eps": "layer_norm_eps",
            "hidden_dropout_prob": "hidden_dropout",
            "attention_probs_dropout_prob": "attention_dropout",
            "initializer_range": "initializer_range",
            "pad_token_id": "pad_token_id",
        }
        model_type = hf.get("model_type", "bert")
        if model_type != "bert":
            raise ValueError(
                f"config.json describes a {model_type!r} model; only 'bert' is supported"
            )
        positions = hf.get("position_embedding_type", "absolute")
        if positions != "absolute":
            raise ValueError(
                f"config.json asks for {positions!r} position embeddings; only BERT's "
                "'absolute' (learned, one vector per position) are supported"
            )
        return cls(**{ours: hf[theirs] for theirs, ours in names.items() if theirs in hf})

    def to_hf_dict(self) -> dict:
        """The same sizes under Hugging Face's ``config.json`` names."""
        ours = asdict(self)
        return {
            "model_type": "bert",
            "vocab_size": ours["vocab_size"],
            "hidden_size": ours["hidden_size"],
            "num_hidden_layers": ours["num_layers"],
            "num_attention_heads": ours["num_heads"],
            "intermediate_size": ours["intermediate_size"],
            "max_position_embeddings": ours["max_position_embeddings"],
            "type_vocab_size": ours["type_vocab_size"],
            "hidden_act": ours["hidden_act"],
            "layer_norm_eps": ours["layer_norm_eps"],
            "hidden_dropout_prob": ours["hidden_dropout"],
            "attention_probs_dropout_prob": ours["attention_dropout"],
            "initializer_range": ours["initializer_range"],
            "pad_token_id": ours["pad_token_id"],
        }


def count_bert_parameters(config: BertConfig, with_pooler: bool = False) -> dict[str, int]:
    """Parameter count of each part, from the sizes alone (no model needed)."""
    h, i, n = config.hidden_size, config.intermediate_size, config.num_layers
    layer_norm = 2 * h
    parts = {
        "embeddings": (config.vocab_size + config.max_position_embeddings + config.type_vocab_size)
        * h
        + layer_norm,
        "attention (Q, K, V, output)": n * 4 * (h * h + h),
        "feed-forward": n * (h * i + i + i * h + h),
        "layer norms in layers": n * 2 * layer_norm,
    }
    if with_pooler:
        parts["pooler"] = h * h + h
    parts["total"] = sum(parts.values())
    return parts


__all__ = ["BertConfig", "count_bert_parameters"]
