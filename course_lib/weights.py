"""Read a checkpoint in the Hugging Face layout and put its tensors into our model, by name."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .model import BertModel

# Checkpoint name (after "bert." is dropped and gamma/beta renamed) -> our name. {i} is a layer.
LAYER_NAME_MAP = {
    "attention.self.query": "attention.query",
    "attention.self.key": "attention.key",
    "attention.self.value": "attention.value",
    "attention.output.dense": "attention.output",
    "attention.output.LayerNorm": "attention_norm",
    "intermediate.dense": "feed_forward.intermediate",
    "output.dense": "feed_forward.output",
    "output.LayerNorm": "output_norm",
}
EMBEDDING_NAME_MAP = {
    "embeddings.word_embeddings": "embeddings.word_embeddings",
    "embeddings.position_embeddings": "embeddings.position_embeddings",
    "embeddings.token_type_embeddings": "embeddings.token_type_embeddings",
    "embeddings.LayerNorm": "embeddings.layer_norm",
    "pooler.dense": "pooler.dense",
}
# Present in many checkpoints, deliberately not used by the encoder: pre-training heads and buffers.
SET_ASIDE = re.compile(r"^(cls\.|embeddings\.position_ids$|pooler\.)")
LAYER_KEY = re.compile(r"^encoder\.layer\.(\d+)\.(.+)\.(weight|bias)$")
OTHER_KEY = re.compile(r"^(.+)\.(weight|bias)$")


def checkpoint_name_to_ours(name: str) -> str | None:
    """Our parameter name for a checkpoint tensor name, or None if we have no such tensor."""
    name = name.removeprefix("bert.")
    name = re.sub(r"\.gamma$", ".weight", re.sub(r"\.beta$", ".bias", name))
    if match := LAYER_KEY.match(name):
        index, part, kind = match.groups()
        ours = LAYER_NAME_MAP.get(part)
        return f"encoder.layers.{index}.{ours}.{kind}" if ours else None
    if match := OTHER_KEY.match(name):
        part, kind = match.groups()
        ours = EMBEDDING_NAME_MAP.get(part)
        return f"{ours}.{kind}" if ours else None
    return None


@dataclass
class LoadReport:
    """What happened to each checkpoint tensor: loaded, or set aside on purpose."""

    loaded: list[str] = field(default_factory=list)
    set_aside: list[str] = field(default_factory=list)


def read_checkpoint(path: str | Path) -> dict[str, torch.Tensor]:
    """Tensors from ``model.safetensors`` or ``pytorch_model.bin`` (never unpickling code)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"weight file not found: {path}")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a truncated or foreign file: say which file, and why
        raise ValueError(
            f"could not read weight file {path}: it is corrupt or not a "
            f"checkpoint ({type(error).__name__}: {error})"
        ) from None


def load_checkpoint_into(model: BertModel, state_dict: dict[str, torch.Tensor]) -> LoadReport:
    """Copy every tensor into the model; list every missing, unexpected or mis-shaped one.

    The pooler and the pre-training heads ("cls.*") are set aside unless the model has a pooler.
    """
    ours = model.state_dict()
    report, unexpected, misshaped, new_state, found = LoadReport(), [], [], {}, set()
    for name, tensor in state_dict.items():
        target = checkpoint_name_to_ours(name)
        if target in ours:
            found.add(target)
            if tuple(tensor.shape) != tuple(ours[target].shape):
                misshaped.append(
                    f"{name}: checkpoint {tuple(tensor.shape)}, model {tuple(ours[target].shape)}"
                )
            else:
                new_state[target] = tensor
                report.loaded.append(name)
        elif SET_ASIDE.match(name.removeprefix("bert.")):
            report.set_aside.append(name)
        else:
            unexpected.append(name)
    missing = sorted(set(ours) - found)  # a mis-shaped tensor is listed once, under sizes
    problems = []
    if missing:
        problems.append(f"missing from the checkpoint: {', '.join(missing)}")
    if unexpected:
        problems.append(f"unexpected in the checkpoint: {', '.join(sorted(unexpected))}")
    if misshaped:
        problems.append("sizes that do not fit the config: " + "; ".join(misshaped))
    if problems:
        raise ValueError("the checkpoint does not fit the model:\n  " + "\n  ".join(problems))
    with torch.no_grad():
        model.load_state_dict(new_state, strict=True)
    return report


def ours_to_checkpoint_state(model: BertModel) -> dict[str, torch.Tensor]:
    """Our weights under Hugging Face's names, so ``transformers`` can read them too."""
    reverse_layer = {v: k for k, v in LAYER_NAME_MAP.items()}
    reverse_other = {v: k for k, v in EMBEDDING_NAME_MAP.items()}
    state = {}
    for name, tensor in model.state_dict().items():
        stem, kind = name.rsplit(".", 1)
        if match := re.match(r"^encoder\.layers\.(\d+)\.(.+)$", stem):
            index, part = match.groups()
            state[f"encoder.layer.{index}.{reverse_layer[part]}.{kind}"] = tensor
        else:
            state[f"{reverse_other[stem]}.{kind}"] = tensor
    return state
