"""Checks on what users pass in, so that a mistake gets a message naming the rule it broke."""

from __future__ import annotations

import numbers

import torch

MIN_BLOCK_LENGTH = 3  # [CLS], at least one token, [SEP]


def as_id_tensor(ids, name: str = "input_ids") -> torch.Tensor:
    """Turn ``ids`` (a tensor, NumPy array or list of ints) into a long tensor, or say why not."""
    if isinstance(ids, torch.Tensor):
        tensor = ids
    elif isinstance(ids, (str, bytes)):
        raise TypeError(
            f"{name} must be token IDs (integers), got text {type(ids).__name__}; "
            "turn text into IDs with a tokenizer first, e.g. tok.encode(text)"
        )
    elif isinstance(ids, (list, tuple)) or hasattr(ids, "__array__"):
        is_list = isinstance(ids, (list, tuple))  # else a NumPy array, its dtype checked below
        if is_list:
            for value in _non_integers(ids):  # the first one found is reported
                raise TypeError(f"{name} must hold integers only, got {value!r}")
        try:
            tensor = torch.as_tensor(ids, dtype=torch.long) if is_list else torch.as_tensor(ids)
        except (TypeError, ValueError, RuntimeError) as error:
            raise ValueError(
                f"{name} could not be read as a tensor of integers (rows of "
                f"different lengths need padding and a mask): {error}"
            ) from None
    else:
        raise TypeError(
            f"{name} must be a torch.Tensor of integer token IDs, got {type(ids).__name__}"
        )
    if tensor.dtype == torch.bool or tensor.is_floating_point() or tensor.is_complex():
        raise TypeError(
            f"{name} must have an integer dtype (token IDs are indices), got {tensor.dtype}; "
            "use .long() only if the values really are whole numbers"
        )
    return tensor.long()


def _non_integers(values):
    """Every item of a (nested) list or tuple that is not an integer; bools do not count."""
    for value in values:
        if isinstance(value, (list, tuple)):
            yield from _non_integers(value)
        elif isinstance(value, bool) or not isinstance(value, numbers.Integral):
            yield value


def check_input_ids(
    ids: torch.Tensor, vocab_size: int, max_length: int, min_length: int = 1
) -> None:
    """Rank 2 (batch, seq), length within bounds, every ID in [0, vocab_size)."""
    if ids.dim() != 2:
        raise ValueError(
            f"input_ids must have shape (batch, seq), got {ids.dim()} dimension(s) "
            f"{tuple(ids.shape)}"
        )
    batch, length = ids.shape
    if batch == 0:
        raise ValueError("input_ids hold an empty batch (batch size 0)")
    if length < min_length:
        raise ValueError(f"input length {length} is below the minimum of {min_length} tokens")
    if length > max_length:
        raise ValueError(f"input length {length} is above the maximum of {max_length} tokens")
    low, high = int(ids.min()), int(ids.max())
    if low < 0:
        raise ValueError(f"token IDs must not be negative, got {low}")
    if high >= vocab_size:
        raise ValueError(
            f"token ID {high} is not below the vocabulary size {vocab_size} "
            "(IDs must be in [0, vocab_size))"
        )


def check_attention_mask(mask, ids: torch.Tensor) -> torch.Tensor:
    """Same shape as the IDs, only 0s and 1s, at least one real token per sequence."""
    mask = as_mask_tensor(mask)
    if tuple(mask.shape) != tuple(ids.shape):
        raise ValueError(
            f"attention_mask shape {tuple(mask.shape)} must match input_ids shape "
            f"{tuple(ids.shape)}"
        )
    if mask.is_floating_point():
        values = mask
    else:
        values = mask.long()
    if not bool(((values == 0) | (values == 1)).all()):
        raise ValueError("attention_mask must hold only 0 (padding) and 1 (real token)")
    if not bool((values == 1).any(dim=-1).all()):
        raise ValueError("attention_mask must mark at least one real token (a 1) in every sequence")
    return values.to(ids.device).bool()


def check_token_type_ids(token_type_ids, ids: torch.Tensor, type_vocab_size: int) -> torch.Tensor:
    """Same shape as the IDs, each segment ID in [0, type_vocab_size)."""
    segments = as_id_tensor(token_type_ids, "token_type_ids")
    if tuple(segments.shape) != tuple(ids.shape):
        raise ValueError(
            f"token_type_ids shape {tuple(segments.shape)} must match input_ids shape "
            f"{tuple(ids.shape)}"
        )
    low, high = int(segments.min()), int(segments.max())
    if low < 0 or high >= type_vocab_size:
        bad = low if low < 0 else high
        raise ValueError(
            f"segment ID {bad} is out of range: token_type_ids must be in [0, {type_vocab_size})"
        )
    return segments.to(ids.device)


def check_same_device(ids: torch.Tensor, weight: torch.Tensor) -> None:
    """The IDs must live where the model's weights live."""
    if ids.device != weight.device:
        raise ValueError(
            f"input_ids are on {ids.device} but the model is on {weight.device}; "
            f"move them with ids.to('{weight.device}')"
        )


def as_mask_tensor(values, name: str = "attention_mask") -> torch.Tensor:
    """A tensor from a mask given as a tensor, NumPy array or list; a TypeError otherwise."""
    if isinstance(values, torch.Tensor):
        return values
    if isinstance(values, (list, tuple)) or hasattr(values, "__array__"):
        try:
            return torch.as_tensor(values)
        except (TypeError, ValueError, RuntimeError) as error:
            raise TypeError(f"{name} could not be read as a tensor: {error}") from None
    raise TypeError(f"{name} must be a torch.Tensor, got {type(values).__name__}")
