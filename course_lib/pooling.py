"""Global average and max pooling over the sequence, leaving padding out."""

from __future__ import annotations

import torch

from .validation import as_mask_tensor, check_attention_mask


def _prepare(sequence: torch.Tensor, mask) -> tuple[torch.Tensor, torch.Tensor, bool]:
    """Return (batch, seq, hidden) vectors, a (batch, seq, 1) mask, and whether input was 2-D."""
    if not isinstance(sequence, torch.Tensor) or not sequence.is_floating_point():
        raise TypeError(
            "pooling expects a float tensor of vectors, shape (seq, hidden) or (batch, seq, hidden)"
        )
    if sequence.dim() not in (2, 3):
        raise ValueError(
            "pooling expects shape (seq, hidden) or (batch, seq, hidden), "
            f"got {tuple(sequence.shape)}"
        )
    single = sequence.dim() == 2
    vectors = sequence.unsqueeze(0) if single else sequence  # (batch, seq, hidden)
    if mask is None:
        keep = torch.ones(vectors.shape[:2], dtype=torch.bool, device=vectors.device)
    else:
        mask = as_mask_tensor(mask).to(vectors.device)
        mask = mask.unsqueeze(0) if single and mask.dim() == 1 else mask  # (batch, seq)
        keep = check_attention_mask(mask, vectors[..., 0])
    return vectors, keep.unsqueeze(-1), single  # keep: (batch, seq, 1)


def global_average_pooling(sequence: torch.Tensor, mask=None) -> torch.Tensor:
    """Mean of the vectors of real tokens.

    (seq, hidden) -> (hidden,); (batch, seq, hidden) -> (batch, hidden).
    """
    vectors, keep, single = _prepare(sequence, mask)
    summed = (vectors * keep).sum(dim=1)  # (batch, hidden)
    pooled = summed / keep.sum(dim=1).to(vectors.dtype)  # (batch, hidden)
    return pooled[0] if single else pooled


def global_max_pooling(sequence: torch.Tensor, mask=None) -> torch.Tensor:
    """Largest value of each feature over the real tokens; same shapes as average pooling."""
    vectors, keep, single = _prepare(sequence, mask)
    hidden = vectors.masked_fill(~keep, float("-inf"))  # padding can never be the max
    pooled = hidden.max(dim=1).values  # (batch, hidden)
    return pooled[0] if single else pooled
