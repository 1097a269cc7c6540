"""The numbers that define a BERT model, with named presets; every field is checked when built."""

from __future__ import annotations

import math
import numbers
import os
from dataclasses import asdict, dataclass

from .names import CONFIG_NAMES
from .validation import (
    MAX_POSITIONS,
    SHIPPED_VOCAB_SIZE,
    invalid,
    number_of_kind,
    real_number,
    shown,
)

try:
    import resource  # address-space limits; Unix only
except ImportError:  # Windows
    resource = None

# Field -> what it must be. Every field is checked when a config is built (or read from a file).
POSITIVE_INTS = (
    "vocab_size", "hidden_size", "num_layers", "num_heads", "intermediate_size",
    "max_position_embeddings", "type_vocab_size")
PROBABILITIES = ("hidden_dropout", "attention_dropout")  # in [0, 1): 1 would drop everything
ACTIVATIONS = ("gelu", "gelu_new", "relu")
BYTES_PER_PARAMETER = 4  # float32
BYTES_PER_LAYER_OBJECTS = 64 * 1024  # Python objects of one layer's modules, roughly


@dataclass(frozen=True)
class BertConfig:
    """Sizes of a BERT encoder; ``BertConfig.base()`` is the BERT paper's. Every field is checked
    when built: an error names the field, the value and the rule."""

    vocab_size: int = SHIPPED_VOCAB_SIZE
    hidden_size: int = 768
    num_layers: int = 12
    num_heads: int = 12
    intermediate_size: int = 3072
    max_position_embeddings: int = MAX_POSITIONS
    type_vocab_size: int = 2
    hidden_act: str = "gelu"
    layer_norm_eps: float = 1e-12
    hidden_dropout: float = 0.1
    attention_dropout: float = 0.1
    initializer_range: float = 0.02
    pad_token_id: int = 0

    def __post_init__(self) -> None:
        for name in POSITIVE_INTS:
            self._set(name, _positive_int(name, getattr(self, name)))
        if self.hidden_size % self.num_heads:
            raise invalid(
                ValueError,
                "hidden_size",
                f"hidden_size ({self.hidden_size}) must be divisible by num_heads "
                f"({self.num_heads}): each head gets hidden_size / num_heads dimensions")
        if not isinstance(self.hidden_act, str) or self.hidden_act not in ACTIVATIONS:
            kind = TypeError if not isinstance(self.hidden_act, str) else ValueError
            raise invalid(
                kind, "hidden_act",
                f"hidden_act must be 'gelu', 'gelu_new' or 'relu', got {shown(self.hidden_act)}")
        eps = _finite_number("layer_norm_eps", self.layer_norm_eps)
        if eps <= 0:
            raise invalid(
                ValueError,
                "layer_norm_eps",
                f"layer_norm_eps must be positive (it keeps LayerNorm from dividing by zero), "
                f"got {eps!r}")
        self._set("layer_norm_eps", eps)
        for name in PROBABILITIES:
            p = _finite_number(name, getattr(self, name))
            if not 0 <= p < 1:
                raise invalid(
                    ValueError, name, f"{name} must be a probability in [0, 1), got {p!r}")
            self._set(name, p)
        std = _finite_number("initializer_range", self.initializer_range)
        if std < 0:
            raise invalid(
                ValueError, "initializer_range",
                f"initializer_range (a standard deviation) must not be negative, got {std!r}")
        self._set("initializer_range", std)
        pad = _integer("pad_token_id", self.pad_token_id)
        if not 0 <= pad < self.vocab_size:
            raise invalid(
                ValueError,
                "pad_token_id",
                f"pad_token_id {pad} must be below vocab_size {self.vocab_size} "
                "(token IDs are in [0, vocab_size))")
        self._set("pad_token_id", pad)

    def _set(self, name: str, value) -> None:
        object.__setattr__(self, name, value)  # frozen: store the checked, normalized value

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
        """Read a Hugging Face ``config.json`` dictionary (only its BERT fields); an error names
        both keys, e.g. "num_attention_heads (num_heads)"."""
        if not isinstance(hf, dict):
            raise TypeError(f"a config must be a JSON object of settings, got {type(hf).__name__}")
        model_type = hf.get("model_type", "bert")
        if model_type != "bert":
            raise ValueError(
                f"config.json describes a {shown(model_type)} model; only 'bert' is supported")
        positions = hf.get("position_embedding_type", "absolute")
        if positions != "absolute":
            raise ValueError(
                f"config.json asks for {shown(positions)} position embeddings; only BERT's "
                "'absolute' (learned, one vector per position) are supported")
        values = {ours: hf[theirs] for theirs, ours in CONFIG_NAMES.items() if theirs in hf}
        try:
            return cls(**values)
        except (TypeError, ValueError) as error:
            field = getattr(error, "field", None)
            theirs = next((k for k, v in CONFIG_NAMES.items() if v == field), None)
            if theirs is None or theirs == field:
                raise
            raise invalid(type(error), field, f"{theirs} ({field}): {error}") from None

    def to_hf_dict(self) -> dict:
        """The same sizes under Hugging Face's ``config.json`` names."""
        ours = asdict(self)
        return {"model_type": "bert",
                **{theirs: ours[mine] for theirs, mine in CONFIG_NAMES.items()}}


