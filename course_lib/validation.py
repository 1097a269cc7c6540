"""One boundary for what users pass in: the shared rules and constants, and the checks.

What the model, the block, the tokenizer and the pooling functions accept is checked here, once,
so a mistake gets one message naming its rule. ``check_inputs`` returns a :class:`CheckedInputs`,
which the model and the block trust as it is. The numbers a learner chooses (a config's sizes,
training settings) are checked by ``number_of_kind``, ``whole_number`` and ``real_number``.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import torch

# ---- the shared rules and constants (defined here only; everything else imports them) ----------

MIN_BLOCK_LENGTH = 3  # [CLS], at least one token, [SEP]: the shortest input of the block
MIN_PAIR_LENGTH = 5  # [CLS], a token of text a, [SEP], a token of text b, [SEP]
MAX_POSITIONS = 512  # BERT-base and the shipped model have 512 position embeddings
SHIPPED_VOCAB_SIZE = 30522  # the bert-base-uncased vocabulary, also the shipped model's
INT64_MAX = 2**63 - 1
MIN_CLASSES = 2  # a classifier chooses between at least two classes


@dataclass(frozen=True)
class CheckedInputs:
    """Model inputs that passed every rule, with the limits they were checked against (a model
    with tighter limits checks them again). ``single``: the caller gave one 1-D sequence."""

    input_ids: torch.Tensor  # (batch, seq) long, each in [0, vocab_size), on the model's device
    attention_mask: torch.Tensor | None  # (batch, seq) or (batch, seq, seq) bool; None: all see all
    token_type_ids: torch.Tensor  # (batch, seq) long, each in [0, type_vocab_size)
    single: bool
    vocab_size: int
    max_length: int
    type_vocab_size: int
    min_length: int

    def fits(
        self, vocab_size: int, max_length: int, type_vocab_size: int, min_length: int, device
    ) -> bool:
        """True when these inputs also satisfy these (possibly tighter) limits."""
        return (
            self.vocab_size <= vocab_size and self.max_length <= max_length
            and self.type_vocab_size <= type_vocab_size and self.min_length >= min_length
            and (device is None or self.input_ids.device == torch.device(device)))


def check_inputs(
    input_ids, attention_mask=None, token_type_ids=None, *, config, min_length: int = 1,
    allow_single: bool = False, pairwise_mask: bool = False, device=None) -> CheckedInputs:
    """Check model inputs against ``config`` once, and return them ready to use on ``device``.
    ``allow_single``: 1-D IDs are one sequence (the block's); ``pairwise_mask``: a (batch, seq,
    seq) mask, which key each query may see, is allowed too (``cl.BertModel``'s)."""
    vocab_size, max_length = config.vocab_size, config.max_position_embeddings
    type_vocab_size = config.type_vocab_size
    single = False
    if isinstance(input_ids, CheckedInputs):
        given = input_ids
        single = given.single
        flat = given.attention_mask is None or given.attention_mask.dim() == 2
        if attention_mask is None and token_type_ids is None and (flat or pairwise_mask):
            if given.fits(vocab_size, max_length, type_vocab_size, min_length, device):
                return given
        input_ids = given.input_ids  # checked for other limits: check again, for these
        attention_mask = given.attention_mask if attention_mask is None else attention_mask
        token_type_ids = given.token_type_ids if token_type_ids is None else token_type_ids
    ids = as_id_tensor(input_ids)
    if allow_single:
        if ids.dim() not in (1, 2):
            raise ValueError(
                f"the block's input must be a 1-dimensional vector of token IDs (or a batch of "
                f"them, 2-D); got {ids.dim()} dimensions {tuple(ids.shape)}")
        single = single or ids.dim() == 1
        ids = ids.unsqueeze(0) if ids.dim() == 1 else ids  # (batch, seq)
    check_input_ids(ids, vocab_size, max_length, min_length)
    if device is not None:
        check_same_device(ids, device)
    if token_type_ids is None:
        segments = torch.zeros_like(ids)  # (batch, seq): every token in segment A
    else:
        segments = as_id_tensor(token_type_ids, "token_type_ids")
        segments = segments.unsqueeze(0) if single and segments.dim() == 1 else segments
        segments = check_token_type_ids(segments, ids, type_vocab_size)
    keep = None  # (batch, seq): True for real tokens; None when nothing is padding
    if attention_mask is not None:
        mask = as_mask_tensor(attention_mask)
        mask = mask.unsqueeze(0) if single and mask.dim() == 1 else mask  # (batch, seq)
        keep = check_attention_mask(mask, ids, pairwise_mask)
        if bool(keep.all()):
            keep = None
    return CheckedInputs(
        ids, keep, segments, single, vocab_size, max_length, type_vocab_size, min_length)


# ---- numbers a learner chooses: a config's fields, training settings -------------------------


def shown(value: object, limit: int = 60) -> str:
    """``repr(value)``, cut short: a setting holding a huge string must not flood the message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def invalid(kind: type[Exception], name: str, message: str) -> Exception:
    """An error of ``kind`` whose ``.field`` names the setting it is about."""
    error = kind(message)
    error.field = name
    return error


def number_of_kind(name: str, value, kind, what: str):
    """``value`` when it is a ``kind`` (numbers.Integral or numbers.Real, NumPy's too), never a
    bool (True is not 1 here); else a TypeError saying ``name`` must be ``what``."""
    if isinstance(value, bool) or not isinstance(value, kind):
        raise invalid(
            TypeError, name, f"{name} must be {what}, got {shown(value)} ({type(value).__name__})")
    return value


def whole_number(name: str, value, minimum: int = 1, maximum: int | None = None) -> int:
    """``value`` as an int in [minimum, maximum], or an error naming the rule."""
    value = int(number_of_kind(name, value, numbers.Integral, "a whole number (an int)"))
    if value < minimum or (maximum is not None and value > maximum):
        upper = "" if maximum is None else f" and at most {maximum}"
        raise invalid(ValueError, name, f"{name} must be at least {minimum}{upper}, got {value}")
    return value


def real_number(name: str, value, low: float = 0.0, high: float = math.inf,
                low_allowed: bool = True) -> float:
    """``value`` as a finite float in [low, high] (low itself only if ``low_allowed``)."""
    value = float(number_of_kind(name, value, numbers.Real, "a number"))
    if not math.isfinite(value) or value < low or value > high or (
            value == low and not low_allowed):
        lower = "" if low == -math.inf else f" {'>=' if low_allowed else '>'} {low:g}"
        upper = "" if high == math.inf else f" and <= {high:g}"
        raise invalid(
            ValueError, name, f"{name} must be a finite number{lower}{upper}, got {value}")
    return value


def number_of_classes(name: str, value) -> int:
    """How many classes a classifier scores: an int of at least ``MIN_CLASSES``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < MIN_CLASSES:
        raise ValueError(f"{name} must be an int of at least {MIN_CLASSES}, got {value!r}")
    return value


# ---- single checks (check_inputs is made of these) -------------------------------------------


def check_tensor_layout(tensor: torch.Tensor, name: str) -> None:
    """A plain dense tensor with values: not sparse, not nested, not on the ``meta`` device."""
    if getattr(tensor, "is_nested", False):
        raise TypeError(
            f"{name} is a nested tensor (rows of different lengths); only dense tensors are "
            "accepted: pad the rows to one length and pass an attention_mask")
    if tensor.layout != torch.strided:
        raise TypeError(
            f"{name} has layout {tensor.layout}; only dense tensors (torch.strided) are "
            "accepted: convert it with .to_dense()")
    if tensor.device.type == "meta":
        raise ValueError(
            f"{name} is on the 'meta' device, which holds shapes but no values; "
            "create it on 'cpu' (or the model's device)")


def as_id_tensor(ids, name: str = "input_ids") -> torch.Tensor:
    """Turn ``ids`` (a tensor, NumPy array or list of ints) into a long tensor, or say why not."""
    if isinstance(ids, torch.Tensor):
        tensor = ids
        check_tensor_layout(tensor, name)
    elif isinstance(ids, (str, bytes)):
        raise TypeError(
            f"{name} must be token IDs (integers), got text {type(ids).__name__}; "
            "turn text into IDs with a tokenizer first, e.g. tok.encode(text)")
    elif isinstance(ids, (list, tuple)):
        for value in _leaves(ids):  # the first that is not an integer (bools are not) is reported
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise TypeError(f"{name} must hold integers only, got {value!r}")
        _check_rectangular(ids, name)
        for value in map(int, _leaves(ids)):
            if not -INT64_MAX - 1 <= value <= INT64_MAX:
                raise ValueError(
                    f"{name} holds {value}, too large for a 64-bit integer; token IDs must be "
                    "in [0, vocab_size)")
        tensor = torch.as_tensor(ids, dtype=torch.long)
    elif hasattr(ids, "__array__"):
        tensor = _from_array(ids, name)
    else:
        raise TypeError(
            f"{name} must be a torch.Tensor of integer token IDs, got {type(ids).__name__}")
    if tensor.dtype == torch.bool or tensor.is_floating_point() or tensor.is_complex():
        raise TypeError(
            f"{name} must have an integer dtype (token IDs are indices), got {tensor.dtype}; "
            "use .long() only if the values really are whole numbers")
    if tensor.dtype == getattr(torch, "uint64", None) and tensor.numel():
        if int(tensor.max()) > INT64_MAX:  # .long() would wrap it round to a negative ID
            raise ValueError(
                f"{name} holds {int(tensor.max())}, too large for a 64-bit integer; "
                "token IDs must be in [0, vocab_size)")
    return tensor.long()


def _from_array(values, name: str) -> torch.Tensor:
    """A tensor from a NumPy array (any strides, reversed ones too) or an array-like object."""
    import numpy as np

    array = np.asarray(values)
    if array.dtype.kind not in "biuf":  # bool, int, uint, float: the rest cannot be IDs
        raise TypeError(
            f"{name} must be an array of integers, got a NumPy array of dtype {array.dtype}")
    if array.dtype == np.uint64 and array.size and int(array.max()) > INT64_MAX:
        raise ValueError(
            f"{name} holds {int(array.max())}, too large for a 64-bit integer; token IDs must "
            "be in [0, vocab_size)")
    # A view with negative strides (a[::-1]) is copied into a plain array: same values, in order.
    return torch.from_numpy(np.ascontiguousarray(array))


def _leaves(values):
    """Every item of a (nested) list or tuple that is not itself a list or tuple."""
    for value in values:
        if isinstance(value, (list, tuple)):
            yield from _leaves(value)
        else:
            yield value


def _check_rectangular(rows, name: str) -> None:
    """Nested lists must form a grid: every row as long as the first (padding makes them so)."""
    if not rows or not isinstance(rows[0], (list, tuple)):
        if any(isinstance(row, (list, tuple)) for row in rows):
            raise ValueError(f"{name} mixes numbers and lists at the same level")
        return
    if not all(isinstance(row, (list, tuple)) for row in rows):
        raise ValueError(f"{name} mixes numbers and lists at the same level")
    lengths = [len(row) for row in rows]
    for index, length in enumerate(lengths):
        if length != lengths[0]:
            raise ValueError(
                f"{name} could not be read as a tensor of integers: row 0 has {lengths[0]} "
                f"values, row {index} has {length}; rows of different lengths need padding "
                "and a mask (tok.encode_batch does both)")
    for row in rows:
        _check_rectangular(row, name)


def check_input_ids(
    ids: torch.Tensor, vocab_size: int, max_length: int, min_length: int = 1) -> None:
    """Rank 2 (batch, seq), length within bounds, every ID in [0, vocab_size)."""
    if ids.dim() != 2:
        raise ValueError(
            f"input_ids must have shape (batch, seq), got {ids.dim()} dimension(s) "
            f"{tuple(ids.shape)}")
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
            "(IDs must be in [0, vocab_size))")


def check_attention_mask(mask, ids: torch.Tensor, pairwise: bool = False) -> torch.Tensor:
    """Same shape as the IDs (or, if ``pairwise``, (batch, seq, seq)), only 0s and 1s, and every
    sequence (every query) sees at least one token, else its attention would be 0 / 0."""
    mask = as_mask_tensor(mask)
    square = (*ids.shape, ids.shape[-1])  # (batch, seq, seq)
    if pairwise and mask.dim() == 3:
        if tuple(mask.shape) != square:
            raise ValueError(f"a 3-D attention_mask must have shape (batch, seq, seq) "
                             f"{square}, got {tuple(mask.shape)}")
    elif mask.dim() == 3 and tuple(mask.shape) == square:
        raise ValueError(f"a (batch, seq, seq) attention_mask {square} (which position sees "
                         "which) is taken by cl.BertModel only; here give (batch, seq)")
    elif tuple(mask.shape) != tuple(ids.shape):
        raise ValueError(
            f"attention_mask shape {tuple(mask.shape)} must match input_ids shape "
            f"{tuple(ids.shape)}")
    values = mask if mask.is_floating_point() else mask.long()
    if not bool(((values == 0) | (values == 1)).all()):
        raise ValueError("attention_mask must hold only 0 (padding) and 1 (real token)")
    if not bool((values == 1).any(dim=-1).all()):
        what = "every position (row)" if mask.dim() == 3 else "every sequence"
        raise ValueError(f"attention_mask must mark at least one real token (a 1) in {what}")
    return values.to(ids.device).bool()


def check_token_type_ids(token_type_ids, ids: torch.Tensor, type_vocab_size: int) -> torch.Tensor:
    """Same shape as the IDs, each segment ID in [0, type_vocab_size)."""
    segments = as_id_tensor(token_type_ids, "token_type_ids")
    if tuple(segments.shape) != tuple(ids.shape):
        raise ValueError(
            f"token_type_ids shape {tuple(segments.shape)} must match input_ids shape "
            f"{tuple(ids.shape)}")
    low, high = int(segments.min()), int(segments.max())
    if low < 0 or high >= type_vocab_size:
        bad = low if low < 0 else high
        raise ValueError(
            f"segment ID {bad} is out of range: token_type_ids must be in [0, {type_vocab_size})")
    return segments.to(ids.device)


def check_same_device(ids: torch.Tensor, device) -> None:
    """The IDs must live where the model's weights live (``device``: a device or a tensor)."""
    device = device.device if isinstance(device, torch.Tensor) else torch.device(device)
    if ids.device != device:
        raise ValueError(
            f"input_ids are on {ids.device} but the model is on {device}; "
            f"move them with ids.to('{device}')")


def as_mask_tensor(values, name: str = "attention_mask") -> torch.Tensor:
    """A dense tensor of numbers from a mask given as a tensor, NumPy array or list."""
    if isinstance(values, torch.Tensor):
        tensor = values
        check_tensor_layout(tensor, name)
    elif isinstance(values, (list, tuple)) or hasattr(values, "__array__"):
        if isinstance(values, (list, tuple)):
            _check_rectangular(values, name)
        try:
            tensor = (
                torch.as_tensor(values) if isinstance(values, (list, tuple))
                else _from_array(values, name))
        except (TypeError, ValueError, RuntimeError, OverflowError) as error:
            raise TypeError(f"{name} could not be read as a tensor of 0s and 1s: {error}") from None
    else:
        raise TypeError(f"{name} must be a torch.Tensor, got {type(values).__name__}")
    if tensor.is_complex():
        raise TypeError(f"{name} must hold 0s and 1s (bool, int or float), got {tensor.dtype}")
    return tensor
