"""Shared inputs of the checkers: small seeded configs, modules and padded batches.

Everything is built from a fixed seed inside ``seeded``, which leaves the learner's own random
state untouched, so a checker gives the same verdict every time and never changes the notebook's
random numbers.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch

from course_lib.config import BertConfig

# The size most exercises run at: small enough to print, with 4 heads of 4 features.
SMALL = BertConfig(vocab_size=50, hidden_size=16, num_layers=1, num_heads=4, intermediate_size=32,
                   max_position_embeddings=12)
# A second size, run after the first: code with SMALL's numbers written into it fails here.
OTHER = BertConfig(vocab_size=40, hidden_size=12, num_layers=1, num_heads=2, intermediate_size=20,
                   max_position_embeddings=12)


def sizes_of(config: BertConfig) -> str:
    """How a config's sizes are named in a report."""
    return f"hidden size {config.hidden_size} with {config.num_heads} heads"


@contextmanager
def seeded(seed: int):
    """Build inputs and modules from a fixed seed without touching the learner's random state."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def clones(*values) -> tuple:
    """Fresh copies of the tensors, so a learner's in-place edit cannot change the checker's."""
    return tuple(v.clone() if isinstance(v, torch.Tensor) else v for v in values)


def randn(seed: int, *shape: int) -> torch.Tensor:
    """Seeded standard-normal numbers of the given shape."""
    with seeded(seed):
        return torch.randn(*shape)


def seeded_module(module_class, config: BertConfig, seed: int, norms: tuple[str, ...] = ()):
    """``module_class(config)`` from a seed, in eval mode (no dropout). The LayerNorms named in
    ``norms`` get a scale and shift away from 1 and 0, so that leaving them out shows."""
    with seeded(seed):
        module = module_class(config)
        with torch.no_grad():
            for name in norms:
                norm = module.get_submodule(name)
                norm.weight.normal_(1.0, 0.3)
                norm.bias.normal_(0.0, 0.3)
    return module.eval()


def keep_mask(lengths: list[int], width: int) -> torch.Tensor:
    """(batch, width) bool, True on the first ``length`` positions of each row (real tokens)."""
    return torch.arange(width)[None, :] < torch.tensor(lengths)[:, None]
