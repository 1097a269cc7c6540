# %% [markdown]
# # 08 · The attention explorer: solutions
#
# Solutions to the two exercises of `08_attention_explorer.ipynb`. Try them yourself first.

# %%
# NBVAL_CHECK_OUTPUT
import numpy as np
import torch

import course_lib as cl
from course_lib.checks.explorer import check_rollout, check_sep_share
from course_lib.explorer import attention_rollout, compute_attention_maps, head_pattern_scores

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
# Back to `08_attention_explorer.ipynb`; next, `09_pretraining_bert.ipynb`.