def _integer(name: str, value) -> int:
    """An int (a NumPy integer too), never a bool or a float such as 768.0."""
    return int(number_of_kind(name, value, numbers.Integral, "an integer"))


def _positive_int(name: str, value) -> int:
    value = _integer(name, value)
    if value < 1:
        raise invalid(ValueError, name, f"{name} must be a positive integer, got {value!r}")
    return value


def _finite_number(name: str, value) -> float:
    """A real number (int or float, not bool) that is neither NaN nor infinite."""
    return real_number(name, value, low=-math.inf)


def count_bert_parameters(config: BertConfig, with_pooler: bool = False) -> dict[str, int]:
    """Parameter count of each part, from the sizes alone (no model needed)."""
    h, i, n = config.hidden_size, config.intermediate_size, config.num_layers
    layer_norm = 2 * h
    parts = {
        "embeddings": (config.vocab_size + config.max_position_embeddings + config.type_vocab_size)
        * h + layer_norm, "attention (Q, K, V, output)": n * 4 * (h * h + h),
        "feed-forward": n * (h * i + i + i * h + h), "layer norms in layers": n * 2 * layer_norm}
    if with_pooler:
        parts["pooler"] = h * h + h
    parts["total"] = sum(parts.values())
    return parts


def estimated_model_bytes(config: BertConfig, with_pooler: bool = False) -> int:
    """Memory a BertModel of this config takes: float32 parameters plus its Python objects."""
    parameters = count_bert_parameters(config, with_pooler)["total"]
    return parameters * BYTES_PER_PARAMETER + (config.num_layers + 1) * BYTES_PER_LAYER_OBJECTS


def available_memory_bytes() -> int | None:
    """Memory this process can still take: free RAM and swap, within any address-space limit;
    None where the system does not say (then nothing is refused)."""
    free = None
    try:
        with open("/proc/meminfo") as file:
            info = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in file}
        free = info["MemAvailable"] + info.get("SwapFree", 0)
    except (OSError, KeyError, ValueError, IndexError):
        try:
            free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            pass
    limit = resource.getrlimit(resource.RLIMIT_AS)[0] if resource else -1
    if resource and limit != resource.RLIM_INFINITY:
        room = limit - _address_space_in_use()
        free = room if free is None else min(free, room)
    return free


def _address_space_in_use() -> int:
    try:
        with open("/proc/self/status") as file:
            for line in file:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def check_fits_in_memory(
    config: BertConfig, with_pooler: bool = False, extra_bytes: int = 0) -> None:
    """Refuse, before anything is allocated, a model that needs more memory than is available
    (with ``extra_bytes`` beside it, e.g. a checkpoint being read)."""
    model_bytes = estimated_model_bytes(config, with_pooler)
    need = model_bytes + extra_bytes
    free = available_memory_bytes()
    if free is not None and need > free:
        parameters = count_bert_parameters(config, with_pooler)["total"]
        extra = f", plus {_size(extra_bytes)} of weights being read" if extra_bytes else ""
        raise ValueError(
            f"this config describes a model that needs about {_size(model_bytes)} of memory "
            f"({parameters:,} parameters in float32{extra}), more than the {_size(free)} "
            f"available; check its sizes (vocab_size={config.vocab_size}, "
            f"hidden_size={config.hidden_size}, num_layers={config.num_layers}, "
            f"intermediate_size={config.intermediate_size}, "
            f"max_position_embeddings={config.max_position_embeddings})")


def _size(count: int) -> str:
    """A byte count for people: "1.5 GB"."""
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if count < 1000 or unit == "TB":
            return f"{count:,.0f} {unit}" if unit == "bytes" else f"{count:,.1f} {unit}"
        count /= 1000
    return f"{count:,.1f} TB"


__all__ = [
    "BertConfig", "available_memory_bytes", "check_fits_in_memory", "count_bert_parameters",
    "estimated_model_bytes"]
