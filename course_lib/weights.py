"""Read a checkpoint in the Hugging Face layout and put its tensors into our model, by name.

Checked twice: before a model exists, the header's names and shapes against the config
(``check_fits_config``); when read, every tensor (``check_tensor_values``), one name a parameter.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .config import BertConfig
from .model import BertModel
from .names import HEAD_PREFIXES, checkpoint_name_to_ours, ours_to_checkpoint_name

LISTED_NAMES = 3  # an error lists the first few names and a count, never thousands
MAX_HEADER_BYTES = 100 << 20  # a safetensors header of 100 MB would describe millions of tensors
FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)

# Present in many checkpoints, deliberately not used by the encoder: heads, buffers, the pooler.
SET_ASIDE = re.compile(
    "^(" + "|".join(map(re.escape, HEAD_PREFIXES)) + r"|embeddings\.position_ids$|pooler\.)")


@dataclass
class LoadReport:
    """What happened to each checkpoint tensor: loaded, or set aside on purpose."""

    loaded: list[str] = field(default_factory=list)
    set_aside: list[str] = field(default_factory=list)


def read_checkpoint(path: str | Path, data: bytes | None = None) -> dict[str, torch.Tensor]:
    """A flat dict name -> tensor from ``model.safetensors`` or ``pytorch_model.bin`` (no code
    unpickled, anything else refused); ``data``: the bytes, if the caller already read them."""
    path = _existing(path, data)
    if path.suffix != ".safetensors":
        return _torch_load(path, data, mmap=False)
    from safetensors.torch import load, load_file

    try:
        state = load(data) if data is not None else load_file(str(path))
    except Exception as error:  # a truncated or foreign file: say which file, and why
        raise _unreadable(path, error) from None
    check_state_structure(state, path)
    return state


def read_tensor_shapes(path: str | Path, data: bytes | None = None) -> dict[str, tuple]:
    """Name -> shape of every tensor of a checkpoint, without reading the tensors' data (the
    safetensors header, or pytorch_model.bin memory-mapped: only its index pages are read)."""
    path = _existing(path, data)
    if path.suffix == ".safetensors":
        with io.BytesIO(data) if data is not None else open(path, "rb") as file:
            return _safetensors_shapes(file, path)
    state = _torch_load(path, data, mmap=True)
    return {name: tuple(tensor.shape) for name, tensor in state.items()}


def _existing(path: str | Path, data: bytes | None) -> Path:
    path = Path(path)
    if data is None and not path.is_file():
        raise FileNotFoundError(f"weight file not found: {path}")
    return path


def _torch_load(path: Path, data: bytes | None, mmap: bool) -> dict[str, torch.Tensor]:
    """A ``torch.save`` file read with ``weights_only=True`` (tensors and plain containers only,
    never code); memory-mapped when asked and the file has the zip format of torch >= 1.6."""
    try:
        if data is not None:
            state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        else:
            mmap = mmap and zipfile.is_zipfile(path)  # the older format cannot be mapped
            state = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except Exception as error:  # a truncated or foreign file, or one that would run code
        raise _unreadable(path, error) from None
    check_state_structure(state, path)
    return state


def _unreadable(path: Path, error: Exception | str) -> ValueError:
    detail = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return ValueError(
        f"could not read weight file {path}: it is corrupt or not a checkpoint "
        f"({_short(str(detail), 300)})")


def _safetensors_shapes(file, path: Path) -> dict[str, tuple]:
    """Shapes from a safetensors header; a header that is not the format's is an error."""
    prefix = file.read(8)
    if len(prefix) < 8:
        raise _unreadable(path, "shorter than the 8-byte header length")
    size = int.from_bytes(prefix, "little")
    if size > MAX_HEADER_BYTES:
        raise _unreadable(path, f"its header claims {size:,} bytes")
    raw = file.read(size)
    if len(raw) < size:
        raise _unreadable(path, "the file ends inside its header")
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise _unreadable(path, "its header is not UTF-8 JSON") from None
    if not isinstance(header, dict):
        raise _unreadable(path, "its header is not a JSON object")
    shapes = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        shape = entry.get("shape") if isinstance(entry, dict) else None
        if not isinstance(shape, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
            raise _unreadable(path, f"tensor {_short(name)} has no valid shape")
        shapes[name] = tuple(shape)
    return shapes


def check_state_structure(state: object, path: str | Path = "the checkpoint") -> None:
    """A flat dict of str -> dense tensor, or an error naming the first entry that is not."""
    if not isinstance(state, dict):
        raise ValueError(
            f"{path} must hold a dict of tensor name -> tensor, got a {type(state).__name__}")
    for name, value in state.items():
        if not isinstance(name, str):
            raise ValueError(f"{path}: tensor names must be str, got {name!r}")
        if isinstance(value, dict):
            raise ValueError(
                f"{path}: {_short(name)!r} holds a nested dict, not a tensor; a checkpoint is "
                "a flat dict of name -> tensor (a training checkpoint often keeps the model's "
                "tensors under a key such as 'state_dict': save that inner dict instead)")
        if not isinstance(value, torch.Tensor):
            raise ValueError(
                f"{path}: {_short(name)!r} holds a {type(value).__name__}, not a tensor; "
                "a checkpoint holds tensors only")


def check_tensor_values(name: str, tensor: torch.Tensor) -> None:
    """A tensor we load must be dense, floating point, with values, and finite: one NaN or inf
    weight spreads through attention to every token of every later layer."""
    if tensor.layout != torch.strided or getattr(tensor, "is_nested", False):
        raise ValueError(f"checkpoint tensor {_short(name)!r} is {tensor.layout}, not dense")
    if tensor.device.type == "meta":
        raise ValueError(f"checkpoint tensor {_short(name)!r} is on 'meta': it has no values")
    if tensor.dtype not in FLOAT_DTYPES:
        raise ValueError(
            f"checkpoint tensor {_short(name)!r} has dtype {tensor.dtype}; weights must be "
            "floating point (float16, bfloat16, float32 or float64)")
    finite = torch.isfinite(tensor)
    if not bool(finite.all()):
        bad = int((~finite).sum())
        raise ValueError(
            f"checkpoint tensor {_short(name)!r} holds {bad:,} NaN or infinite value(s) "
            f"of {tensor.numel():,}; a model with them would give NaN for every input")


def expected_shapes(config: BertConfig, add_pooler: bool = False) -> dict[str, tuple]:
    """Our parameter name -> shape for this config, from a model built on the ``meta`` device
    (shapes only, no memory), so the names and shapes come from the modules themselves."""
    with torch.device("meta"):
        model = BertModel(config, add_pooler=add_pooler)
    return {name: tuple(tensor.shape) for name, tensor in model.state_dict().items()}


def match_checkpoint(
    expected: dict[str, tuple], found: dict[str, tuple]) -> tuple[dict[str, str], list[str]]:
    """Pair checkpoint names with ours: (checkpoint name -> our name, names set aside). Refuses,
    naming a few of each, names missing, unexpected, mis-shaped, or given twice under two names."""
    mapping, set_aside, unexpected, misshaped, duplicates = {}, [], [], [], []
    owner: dict[str, str] = {}  # our name -> the checkpoint name that fills it
    for name, shape in found.items():
        target = checkpoint_name_to_ours(name)
        if target in expected:
            if target in owner:
                duplicates.append(f"{_short(owner[target])} and {_short(name)} (both {target})")
                continue
            owner[target] = name
            if tuple(shape) != tuple(expected[target]):
                misshaped.append(
                    f"{_short(name)}: checkpoint {tuple(shape)}, model {tuple(expected[target])}")
            else:
                mapping[name] = target
        elif SET_ASIDE.match(name.removeprefix("bert.")):
            set_aside.append(name)
        else:
            unexpected.append(_short(name))
    missing = sorted(set(expected) - set(owner))  # a mis-shaped tensor is listed once, under sizes
    problems = []
    if missing:
        problems.append(f"missing from the checkpoint: {_listing(missing)}")
    if unexpected:
        problems.append(f"unexpected in the checkpoint: {_listing(sorted(unexpected))}")
    if misshaped:
        problems.append("sizes that do not fit the config: " + _listing(misshaped, "; "))
    if duplicates:
        problems.append("two names for one parameter: " + _listing(duplicates, "; "))
    if problems:
        raise ValueError("the checkpoint does not fit the model:\n  " + "\n  ".join(problems))
    return mapping, set_aside


def check_fits_config(
    config: BertConfig, shapes: dict[str, tuple], add_pooler: bool = False) -> None:
    """Refuse, before a model is built, a checkpoint whose tensors do not fit the config."""
    match_checkpoint(expected_shapes(config, add_pooler), shapes)


def load_checkpoint_into(model: BertModel, state_dict: dict[str, torch.Tensor]) -> LoadReport:
    """Copy every tensor (each checked, cast to float32) into the model, or refuse and copy
    nothing; the pooler and the heads ("cls.*") are set aside unless the model has a pooler."""
    check_state_structure(state_dict)
    ours = {name: tuple(tensor.shape) for name, tensor in model.state_dict().items()}
    found = {name: tuple(tensor.shape) for name, tensor in state_dict.items()}
    mapping, set_aside = match_checkpoint(ours, found)
    for name in mapping:
        check_tensor_values(name, state_dict[name])
    new_state = {target: state_dict[name] for name, target in mapping.items()}
    with torch.no_grad():
        model.load_state_dict(new_state, strict=True)  # copies, casting to the model's dtype
    return LoadReport(loaded=list(mapping), set_aside=set_aside)


def _short(text: str, limit: int = 80) -> str:
    """A name cut to ``limit`` characters, so one absurd name cannot flood a message."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _listing(items: list[str], separator: str = ", ") -> str:
    """The first few items and how many more: "a, b, c and 297 more (300 in all)"."""
    shown = separator.join(items[:LISTED_NAMES])
    rest = len(items) - LISTED_NAMES
    return shown if rest <= 0 else f"{shown} and {rest:,} more ({len(items):,} in all)"


def ours_to_checkpoint_state(model: BertModel) -> dict[str, torch.Tensor]:
    """Our weights under Hugging Face's names, so ``transformers`` can read them too."""
    return {ours_to_checkpoint_name(name): tensor for name, tensor in model.state_dict().items()}
