"""What BERT hides from itself in pre-training (masked-LM inputs), and the causal mask it avoids.

Masked LM (Devlin et al. 2019, section 3.1) hides about 15% of the tokens for the model to
recover from both sides; 80/10/10 keeps it from relying on [MASK], which fine-tuning never shows.
A causal (GPT-style) mask lets each position see only itself and its left.
"""

from __future__ import annotations

import torch

from .tokenizer import SPECIAL_TOKENS
from .validation import as_id_tensor

IGNORE_INDEX = -100  # PyTorch's cross_entropy skips this label: "nothing to predict here"
MASK_SHARE, RANDOM_SHARE = 0.8, 0.1  # the rest (10%) keep their token


def special_token_ids(tokenizer) -> torch.Tensor:
    """IDs of [PAD], [UNK], [CLS], [SEP] and [MASK] (those the vocabulary has), shape (n,)."""
    return torch.tensor(
        sorted(tokenizer.vocab[token] for token in SPECIAL_TOKENS if token in tokenizer.vocab),
        dtype=torch.long)


def mask_tokens(
    input_ids, tokenizer, probability: float = 0.15,
    generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's masking: ``(masked_ids, labels)``, shaped like ``input_ids`` (left unmodified).

    Each non-special token is chosen with ``probability``, then becomes [MASK] (80%), a random
    token (10%) or itself (10%); ``labels`` holds its original ID there, -100 elsewhere. The same
    generator seed gives the same masks; each further call draws new ones.
    """
    ids = as_id_tensor(input_ids)  # (batch, seq) or (seq,)
    if isinstance(probability, bool) or not isinstance(probability, (int, float)):
        raise TypeError(f"probability must be a number, got {type(probability).__name__}")
    if not 0.0 <= probability <= 1.0:
        raise ValueError(f"probability must be between 0 and 1, got {probability}")
    if tokenizer.mask_token_id is None:
        raise ValueError("the tokenizer's vocabulary has no [MASK] token, so nothing can be masked")
    if generator is not None and generator.device != ids.device:
        raise ValueError(
            f"the generator is on {generator.device} but input_ids are on {ids.device}")

    special = torch.isin(ids, special_token_ids(tokenizer).to(ids.device))  # padding included
    draw = dict(generator=generator, device=ids.device)
    chosen = (torch.rand(ids.shape, **draw) < probability) & ~special  # shape of ids
    labels = torch.where(chosen, ids, torch.full_like(ids, IGNORE_INDEX))

    action = torch.rand(ids.shape, **draw)  # one more uniform number per position
    to_mask = chosen & (action < MASK_SHARE)
    to_random = chosen & (action >= MASK_SHARE) & (action < MASK_SHARE + RANDOM_SHARE)
    random_ids = torch.randint(tokenizer.vocab_size, ids.shape, **draw)

    masked = ids.clone()
    masked[to_mask] = tokenizer.mask_token_id
    masked[to_random] = random_ids[to_random]
    return masked, labels


def causal_mask(seq_len: int, device=None) -> torch.Tensor:
    """(seq, seq) bool, True where query position i may look at key position j, i.e. j <= i:
    the lower triangle with its diagonal."""
    _check_seq_len(seq_len)
    return torch.tril(torch.ones(seq_len, seq_len, dtype=torch.bool, device=device))


def bidirectional_mask(seq_len: int, device=None) -> torch.Tensor:
    """(seq, seq) bool, all True: BERT's encoder lets every position see every other position."""
    _check_seq_len(seq_len)
    return torch.ones(seq_len, seq_len, dtype=torch.bool, device=device)


def _check_seq_len(seq_len) -> None:
    """A mask's side: an int of at least 1."""
    if isinstance(seq_len, bool) or not isinstance(seq_len, int) or seq_len < 1:
        raise ValueError(f"seq_len must be a positive integer, got {seq_len!r}")
