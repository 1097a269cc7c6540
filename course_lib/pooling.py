"""Global average and max pooling over the sequence, leaving padding out."""

from __future__ import annotations

import torch

from .validation import as_mask_tensor, check_attention_mask, check_tensor_layout


def _prepare(sequence: torch.Tensor, mask) -> tuple[torch.Tensor, torch.Tensor | None, bool]:
    """Return (batch, seq, hidden) vectors, a (batch, seq) bool mask (None: no padding), and
    whether the input was 2-D."""
    if not isinstance(sequence, torch.Tensor) or not sequence.is_floating_point():
        raise TypeError(
            "pooling expects a float tensor of vectors, shape (seq, hidden) or (batch, seq, hidden)"
        )
    check_tensor_layout(sequence, "the sequence to pool")
    if sequence.dim() not in (2, 3):
        raise ValueError(
            "pooling expects shape (seq, hidden) or (batch, seq, hidden), "
            f"got {tuple(sequence.shape)}")
    single = sequence.dim() == 2
    vectors = sequence.unsqueeze(0) if single else sequence  # (batch, seq, hidden)
    keep = None
    if mask is not None:
        mask = as_mask_tensor(mask).to(vectors.device)
        mask = mask.unsqueeze(0) if single and mask.dim() == 1 else mask  # (batch, seq)
        keep = check_attention_mask(mask, vectors[..., 0])  # (batch, seq) bool
    return vectors, keep, single


def global_average_pooling(sequence: torch.Tensor, mask=None) -> torch.Tensor:
    """Mean of the vectors of real tokens: (seq, hidden) -> (hidden,); (batch, seq, hidden) ->
    (batch, hidden)."""
    vectors, keep, single = _prepare(sequence, mask)
    pooled = average_over(vectors, keep)  # (batch, hidden)
    return pooled[0] if single else pooled


def global_max_pooling(sequence: torch.Tensor, mask=None) -> torch.Tensor:
    """Largest value of each feature over the real tokens; same shapes as average pooling."""
    vectors, keep, single = _prepare(sequence, mask)
    pooled = max_over(vectors, keep)  # (batch, hidden)
    return pooled[0] if single else pooled


def average_over(vectors: torch.Tensor, keep: torch.Tensor | None) -> torch.Tensor:
    """(batch, seq, hidden), a checked (batch, seq[, 1]) bool mask or None -> (batch, hidden)."""
    if keep is None:
        return vectors.sum(dim=1) / vectors.shape[1]  # (batch, hidden)
    keep = keep.reshape(*vectors.shape[:2], 1)  # (batch, seq, 1)
    summed = (vectors * keep).sum(dim=1)  # (batch, hidden)
    return summed / keep.sum(dim=1).to(vectors.dtype)  # (batch, hidden)


def max_over(vectors: torch.Tensor, keep: torch.Tensor | None) -> torch.Tensor:
    """(batch, seq, hidden), a checked (batch, seq[, 1]) bool mask or None -> (batch, hidden)."""
    if keep is not None:
        keep = keep.reshape(*vectors.shape[:2], 1)  # (batch, seq, 1)
        vectors = vectors.masked_fill(~keep, float("-inf"))  # padding can never be the max
    return vectors.max(dim=1).values  # (batch, hidden)
